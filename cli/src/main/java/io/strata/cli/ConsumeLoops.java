package io.strata.cli;

import io.strata.client.StrataException;
import java.io.PrintWriter;

/**
 * What the reading commands ({@code consume}, with a group or without, and {@code share consume}) do when a poll
 * fails: a failure that says no node could serve it now ({@link StrataException#retryable}: every node it knows
 * restarting, a store not answering in time, overload) is reported on one line and the command reads on, keeping
 * its session and positions, as a member of a group must through its nodes' restarts; any other failure ends the
 * command (one that would fail the same every time must not loop for ever).
 */
final class ConsumeLoops {
    /** How long a command waits after such a failure before it polls again. */
    static final long PAUSE_MILLIS = 1_000;

    private ConsumeLoops() {
    }

    /** Whether the command goes on after {@code failure} (said on {@code err}, after a pause); false: it ends. */
    static boolean goesOnAfter(StrataException failure, PrintWriter err) {
        if (!failure.retryable()) {
            return false;
        }
        err.println("strata: " + CliErrors.oneLine(failure, null) + "; reading on once a node serves it");
        err.flush();
        try {
            Thread.sleep(PAUSE_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        return true;
    }
}
