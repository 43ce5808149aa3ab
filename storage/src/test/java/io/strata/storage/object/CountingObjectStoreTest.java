package io.strata.storage.object;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.storage.object.local.LocalObjectStore;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CountingObjectStoreTest {
    @TempDir
    Path dir;

    @Test
    void requestsAndBytesAreCountedAsABillCountsThem() {
        try (CountingObjectStore store = new CountingObjectStore(new LocalObjectStore(dir))) {
            store.put(ObjectKey.of("a/1"), ByteBuffer.wrap(new byte[100])).join();
            store.put(ObjectKey.of("a/2"), ByteBuffer.wrap(new byte[50])).join();
            store.get(ObjectKey.of("a/1"), ByteRange.of(10, 20)).join();
            store.get(ObjectKey.of("a/2")).join();
            store.listPage("a/", null, 1).join();
            store.delete(Set.of(ObjectKey.of("a/1"), ObjectKey.of("a/2"))).join();
            assertThat(store.puts()).isEqualTo(2);
            assertThat(store.putBytes()).isEqualTo(150);
            assertThat(store.gets()).isEqualTo(2);
            assertThat(store.getBytes()).isEqualTo(70);
            assertThat(store.lists()).isEqualTo(1);
            assertThat(store.deletes()).isEqualTo(2);
            assertThat(store.list("a/").join()).isEmpty();
        }
    }
}
