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

    public static void record(Identity who, String address, String action, String resource, String outcome) {
        if (!LOG.isInfoEnabled()) {
            return;
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

    private static StringBuilder field(StringBuilder line, String name, String value) {
        line.append('"').append(name).append("\":\"");
        String v = value == null ? "" : value.length() > 512 ? value.substring(0, 512) + "…" : value;
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            switch (c) {
                case '"' -> line.append("\\\"");
                case '\\' -> line.append("\\\\");
                case '\n' -> line.append("\\n");
                case '\r' -> line.append("\\r");
                case '\t' -> line.append("\\t");
                default -> {
                    if (c < 0x20) {
                        line.append(String.format("\\u%04x", (int) c));
                    } else {
                        line.append(c);
                    }
                }
            }
        }
        return line.append('"');
    }
}
