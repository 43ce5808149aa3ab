package io.strata.client;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * How Produce calls are retried when a node answers UNAVAILABLE or RESOURCE_EXHAUSTED (or cannot be
 * reached): at most {@code maxAttempts} attempts in all, waiting a random time up to a back-off that
 * starts at {@code initialBackoff} and doubles up to {@code maxBackoff}. The per-call deadline bounds all
 * attempts together. gRPC's own retry machinery carries it out (see {@link #toServiceConfig()}), so the
 * retried request is the one already built, and a node's "grpc-retry-pushback-ms" answer is honoured.
 *
 * <p>With an idempotent producer (the default) a retried request is stored once; without, a retry after an
 * UNAVAILABLE whose commit outcome is unknown can store the records twice: at-least-once.
 */
public record RetryPolicy(int maxAttempts, Duration initialBackoff, Duration maxBackoff) {
    public static final RetryPolicy DEFAULT = new RetryPolicy(5, Duration.ofMillis(100), Duration.ofSeconds(2));
    /** One attempt only. */
    public static final RetryPolicy NONE = new RetryPolicy(1, Duration.ofMillis(100), Duration.ofMillis(100));

    public RetryPolicy {
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be at least 1, not " + maxAttempts);
        }
        if (initialBackoff.toMillis() < 1 || maxBackoff.compareTo(initialBackoff) < 0) {
            throw new IllegalArgumentException("need 1 ms <= initialBackoff <= maxBackoff, got "
                    + initialBackoff + " and " + maxBackoff);
        }
    }

    /** The gRPC service config (JSON as maps, numbers as doubles) that applies this policy to Produce only. */
    Map<String, Object> toServiceConfig() {
        Map<String, Object> name = Map.of("service", "strata.v1.ProducerService", "method", "Produce");
        Map<String, Object> init = Map.of("service", "strata.v1.ProducerService", "method", "InitProducer");
        Map<String, Object> retry = Map.of(
                "maxAttempts", (double) maxAttempts,
                "initialBackoff", seconds(initialBackoff),
                "maxBackoff", seconds(maxBackoff),
                "backoffMultiplier", 2.0,
                "retryableStatusCodes", List.of("UNAVAILABLE", "RESOURCE_EXHAUSTED"));
        Map<String, Object> method = maxAttempts == 1 ? Map.of("name", List.of(name, init))
                : Map.of("name", List.of(name, init), "retryPolicy", retry);
        return Map.of("methodConfig", List.of(method));
    }

    private static String seconds(Duration d) {
        return (d.toMillis() / 1000.0) + "s";
    }
}
