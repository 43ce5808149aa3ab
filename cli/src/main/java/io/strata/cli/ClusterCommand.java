package io.strata.cli;

import io.strata.launcher.Installation;
import io.strata.launcher.LauncherException;
import io.strata.launcher.LocalCluster;
import io.strata.launcher.MemberStatus;
import io.strata.launcher.Role;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code strata cluster up|status|kill|stop|start|down}: a distributed Strata on this machine, as separate
 * processes (etcd, S3Proxy, ingest, fetch and compaction nodes), for trying it out and for tests.
 */
@Command(name = "cluster", mixinStandardHelpOptions = true,
        description = "Runs a distributed Strata on this machine: etcd, an S3-compatible server (S3Proxy), ingest, "
                + "fetch and compaction nodes as separate processes on loopback, logs and data under one folder. "
                + "While it is up, the other commands use it by default.",
        subcommands = {ClusterCommand.Up.class, ClusterCommand.Status.class, ClusterCommand.Kill.class,
                ClusterCommand.Stop.class, ClusterCommand.Start.class, ClusterCommand.Down.class})
final class ClusterCommand {

    /** The options every subcommand has, and what they share. */
    abstract static class Base implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Option(names = "--dir", paramLabel = "DIR",
                description = "The cluster's folder (default: env STRATA_CLUSTER_DIR, else 'cluster' in the Strata "
                        + "source tree).")
        Path dir;

