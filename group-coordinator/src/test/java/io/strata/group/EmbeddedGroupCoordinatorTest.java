package io.strata.group;

import io.strata.metadata.MetadataStore;
import io.strata.metadata.MetadataStores;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The coordinator over the embedded metadata store. */
class EmbeddedGroupCoordinatorTest extends GroupCoordinatorContract {
    @TempDir
    Path dir;

    @Override
    protected MetadataStore newStore() {
        return MetadataStores.embedded(dir.resolve("metadata"), 8);
    }
}
