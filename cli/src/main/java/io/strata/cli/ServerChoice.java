package io.strata.cli;

import io.strata.client.ServerAddress;
import io.strata.launcher.Installation;
import io.strata.launcher.LocalCluster;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Arrays;
import java.util.List;

/**
 * Which node the command line talks to: the {@code --server} list, else {@code STRATA_SERVER}, else the nodes of
 * the local cluster ({@code strata cluster up}) whose processes run, else {@link ServerAddress#DEFAULT}. Of
 * several, the first that accepts a TCP connection, so that a list survives a node that is down (any node
 * describes the whole cluster to the client).
 */
final class ServerChoice {
    private static final int CONNECT_TIMEOUT_MS = 500;

    private ServerChoice() {
    }

    static ServerAddress choose(List<ServerAddress> given) {
        List<ServerAddress> candidates = given != null && !given.isEmpty() ? given : defaults();
        if (candidates.size() == 1) {
            return candidates.get(0);
        }
        return candidates.stream().filter(ServerChoice::accepts).findFirst().orElse(candidates.get(0));
    }

    private static List<ServerAddress> defaults() {
        String env = System.getenv(ServerAddress.ENV);
        if (env != null && !env.isBlank()) {
            return Arrays.stream(env.split(",")).map(String::trim).filter(a -> !a.isEmpty())
                    .map(ServerAddress::parse).toList();
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
