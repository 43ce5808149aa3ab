package io.strata.server.security;

import io.strata.security.Identity;
import java.time.Instant;
import org.jboss.logging.Logger;

/**
 * Admin actions and denials, one JSON object per line on the logger {@value #CATEGORY}, which operators route to
 * a file or stdout of its own (docs/security.md): time, principal, address, action, resource, outcome.
 */
public final class AuditLog {
    public static final String CATEGORY = "strata.audit";
    private static final Logger LOG = Logger.getLogger(CATEGORY);

    private AuditLog() {
    }

    /** Denials and failed sign-ins written per second at most; the rest are counted and said in one line. */
    static final int MAX_REFUSALS_PER_SECOND = 100;
    private static long windowSecond;
    private static int windowLines;
    private static long suppressed;

    public static void record(Identity who, String address, String action, String resource, String outcome) {
        if (!LOG.isInfoEnabled()) {
            return;
        }
        if (!outcome.equals("ok") && !outcome.startsWith("failed") && !admit()) {
            return; // a flood of refusals (a scan, a guessing client) must not fill the disk
        }
        StringBuilder line = new StringBuilder(160).append('{');
        field(line, "time", Instant.now().toString()).append(',');
        field(line, "principal", who.principal()).append(',');
        field(line, "via", who.via()).append(',');
        field(line, "address", address).append(',');
        field(line, "action", action).append(',');
        field(line, "resource", resource).append(',');
        field(line, "outcome", outcome).append('}');
        LOG.info(line);
    }

    /** Whether this refusal may be written; says how many were not, once a second has passed. */
    private static boolean admit() {
        long second = System.nanoTime() / 1_000_000_000L;
        long dropped = 0;
        boolean admitted;
        synchronized (AuditLog.class) {
            if (second != windowSecond) {
                windowSecond = second;
                windowLines = 0;
                dropped = suppressed;
                suppressed = 0;
            }
            admitted = ++windowLines <= MAX_REFUSALS_PER_SECOND;
            if (!admitted) {
                suppressed++;
            }
        }
        if (dropped > 0) {
            LOG.info("{\"time\":\"" + Instant.now() + "\",\"suppressed\":" + dropped
                    + ",\"outcome\":\"refusals over " + MAX_REFUSALS_PER_SECOND + " a second not written\"}");
        }
        return admitted;
    }

    private static StringBuilder field(StringBuilder line, String name, String value) {
        line.append('"').append(name).append("\":\"");
        if (io.strata.metadata.InputText.appendEscaped(line, value == null ? "" : value, 512)) {
            line.append('…');
        }
        return line.append('"');
    }
}
