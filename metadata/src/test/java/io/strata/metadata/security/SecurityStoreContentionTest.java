package io.strata.metadata.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.strata.metadata.KeyLayout;
import io.strata.metadata.MetadataException;
import io.strata.metadata.embedded.EmbeddedKvStore;
import io.strata.metadata.kv.ForwardingKvStore;
import io.strata.metadata.kv.KvGuard;
import io.strata.metadata.kv.KvOp;
import io.strata.metadata.kv.KvStore;
import io.strata.metadata.kv.TxnResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A user, quota or rule whose key another writer changes before every guarded write of this store: each change is
 * decided again on what the other wrote, but only so often, then given up with an error the caller may retry
 * (rather than retried for as long as the other writer keeps writing).
 */
class SecurityStoreContentionTest {
    @TempDir
    Path dir;
    private EmbeddedKvStore embedded;
    private Contended kv;
    private KvSecurityStore security;

    @BeforeEach
    void open() {
        embedded = EmbeddedKvStore.open(dir);
        kv = new Contended(embedded);
        security = new KvSecurityStore(kv, new KeyLayout(""));
    }

    @AfterEach
    void close() {
        embedded.close();
    }

    @Test
    @Timeout(30)
    void aUserAQuotaAndARemovalWhoseKeyKeepsChangingAreGivenUpAfterABoundedNumberOfAttempts() {
        User user = new User("ann", new ScramCredential(4096, new byte[16], new byte[] {1}, new byte[] {2}),
                List.of(), 0);
        security.putUser(user, true).join();
        kv.contended = true;
        for (Runnable change : List.<Runnable>of(() -> security.putUser(user, true).join(),
                () -> security.removeUser("ann").join(),
                () -> security.putQuota(new Quota("User:ann", 1000, 0, 0)).join(),
                () -> security.setCredential("ann", user.credential(), 0).join())) {
            kv.writes.set(0);
            assertThatThrownBy(change::run).isInstanceOf(CompletionException.class)
                    .cause().isInstanceOf(MetadataException.class).hasMessageContaining("kept changing")
                    .matches(e -> ((MetadataException) e).retryable());
            assertThat(kv.writes.get()).as("guarded writes tried").isEqualTo(KvSecurityStore.ATTEMPTS);
        }
        kv.contended = false;
        assertThat(security.removeUser("ann").join()).as("once the other writer stops").isTrue();
    }

    /** The embedded store, where another writer changes a key just before each guarded write of it. */
    private static final class Contended extends ForwardingKvStore {
        volatile boolean contended;
        final AtomicInteger writes = new AtomicInteger();

        Contended(KvStore kv) {
            super(kv);
        }

        @Override
        public CompletableFuture<TxnResult> txn(List<KvGuard> guards, List<KvOp> ops) {
            if (!contended || guards.isEmpty()) {
                return delegate.txn(guards, ops);
            }
            writes.incrementAndGet();
            String key = guards.get(0).key();
            // A real write of the key by someone else first: the guard read before it no longer holds. Chained, not
            // waited for: the store answers on its one writer thread, where a retry may be running this.
            return delegate.get(key).thenCompose(v -> delegate.txn(List.of(), List.of(new KvOp.Put(key,
                            v.map(x -> x.value()).orElse("other".getBytes(StandardCharsets.UTF_8))))))
                    .thenCompose(x -> delegate.txn(guards, ops));
        }
    }
}
