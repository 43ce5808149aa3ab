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

    @org.junit.jupiter.api.Test
    void renewalsOutliveTheGrpcCallThatStartedThem() {
        long lease = kv.grantSessionLease(Duration.ofSeconds(30)).join();
        io.grpc.Context.CancellableContext call = io.grpc.Context.current().withCancellation();
        io.grpc.Context previous = call.attach();
        try {
            org.assertj.core.api.Assertions.assertThat(kv.renewLease(lease).join()).isTrue(); // opens the stream
        } finally {
            call.detach(previous);
            call.cancel(null); // the heartbeat call that opened it ends
        }
        org.assertj.core.api.Assertions.assertThat(kv.renewLease(lease).join()).isTrue();
        kv.revokeLease(lease).join();
    }

    @Override
    protected String freshPrefix() {
        return "/kv-contract-" + ProcessHandle.current().pid() + "-" + PREFIXES.incrementAndGet() + "/";
    }
}