        @Override
        public final Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            Installation installation = Installation.fromSystem();
            LocalCluster cluster = new LocalCluster(dir != null ? dir : LocalCluster.defaultDir(installation),
                    installation, line -> {
                        out.println(line);
                        out.flush();
                    });
            try {
                return run(cluster, out);
            } catch (LauncherException | IllegalArgumentException e) {
                out.flush();
                spec.commandLine().getErr().println("strata cluster: " + e.getMessage());
                return 1;
            }
        }

        abstract int run(LocalCluster cluster, PrintWriter out);
    }

    /** A subcommand about one process of the cluster. */
    abstract static class Named extends Base {
        @Parameters(paramLabel = "NAME", description = "The process, as 'status' names it.")
        String name;
    }

    @Command(name = "up", mixinStandardHelpOptions = true,
            description = "Starts the cluster (a stopped one in the folder comes back as it was), waits until every "
                    + "process is ready, prints them, and prints the address clients use as the last line.")
    static final class Up extends Base {
        @Option(names = "--ingest", paramLabel = "N", defaultValue = "1", description = "Ingest nodes (default 1).")
        int ingest;
        @Option(names = "--fetch", paramLabel = "M", defaultValue = "1", description = "Fetch nodes (default 1).")
        int fetch;
        @Option(names = "--compaction", negatable = true, defaultValue = "true", fallbackValue = "true",
                description = "Run a compaction node (default); --no-compaction leaves it out (benchmarks).")
        boolean compaction;
        @Option(names = "--java-options", paramLabel = "ROLE=OPTIONS",
                description = "JVM options of a role's nodes, e.g. ingest='-Xms2g -Xmx2g' (default: -Xmx1g; "
                        + "options that size no heap get -Xmx2g). Repeatable.")
        java.util.Map<String, String> javaOptions = new java.util.HashMap<>();
        @Option(names = "--s3-latency", paramLabel = "MODEL",
                description = "Put a network proxy between the nodes and S3Proxy that holds each answer back as S3 "
                        + "across a network would: s3-standard (PUT p50 100 / p99 350 ms, GET 30 / 80 ms), or "
                        + "put=P50/P99,get=P50/P99 in ms. Default: none.")
        String s3Latency;
        @Option(names = "--secure", description = "TLS on every port (a CA of the cluster's own), authentication "
                + "required, and a super-user 'admin' whose credentials this command line uses while the cluster "
                + "is up (docs/security.md).")
        boolean secure;

        @Override
        int run(LocalCluster cluster, PrintWriter out) {
            java.util.Map<Role, List<String>> options = new java.util.HashMap<>();
            javaOptions.forEach((role, value) -> {
                Role r;
                try {
                    r = Role.ofLabel(role.trim());
                } catch (IllegalArgumentException e) {
                    r = null;
                }
                if (r == null || !r.isNode()) {
                    throw new LauncherException("--java-options: '" + role + "' is not a node role (ingest, fetch, "
                            + "compaction)");
                }
                options.put(r, List.of(value.trim().split("\\s+")));
            });
            List<MemberStatus> rows = cluster.up(new LocalCluster.Options(ingest, fetch, compaction, options, s3Latency,
                    secure));
            print(rows, out);
            var security = cluster.security();
            if (security.isPresent()) {
                out.println("TLS with the CA " + security.get().caPem() + "; authentication required. The strata "
                        + "command line signs in as " + security.get().user() + " (password in "
                        + security.get().passwordFile() + ") while the cluster is up; other clients need the CA and "
                        + "a user (strata users add).");
            }
            List<String> kafka = cluster.kafkaAddresses();
            if (!kafka.isEmpty()) {
                out.println("Kafka clients: bootstrap.servers=" + String.join(",", kafka));
            }
            // The last line, as the help says: scripts take the addresses from it (tail -1).
            out.println("clients: the strata command line uses this cluster while it is up; elsewhere, connect to");
            out.println(String.join(",", cluster.clientAddresses()));
            return 0;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "Shows each process, its pid, address and health; exits 1 if one is not up.")
    static final class Status extends Base {
        @picocli.CommandLine.Mixin
        OutputOption output;

        @Override
        int run(LocalCluster cluster, PrintWriter out) {
            List<MemberStatus> rows = cluster.status();
            if (output.json()) {
                out.println(Json.of(rows.stream().map(r -> {
                    java.util.Map<String, Object> m = new java.util.LinkedHashMap<>();
                    m.put("name", r.member().name());
                    m.put("role", r.member().role().label());
                    m.put("pid", r.pid() == 0 ? null : r.pid());
                    m.put("address", r.member().address());
                    m.put("http", r.member().httpAddress());
                    m.put("health", r.health().label());
                    m.put("log", r.member().log().toString());
                    return m;
                }).toList()));
            } else {
                print(rows, out);
            }
            return rows.stream().allMatch(r -> r.health() == MemberStatus.Health.UP) ? 0 : 1;
        }
    }

    @Command(name = "kill", mixinStandardHelpOptions = true,
            description = "SIGKILLs one process, as a crash would (ingest-1, fetch-2, compaction, etcd, s3).")
    static final class Kill extends Named {

        @Override
        int run(LocalCluster cluster, PrintWriter out) {
            cluster.kill(name);
            out.printf("killed %s%n", name);
            return 0;
        }
    }

    @Command(name = "stop", mixinStandardHelpOptions = true,
            description = "Stops one process as Kubernetes stops a pod: SIGTERM (a node drains and commits what it "
                    + "holds), SIGKILL after the grace period. With 'start', a rolling restart by hand.")
    static final class Stop extends Named {
        @Option(names = "--grace-seconds", paramLabel = "S", defaultValue = "30",
                description = "How long it may take before it is killed (default 30).")
        long graceSeconds;

        @Override
        int run(LocalCluster cluster, PrintWriter out) {
            return cluster.stop(name, graceSeconds) ? 0 : 1;
        }
    }

    @Command(name = "start", mixinStandardHelpOptions = true,
            description = "Starts a process that is down again, with its ports and data, and waits until it is ready.")
    static final class Start extends Named {

        @Override
        int run(LocalCluster cluster, PrintWriter out) {
            print(List.of(cluster.start(name)), out);
            return 0;
        }
    }

    @Command(name = "down", mixinStandardHelpOptions = true,
            description = "Stops every process of the cluster (nodes first, with SIGTERM: they commit what they "
                    + "hold). Data and logs stay for the next 'up' unless --delete is given.")
    static final class Down extends Base {
        @Option(names = "--delete", description = "Also delete the cluster's folder: its data and logs.")
        boolean delete;
        @Option(names = "--grace-seconds", paramLabel = "S", defaultValue = "30",
                description = "How long a process may take to stop before it is killed (default 30).")
        long graceSeconds;

        @Override
        int run(LocalCluster cluster, PrintWriter out) {
            int stopped = cluster.down(graceSeconds);
            if (delete) {
                cluster.delete();
                out.printf("stopped %d processes; deleted %s%n", stopped, cluster.dir());
            } else {
                out.printf("stopped %d processes; data and logs stay in %s%n", stopped, cluster.dir());
            }
            return 0;
        }
    }

    static void print(List<MemberStatus> rows, PrintWriter out) {
        int name = Math.max(4, rows.stream().mapToInt(r -> r.member().name().length()).max().orElse(0));
        String row = "%-" + name + "s  %-10s  %7s  %-15s  %-15s  %-9s  %s%n";
        out.printf(row, "NAME", "ROLE", "PID", "ADDRESS", "HTTP", "HEALTH", "LOG");
        for (MemberStatus r : rows) {
            out.printf(row, r.member().name(), r.member().role().label(), r.pid() == 0 ? "-" : Long.toString(r.pid()),
                    r.member().address(), r.member().httpAddress(), r.health().label(), r.member().log());
        }
    }
}
