package io.strata.metadata.share;

import io.strata.metadata.MetadataStore;
import io.strata.metadata.MetadataStores;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The share state contract on the embedded store. */
class EmbeddedShareStateStoreTest extends ShareStateStoreContract {
    @TempDir
    Path dir;

    @Override
    protected MetadataStore newStore() {
        return MetadataStores.embedded(dir.resolve("metadata"), 4);
    }
}
