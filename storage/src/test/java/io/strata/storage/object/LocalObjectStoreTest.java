package io.strata.storage.object;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.storage.object.local.LocalObjectStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The object store contract on a local directory, plus what only a directory can show. */
class LocalObjectStoreTest extends ObjectStoreContract {
    @TempDir
    Path dir;

    @Override
    protected ObjectStore newStore() {
        return new LocalObjectStore(dir.resolve("objects"));
    }

    @Test
    void objectsSurviveANewStoreOverTheSameDirectory() {
        store.put(ObjectKey.of("wal/ab/k"), bytes("durable")).join();
        store.close();
        store = newStore();
        assertThat(string(store.get(ObjectKey.of("wal/ab/k")).join())).isEqualTo("durable");
    }

    @Test
    void aRefusedPutLeavesNoTemporaryFileBehind() throws Exception {
        ObjectKey key = ObjectKey.of("tmp/k");
        store.put(key, bytes("one")).join();
        try {
            store.put(key, bytes("two")).join();
        } catch (RuntimeException expected) {
            // ObjectExistsException
        }
        try (Stream<Path> files = Files.list(dir.resolve("objects").resolve("tmp"))) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("k");
        }
    }
}
