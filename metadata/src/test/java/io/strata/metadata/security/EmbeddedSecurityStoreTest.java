package io.strata.metadata.security;

import io.strata.metadata.MetadataStore;
import io.strata.metadata.MetadataStores;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The security store contract on the embedded store. */
class EmbeddedSecurityStoreTest extends SecurityStoreContract {
    @TempDir
    Path dir;

    @Override
    protected MetadataStore newStore() {
        return MetadataStores.embedded(dir.resolve("metadata"), 4);
    }
}
