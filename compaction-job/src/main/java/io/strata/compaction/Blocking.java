package io.strata.compaction;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The compaction worker runs its work on one thread of its own and waits for the stores' futures there;
 * every store call has its own timeout, this is the backstop.
 */
public final class Blocking {
    private static final long WAIT_MS = 120_000;

    private Blocking() {
    }

    public static <T> T await(CompletableFuture<T> future) {
        try {
            return future.get(WAIT_MS, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            throw cause instanceof RuntimeException r ? r : new IllegalStateException(cause);
        } catch (TimeoutException e) {
            throw new IllegalStateException("no answer within " + WAIT_MS + " ms", e);
        }
    }
}
