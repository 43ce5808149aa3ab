package io.strata.metadata.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.metadata.kv.KvOp;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded store's files stay bounded under a write load that never ends, as Strata's is (every block
 * commit writes, compaction deletes): the log is folded into a snapshot of the live keys whenever it passes
 * its limit, and what was written reads back the same after a restart.
 */
class EmbeddedLogBoundTest {
    @TempDir
    Path dir;

    @Test
    void theLogIsFoldedIntoASnapshotSoTheFilesHoldTheLiveKeysAndAtMostOneLogMore() throws Exception {
        long limit = 256 << 10;
        byte[] value = new byte[500];
        long largest = 0;
        try (EmbeddedKvStore store = EmbeddedKvStore.open(dir, limit)) {
            for (int i = 0; i < 20_000; i++) {
                // A moving window of 100 live keys: each write adds one and deletes the oldest, as merges do.
                List<KvOp> ops = i < 100 ? List.of(new KvOp.Put("k/" + i, value))
                        : List.of(new KvOp.Put("k/" + i, value), new KvOp.Delete("k/" + (i - 100)));
                store.txn(List.of(), ops).join();
                largest = Math.max(largest, files());
            }
            assertThat(store.get("k/19999").join()).isPresent();
            assertThat(store.get("k/19899").join()).isEmpty();
        }
        // 20,000 writes of 500 bytes went through: about 10 MB, of which 50 kB stay live.
        assertThat(largest).as("snapshot + log never far above the limit").isLessThan(limit + 2 * 100 * 600 + 4096);
        try (EmbeddedKvStore reopened = EmbeddedKvStore.open(dir, limit)) {
            assertThat(reopened.range("k/").join().entries()).hasSize(100);
            assertThat(reopened.get("k/19950").join()).isPresent();
        }
    }

    private long files() throws Exception {
        long bytes = 0;
        for (String name : List.of(KvFiles.SNAPSHOT_FILE, KvFiles.LOG_FILE)) {
            Path p = dir.resolve(name);
            bytes += Files.exists(p) ? Files.size(p) : 0;
        }
        return bytes;
    }
}
