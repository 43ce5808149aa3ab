package io.strata.launcher;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** Waiting for a condition that nothing signals: a process's exit, a port, a readiness answer. */
final class Polls {
    private Polls() {
    }

    /**
     * Asks {@code condition} every {@code everyMillis} until it holds (true) or {@code timeout} passes (false); an
     * interrupt ends the wait too (false, the thread's interrupt status kept).
     */
    static boolean until(Duration timeout, long everyMillis, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                TimeUnit.MILLISECONDS.sleep(everyMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }
}
