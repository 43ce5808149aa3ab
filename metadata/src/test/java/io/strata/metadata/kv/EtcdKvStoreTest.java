package io.strata.metadata.kv;

import io.strata.metadata.etcd.EtcdKvStore;
import io.strata.testkit.etcd.EtcdFixture;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** The KV contract over the network against a real etcd, started by the testkit fixture. */
class EtcdKvStoreTest extends KvStoreContract {
    private static final AtomicInteger PREFIXES = new AtomicInteger();

    @Override
    protected KvStore newStore() {
        return EtcdKvStore.connect(List.of(EtcdFixture.shared().endpoint()), Duration.ofSeconds(10));
    }

    @Override
    protected String freshPrefix() {
        return "/kv-contract-" + ProcessHandle.current().pid() + "-" + PREFIXES.incrementAndGet() + "/";
    }
}
