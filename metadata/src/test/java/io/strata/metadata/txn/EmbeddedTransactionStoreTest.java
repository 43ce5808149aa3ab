package io.strata.metadata.txn;

import io.strata.metadata.MetadataStore;
import io.strata.metadata.MetadataStores;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The transaction store contract on the embedded store. */
class EmbeddedTransactionStoreTest extends TransactionStoreContract {
    @TempDir
    Path dir;

    @Override
    protected MetadataStore newStore() {
        return MetadataStores.embedded(dir.resolve("metadata"), 4);
    }
}
