package io.strata.metadata.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.strata.metadata.MetadataException;
import io.strata.metadata.kv.KvOp;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the embedded store does with a damaged log at start: a record cut short at the very end (a crash in
 * the middle of a write) is dropped; damage anywhere else, with acknowledged transactions after it, refuses
 * to open instead of silently dropping them.
 */
class EmbeddedLogRecoveryTest {
    @TempDir
    Path dir;
    private Path log;

    @BeforeEach
    void threeTransactions() {
        try (EmbeddedKvStore store = EmbeddedKvStore.open(dir)) {
            for (String key : List.of("a", "b", "c")) {
                store.txn(List.of(), List.of(new KvOp.Put(key, key.getBytes(StandardCharsets.UTF_8)))).join();
            }
        }
        log = dir.resolve(KvFiles.LOG_FILE);
    }

    @Test
    void aLastRecordCutShortIsDroppedAndTheRestKept() throws Exception {
        byte[] bytes = Files.readAllBytes(log);
        Files.write(log, java.util.Arrays.copyOf(bytes, bytes.length - 3));

        try (EmbeddedKvStore store = EmbeddedKvStore.open(dir)) {
            assertThat(store.get("a").join()).isPresent();
            assertThat(store.get("b").join()).isPresent();
            assertThat(store.get("c").join()).isEmpty();
        }
    }

    @Test
    void aDamagedLengthInTheMiddleRefusesToOpenAndKeepsTheLog() throws Exception {
        byte[] before = damageSecondLength(Integer.MAX_VALUE);

        assertThatThrownBy(() -> EmbeddedKvStore.open(dir)).isInstanceOf(MetadataException.class)
                .hasMessageContaining("corrupt record length").hasMessageContaining("refusing to open");
        assertThat(Files.readAllBytes(log)).as("nothing truncated").isEqualTo(before);
    }

    @Test
    void aNegativeLengthInTheMiddleRefusesToOpenToo() throws Exception {
        damageSecondLength(-5);

        assertThatThrownBy(() -> EmbeddedKvStore.open(dir)).isInstanceOf(MetadataException.class)
                .hasMessageContaining("refusing to open");
    }

    /** Overwrites the length field of the log's second record; answers the damaged file's bytes. */
    private byte[] damageSecondLength(int length) throws Exception {
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(log));
        int second = 8 + bytes.getInt(0);
        bytes.putInt(second, length);
        Files.write(log, bytes.array());
        return bytes.array();
    }
}
