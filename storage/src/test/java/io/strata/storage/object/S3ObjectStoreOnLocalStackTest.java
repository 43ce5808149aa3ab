package io.strata.storage.object;

import io.strata.testkit.containers.Containers;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;

/** The object store contract against LocalStack's S3 in a container ({@code -Pcontainers}; needs Docker). */
@Tag("containers")
class S3ObjectStoreOnLocalStackTest extends ObjectStoreContract {
    private static final AtomicInteger BUCKETS = new AtomicInteger();

    @Override
    protected ObjectStore newStore() {
        return S3ObjectStoreOnMinioTest.onServer(Containers.localstack(), "localstack-contract-" + BUCKETS.incrementAndGet());
    }

    /** LocalStack keeps what encryption a put asked for, as S3 does: the object says SSE-S3. */
    @org.junit.jupiter.api.Test
    void putsAskForTheServerSideEncryptionConfigured() throws Exception {
        try (io.strata.storage.object.s3.S3ObjectStore plain = (io.strata.storage.object.s3.S3ObjectStore) newStore()) {
            io.strata.storage.object.s3.S3Settings base = plain.settings();
            io.strata.storage.object.s3.S3Settings encrypted = new io.strata.storage.object.s3.S3Settings(base.endpoint(),
                    base.region(), base.bucket(), base.prefix(), base.accessKey(), base.secretKey(), base.pathStyle(),
                    base.requestTimeout(), base.maxConcurrency(), base.conditionalWrites(),
                    java.util.Optional.of("AES256"), java.util.Optional.empty());
            try (io.strata.storage.object.s3.S3ObjectStore store = new io.strata.storage.object.s3.S3ObjectStore(encrypted)) {
                store.ensureBucket().join();
                store.put(ObjectKey.of("wal/sse"), java.nio.ByteBuffer.wrap(new byte[] {1, 2, 3})).join();
                org.assertj.core.api.Assertions.assertThat(store.serverSideEncryptionOf(ObjectKey.of("wal/sse")).join())
                        .contains("AES256");
            }
        }
    }
}
