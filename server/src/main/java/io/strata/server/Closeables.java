package io.strata.server;

/**
 * Where a node keeps what its start builds, so that its stop closes everything in reverse order ({@link
 * StrataNode}). Once the stop has begun, what is handed in is closed at once and the start ends with a
 * {@link java.util.concurrent.CancellationException}.
 */
@FunctionalInterface
public interface Closeables {
    /** Keeps {@code closeable} and answers it. */
    <T extends AutoCloseable> T register(T closeable);
}
