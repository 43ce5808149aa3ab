package io.strata.console.api;

import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Whether an HTTP request may call the door, decided before anything else, from what a browser cannot be made to
 * forge by another site: a JSON content type (a cross-site form cannot send one without the browser asking the
 * node first, and the door answers no such question), an Origin that is the node as the browser addressed it, and
 * a Host the node answers to. The last one stops DNS rebinding: a page of evil.example whose name was made to point
 * at 127.0.0.1 sends "Host: evil.example:9401" and a matching Origin, and is refused here, since the node answers
 * only to IP addresses, localhost, its advertised host and the names it was given.
 */
public final class CallerChecks {
    private CallerChecks() {
    }

    /** Why the call is refused (HTTP 415 for the content type, 403 for the rest), or empty. */
    public static Optional<Refusal> refusal(String contentType, String origin, String host, Set<String> allowedHosts) {
        if (contentType == null || !contentType.toLowerCase(Locale.ROOT).startsWith("application/json")) {
            return Optional.of(new Refusal(415, "the console's API takes Content-Type: application/json"));
        }
        String name = hostName(host);
        if (name == null || !(ipLiteral(name) || name.equals("localhost") || allowedHosts.contains(name))) {
            return Optional.of(new Refusal(403, "this node does not answer to the name " + host + " (a name it "
                    + "should answer to goes in strata.console.allowed-hosts)"));
        }
        if (origin != null && !sameOrigin(origin, host)) {
            return Optional.of(new Refusal(403, "a call from another site (" + origin + ") is not taken"));
        }
        return Optional.empty();
    }

    /** A refusal: its HTTP status and why. */
    public record Refusal(int status, String message) {
    }

    /** Whether the page's origin ("http://host:port") is the node as the browser addressed it. */
    static boolean sameOrigin(String origin, String host) {
        int scheme = origin.indexOf("://");
        return host != null && scheme > 0 && origin.substring(scheme + 3).equalsIgnoreCase(host);
    }

    /** The name in a Host header, without its port, lower case; null when there is none. */
    static String hostName(String host) {
        if (host == null || host.isBlank()) {
            return null;
        }
        String h = host.trim().toLowerCase(Locale.ROOT);
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            return end > 0 ? h.substring(0, end + 1) : null;
        }
        int colon = h.lastIndexOf(':');
        return colon >= 0 ? h.substring(0, colon) : h;
    }

    /** An IPv4 address or a bracketed IPv6 one: no DNS name a page could rebind. */
    static boolean ipLiteral(String name) {
        return name.matches("\\d{1,3}(\\.\\d{1,3}){3}")
                || name.contains(":") && name.matches("\\[?[0-9a-f:.]+\\]?"); // IPv6, bracketed or not
    }
}
