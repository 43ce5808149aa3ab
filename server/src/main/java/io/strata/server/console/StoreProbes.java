package io.strata.server.console;

import io.strata.api.v1.StoreHealth;
import io.strata.server.StrataNode;
import io.strata.server.Stores;
import io.strata.server.config.StrataConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The metadata store and the bucket as this node sees them: a real read of each (the nodes' registrations; one key
 * of the bucket's listing), timed. A probe is shared by the callers of the next few seconds, so a console left open
 * in many browsers costs the stores one read each per period.
 */
@ApplicationScoped
public class StoreProbes {
    private static final long FRESH_MS = 5_000;
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    @Inject
    StrataNode node;
    @Inject
    StrataConfig config;

    private final Probe metadata = new Probe();
    private final Probe objects = new Probe();

    /** The metadata store's health, probed at most every few seconds. */
    public CompletableFuture<StoreHealth> metadata() {
        return metadata.get(() -> probe(config.metadata().type(), Stores.describeMetadata(config),
                () -> node.metadata().listNodes()));
    }

    /** The bucket's health, probed at most every few seconds. */
    public CompletableFuture<StoreHealth> objects() {
        return objects.get(() -> probe(config.objectStore().type(), Stores.describeObjects(config),
                () -> node.objects().listPage("", null, 1)));
    }

    private static CompletableFuture<StoreHealth> probe(String kind, String where, Supplier<CompletableFuture<?>> read) {
        long started = System.nanoTime();
        CompletableFuture<?> done;
        try {
            done = read.get().orTimeout(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RuntimeException e) {
            done = CompletableFuture.failedFuture(e);
        }
        return done.handle((ok, failure) -> {
            StoreHealth.Builder health = StoreHealth.newBuilder().setKind(kind).setCheckedAtMs(System.currentTimeMillis())
                    .setLatencyMs(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
            if (failure == null) {
                return health.setHealthy(true).setDetail(where).build();
            }
            Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
                    ? failure.getCause() : failure;
            String why = cause instanceof java.util.concurrent.TimeoutException ? "no answer in " + TIMEOUT.toSeconds()
                    + " s" : String.valueOf(cause.getMessage());
            return health.setHealthy(false).setDetail(where + ": " + why).build();
        });
    }

    /** One probe's latest answer, reused while fresh; one probe runs at a time. */
    private static final class Probe {
        private CompletableFuture<StoreHealth> latest;
        private long startedAtMs;

        synchronized CompletableFuture<StoreHealth> get(Supplier<CompletableFuture<StoreHealth>> probe) {
            long now = System.currentTimeMillis();
            if (latest == null || (latest.isDone() && now - startedAtMs > FRESH_MS)) {
                startedAtMs = now;
                latest = probe.get();
            }
            return latest;
        }
    }
}
