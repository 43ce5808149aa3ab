package io.strata.storage.object;

import io.strata.storage.object.s3.S3ObjectStore;
import io.strata.storage.object.s3.S3Settings;
import io.strata.testkit.containers.Containers;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;

/** The object store contract against MinIO in a container ({@code -Pcontainers}; needs Docker). */
@Tag("containers")
class S3ObjectStoreOnMinioTest extends ObjectStoreContract {
    private static final AtomicInteger BUCKETS = new AtomicInteger();

    @Override
    protected ObjectStore newStore() {
        return onServer(Containers.minio(), "minio-contract-" + BUCKETS.incrementAndGet());
    }

    static ObjectStore onServer(Containers.S3Server server, String bucket) {
        S3ObjectStore store = new S3ObjectStore(S3Settings.forEndpoint(server.endpoint(), server.region(), bucket,
                server.accessKey(), server.secretKey()));
        store.ensureBucket().join();
        return store;
    }
}
