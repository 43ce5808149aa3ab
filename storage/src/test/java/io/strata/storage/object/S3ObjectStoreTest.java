package io.strata.storage.object;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.storage.object.s3.S3ObjectStore;
import io.strata.storage.object.s3.S3Settings;
import io.strata.testkit.s3.S3ServerFixture;
import java.net.URI;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The object store contract over HTTP against a real S3-compatible server (S3Proxy, started by the fixture). */
class S3ObjectStoreTest extends ObjectStoreContract {
    private static final AtomicInteger BUCKETS = new AtomicInteger();

    @Override
    protected ObjectStore newStore() {
        S3ServerFixture s3 = S3ServerFixture.shared();
        String bucket = "contract-" + ProcessHandle.current().pid() + "-" + BUCKETS.incrementAndGet();
        S3ObjectStore store = new S3ObjectStore(S3Settings.forEndpoint(s3.endpoint(), s3.region(), bucket,
                s3.accessKey(), s3.secretKey()));
        store.ensureBucket().join();
        return store;
    }

    @Test
    void encryptionSettingsGoWithEveryPutAndBadOnesAreRefusedUpFront() {
        S3ServerFixture s3 = S3ServerFixture.shared();
        String bucket = "sse-" + System.nanoTime();
        s3.createBucket(bucket);
        try (S3ObjectStore store = new S3ObjectStore(new S3Settings(Optional.of(URI.create(s3.endpoint().toString())),
                s3.region(), bucket, "", Optional.of(s3.accessKey()), Optional.of(s3.secretKey()), true,
                Duration.ofSeconds(30), 16, true, Optional.of("AES256"), Optional.empty()))) {
            // S3Proxy implements no server-side encryption and says so for a put that asks for it: the request
            // carries the setting (LocalStack, in the containers profile, stores the object encrypted).
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> store.put(ObjectKey.of("wal/sse"),
                    java.nio.ByteBuffer.wrap(new byte[] {1, 2, 3})).join())
                    .hasMessageContaining("Server-side encryption");
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new S3Settings(Optional.empty(), "us-east-1", "b", "",
                Optional.empty(), Optional.empty(), false, Duration.ofSeconds(1), 1, true, Optional.of("aes"),
                Optional.empty())).hasMessageContaining("AES256, aws:kms or aws:kms:dsse");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new S3Settings(Optional.empty(), "us-east-1", "b", "",
                Optional.empty(), Optional.empty(), false, Duration.ofSeconds(1), 1, true, Optional.of("AES256"),
                Optional.of("key"))).hasMessageContaining("KMS key id");
    }

    @Test
    void closingAStoreEndsItsNetworkThreads() {
        S3ObjectStore mine = (S3ObjectStore) newStore();
        mine.put(ObjectKey.of("wal/threads"), bytes("x")).join();
        java.util.Set<Thread> threads = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith(mine.threadNamePrefix() + "-"))
                .collect(java.util.stream.Collectors.toSet());
        assertThat(threads).as("the store's event loop threads").isNotEmpty();
        mine.close();
        for (Thread t : threads) {
            try {
                t.join(10_000); // close ends the group; a thread's last steps follow its termination future
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
        assertThat(threads).as("event loop threads alive after close").noneMatch(Thread::isAlive);
    }

    @Test
    void aKeyPrefixKeepsTwoClustersInOneBucketApart() {
        S3ServerFixture s3 = S3ServerFixture.shared();
        String bucket = "prefixed-" + ProcessHandle.current().pid();
        try (S3ObjectStore a = prefixed(s3, bucket, "cluster-a"); S3ObjectStore b = prefixed(s3, bucket, "cluster-b/")) {
            a.ensureBucket().join();
            a.put(ObjectKey.of("wal/k"), bytes("from a")).join();
            b.put(ObjectKey.of("wal/k"), bytes("from b")).join();
            assertThat(string(a.get(ObjectKey.of("wal/k")).join())).isEqualTo("from a");
            assertThat(b.list("wal/").join()).extracting(i -> i.key().value()).containsExactly("wal/k");
        }
    }

    @Test
    void transientErrorsAndSlowAnswersOverTheNetworkAreRetriedToSuccess() {
        S3ServerFixture s3 = S3ServerFixture.shared();
        String bucket = "faulty-" + ProcessHandle.current().pid();
        s3.createBucket(bucket);
        try (io.strata.launcher.net.FaultyHttpProxy proxy = new io.strata.launcher.net.FaultyHttpProxy(
                new java.net.InetSocketAddress("127.0.0.1", s3.endpoint().getPort()), 7);
             S3ObjectStore store = new S3ObjectStore(S3Settings.forEndpoint(proxy.endpoint(), s3.region(), bucket,
                     s3.accessKey(), s3.secretKey()))) {
            proxy.faults(new io.strata.launcher.net.FaultyHttpProxy.Faults(0.3, 0.2, 300));
            for (int i = 0; i < 20; i++) {
                ObjectKey key = ObjectKey.of("wal/f/" + i);
                store.put(key, bytes("object " + i)).join();
                assertThat(string(store.get(key, ByteRange.of(0, 6)).join())).isEqualTo("object");
            }
            assertThat(store.list("wal/f/").join()).hasSize(20);
            assertThat(proxy.injectedErrors()).as("faults were injected").isPositive();
            assertThat(proxy.injectedDelays()).isPositive();
        }
    }

    private static S3ObjectStore prefixed(S3ServerFixture s3, String bucket, String prefix) {
        return new S3ObjectStore(new S3Settings(Optional.of(URI.create(s3.endpoint().toString())), s3.region(), bucket,
                prefix, Optional.of(s3.accessKey()), Optional.of(s3.secretKey()), true, Duration.ofSeconds(30), 16,
                true));
    }
}
