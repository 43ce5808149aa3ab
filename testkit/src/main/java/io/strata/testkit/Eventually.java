package io.strata.testkit;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Waiting in tests for what another thread (a watch, a timer) makes true, checked often, failing after a bound. */
public final class Eventually {
    private Eventually() {
    }

    /** Waits up to 10 s for {@code condition}; fails the test (AssertionError) when it does not come true. */
    public static void await(BooleanSupplier condition) throws InterruptedException {
        await(condition, Duration.ofSeconds(10), "the condition");
    }

    public static void await(BooleanSupplier condition, Duration limit, String what) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(what + " did not come true within " + limit);
            }
            Thread.sleep(5);
        }
    }
}
