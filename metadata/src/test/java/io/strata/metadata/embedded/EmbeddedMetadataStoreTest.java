package io.strata.metadata.embedded;

import io.strata.metadata.MetadataStore;
import io.strata.metadata.MetadataStoreContract;
import io.strata.metadata.MetadataStores;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The metadata contract on the embedded store (a directory of its own per test). */
class EmbeddedMetadataStoreTest extends MetadataStoreContract {
    @TempDir
    Path dir;
    private int opened;

    @Override
    protected MetadataStore newStore(int shards) {
        return MetadataStores.embedded(dir.resolve("metadata-" + (++opened)), shards);
    }

    @Override
    protected MetadataStore reopen(int shards) {
        return MetadataStores.embedded(dir.resolve("metadata-" + opened), shards);
    }
}
