package io.strata.metadata.kv;

import io.strata.metadata.etcd.EtcdKvStore;
import io.strata.testkit.containers.Containers;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;

/** The KV contract against etcd's own image in a container ({@code -Pcontainers}; needs Docker). */
@Tag("containers")
class EtcdContainerKvStoreTest extends KvStoreContract {
    private static final AtomicInteger PREFIXES = new AtomicInteger();

    @Override
    protected KvStore newStore() {
        return EtcdKvStore.connect(List.of(Containers.etcd()), Duration.ofSeconds(10));
    }

    @Override
    protected String freshPrefix() {
        return "/kv-container-contract-" + PREFIXES.incrementAndGet() + "/";
    }
}
