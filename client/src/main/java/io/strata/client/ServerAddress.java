package io.strata.client;

import java.util.Objects;

/** Where a Strata node listens, as "host:port" ("[::1]:9400" for IPv6 literals). */
public record ServerAddress(String host, int port) {
    public static final ServerAddress DEFAULT = new ServerAddress("127.0.0.1", 9400);
    /** The environment variable that overrides {@link #DEFAULT} for the client builder and the CLI. */
    public static final String ENV = "STRATA_SERVER";

    public ServerAddress {
        Objects.requireNonNull(host, "host");
        if (host.isBlank()) {
            throw new IllegalArgumentException("the server host is empty");
        }
        if (port < 1 || port > 65_535) {
            throw new IllegalArgumentException("the server port must be in 1..65535, not " + port);
        }
    }

    /** Parses "host:port"; the message of the exception is fit to show a user. */
    public static ServerAddress parse(String hostPort) {
        String text = Objects.requireNonNull(hostPort, "hostPort").trim();
        int colon = text.lastIndexOf(':');
        if (colon <= 0 || colon == text.length() - 1) {
            throw new IllegalArgumentException("expected HOST:PORT, got '" + hostPort + "'");
        }
        String host = text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(text.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("expected HOST:PORT with a numeric port, got '" + hostPort + "'");
        }
        return new ServerAddress(host, port);
    }

    /** "host:port[,host:port...]": nodes of one cluster, in order; blank entries are skipped. */
    public static java.util.List<ServerAddress> parseList(String hostPorts) {
        java.util.List<ServerAddress> all = java.util.Arrays.stream(Objects.requireNonNull(hostPorts, "hostPorts")
                .split(",")).map(String::trim).filter(a -> !a.isEmpty()).map(ServerAddress::parse).toList();
        if (all.isEmpty()) {
            throw new IllegalArgumentException("expected HOST:PORT[,HOST:PORT...], got '" + hostPorts + "'");
        }
        return all;
    }

    /** STRATA_SERVER (one address or a comma-separated list) when set and not blank, else {@link #DEFAULT}. */
    public static java.util.List<ServerAddress> fromEnvironment() {
        String value = System.getenv(ENV);
        return value == null || value.isBlank() ? java.util.List.of(DEFAULT) : parseList(value);
    }

    @Override
    public String toString() {
        return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
    }
}
