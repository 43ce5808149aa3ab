package io.strata.cli;

import io.strata.client.ServerAddress;
import io.strata.launcher.Installation;
import io.strata.launcher.LocalCluster;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * Which nodes the command line talks to: the {@code --server} list, else {@code STRATA_SERVER}, else the nodes
 * of the local cluster ({@code strata cluster up}) whose processes run, else {@link ServerAddress#DEFAULT}. Of
 * several, the first that accepts a TCP connection goes first and the others follow in their order: the client
 * starts on a node that is up and moves to the others should it go down (any node describes the whole cluster
 * to the client, and calls any node answers are tried on each node known before a command gives up).
 */
final class ServerChoice {
    private static final int CONNECT_TIMEOUT_MS = 500;

    private ServerChoice() {
    }

    /**
     * The local cluster's TLS and super-user, when the nodes chosen are those of a cluster made with
     * {@code strata cluster up --secure} (not given by --server or STRATA_SERVER).
     */
    static java.util.Optional<io.strata.launcher.tls.LocalSecurity> localSecurity(List<ServerAddress> given) {
        String env = System.getenv(ServerAddress.ENV);
        if ((given != null && !given.isEmpty()) || (env != null && !env.isBlank())) {
            return java.util.Optional.empty();
        }
        Installation installation = Installation.fromSystem();
        LocalCluster cluster = new LocalCluster(LocalCluster.defaultDir(installation), installation, line -> { });
        return cluster.clientAddresses().isEmpty() ? java.util.Optional.empty() : cluster.security();
    }

    static List<ServerAddress> choose(List<ServerAddress> given) {
        List<ServerAddress> candidates = List.copyOf(new LinkedHashSet<>(
                given != null && !given.isEmpty() ? given : defaults()));
        if (candidates.size() == 1) {
            return candidates;
        }
        ServerAddress first = candidates.stream().filter(ServerChoice::accepts).findFirst().orElse(candidates.get(0));
        List<ServerAddress> ordered = new ArrayList<>(List.of(first));
        candidates.stream().filter(a -> !a.equals(first)).forEach(ordered::add);
        return List.copyOf(ordered);
    }

    private static List<ServerAddress> defaults() {
        String env = System.getenv(ServerAddress.ENV);
        if (env != null && !env.isBlank()) {
            return ServerAddress.parseList(env);
        }
        Installation installation = Installation.fromSystem();
        List<String> cluster = new LocalCluster(LocalCluster.defaultDir(installation), installation, line -> { })
                .clientAddresses();
        return cluster.isEmpty() ? List.of(ServerAddress.DEFAULT) : cluster.stream().map(ServerAddress::parse).toList();
    }

    private static boolean accepts(ServerAddress address) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(address.host(), address.port()), CONNECT_TIMEOUT_MS);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
