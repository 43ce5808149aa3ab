package io.strata.metadata.embedded;

import io.strata.metadata.CompactionStoreContract;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.MetadataStores;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The compaction contract on the embedded store. */
class EmbeddedCompactionStoreTest extends CompactionStoreContract {
    @TempDir
    Path dir;

    @Override
    protected MetadataStore newStore(int shards) {
        return MetadataStores.embedded(dir.resolve("metadata"), shards);
    }
}
