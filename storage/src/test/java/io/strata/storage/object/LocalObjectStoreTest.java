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

    @Test
    void aCrashedPutsTemporaryFileIsDeletedOnceOldEnough() throws Exception {
        Path objects = dir.resolve("objects");
        store.put(ObjectKey.of("wal/0a/k"), bytes("kept")).join();
        Path stale = Files.writeString(objects.resolve("wal/0a/~tmp-crashed"), "half a block");
        Path fresh = Files.writeString(objects.resolve("wal/0a/~tmp-writing"), "being written");
        Files.setLastModifiedTime(stale, java.nio.file.attribute.FileTime.from(java.time.Instant.now().minusSeconds(600)));
        assertThat(store.list("").join()).as("listings never show temporary files").hasSize(1);
        assertThat(store.deleteIncomplete(java.time.Instant.now().minusSeconds(60)).join()).isEqualTo(1);
        assertThat(stale).doesNotExist();
        assertThat(fresh).exists();
    }

    @Test
    void deletingTheLastObjectOfADirectoryRemovesTheDirectory() throws Exception {
        Path objects = dir.resolve("objects");
        store.put(ObjectKey.of("wal/0a/k"), bytes("a")).join();
        store.put(ObjectKey.of("wal/0b/k"), bytes("b")).join();
        store.delete(java.util.Set.of(ObjectKey.of("wal/0a/k"))).join();
        assertThat(objects.resolve("wal/0a")).doesNotExist();
        assertThat(objects.resolve("wal/0b/k")).exists();
        store.delete(java.util.Set.of(ObjectKey.of("wal/0b/k"))).join();
        try (Stream<Path> left = Files.list(objects)) {
            assertThat(left).as("an emptied store leaves an empty directory").isEmpty();
        }
        store.put(ObjectKey.of("wal/0a/k2"), bytes("again")).join();
        assertThat(string(store.get(ObjectKey.of("wal/0a/k2")).join())).isEqualTo("again");
    }
}
