package io.strata.metadata.group;

import io.strata.metadata.MetadataStore;
import io.strata.metadata.MetadataStores;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The group contract on the embedded store. */
class EmbeddedGroupStoreTest extends GroupStoreContract {
    @TempDir
    Path dir;

    @Override
    protected MetadataStore newStore() {
        return MetadataStores.embedded(dir.resolve("metadata"), 4);
    }
}
