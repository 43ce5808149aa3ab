package io.strata.metadata.txn;

import io.strata.metadata.MetadataStore;
import io.strata.metadata.MetadataStores;
import io.strata.testkit.etcd.EtcdFixture;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** The transaction store contract against a real etcd over the network (a key root of its own per test). */
class EtcdTransactionStoreTest extends TransactionStoreContract {
    private static final AtomicInteger ROOTS = new AtomicInteger();

    @Override
    protected MetadataStore newStore() {
        String root = "/txn-contract-" + ProcessHandle.current().pid() + "-" + ROOTS.incrementAndGet();
        return MetadataStores.etcd(List.of(EtcdFixture.shared().endpoint()), root, 4, Duration.ofSeconds(10));
    }
}
