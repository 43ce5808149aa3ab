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
}
