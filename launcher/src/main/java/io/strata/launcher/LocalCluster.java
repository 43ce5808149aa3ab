package io.strata.launcher;

import io.strata.launcher.MemberStatus.Health;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * A distributed Strata on this machine, without containers: etcd, S3Proxy, ingest nodes, fetch nodes and a
 * compaction node as separate processes on loopback, each with its log and data in a folder of its own under
 * one directory. The processes outlive the command that started them; the directory's state file lets later
 * commands show, kill, restart and stop them.
 */
public final class LocalCluster {
    /** The bucket the nodes use, and the key root in etcd. */
    public static final String BUCKET = "strata";
    public static final String METADATA_ROOT = "/strata";
    /** How long a node may take to become ready: cold JVMs starting together on two cores take ~15 s. */
    public static final Duration NODE_START_TIMEOUT = Duration.ofSeconds(180);

    private final Path dir;
    private final Installation installation;
    private final Consumer<String> progress;

    /** {@code progress} hears one line per step of a long command ({@code up}, {@code down}). */
    public LocalCluster(Path dir, Installation installation, Consumer<String> progress) {
        this.dir = dir.toAbsolutePath().normalize();
        this.installation = installation;
        this.progress = progress;
    }

    /** {@code STRATA_CLUSTER_DIR} when set, else {@code cluster} in the Strata tree. */
    public static Path defaultDir(Installation installation) {
        String configured = System.getenv("STRATA_CLUSTER_DIR");
        return configured != null && !configured.isBlank() ? Path.of(configured)
                : installation.home().resolve("cluster");
    }

    public Path dir() {
        return dir;
    }

    /** Whether this directory holds a cluster (up or stopped). */
    public boolean exists() {
        return ClusterState.read(dir).isPresent();
    }

    /**
     * What a new cluster is made of: node counts, whether a compaction node runs (benchmarks of the write
     * and read paths leave it out), JVM options per role (the default heap: 1 GiB, the compaction node's too:
     * it builds its 128 MiB segments in memory within an eighth of its heap, and with 512 MiB would build 64 MiB
     * ones), and the latency model of a network proxy put between the nodes and the S3 server (null: none), so
     * the local S3 answers as S3 does across a network ({@link io.strata.launcher.net.LatencyModel#parse}).
     */
    public record Options(int ingest, int fetch, boolean compaction, Map<Role, List<String>> javaOptions,
                          String s3Latency, boolean secure) {
        public Options {
            javaOptions = Map.copyOf(javaOptions);
            if (s3Latency != null) {
                io.strata.launcher.net.LatencyModel.parse(s3Latency); // refused now rather than by the proxy
            }
        }

        public Options(int ingest, int fetch, boolean compaction, Map<Role, List<String>> javaOptions) {
            this(ingest, fetch, compaction, javaOptions, null, false);
        }

        public Options(int ingest, int fetch, boolean compaction, Map<Role, List<String>> javaOptions,
                       String s3Latency) {
            this(ingest, fetch, compaction, javaOptions, s3Latency, false);
        }

        public static Options of(int ingest, int fetch) {
            return new Options(ingest, fetch, true, Map.of());
        }

        List<String> javaOptions(Role role) {
            return javaOptions.getOrDefault(role, List.of("-Xmx1g"));
        }
    }

    /** {@link #up(Options)} with a compaction node and the default heaps. */
    public List<MemberStatus> up(int ingest, int fetch) {
        return up(Options.of(ingest, fetch));
    }

    /**
     * Starts the cluster and waits until every process is ready. A new directory gets a new cluster as
     * {@code options} say; a directory whose cluster was stopped gets it back as it was (same ports, same
     * data, same options). On failure, what it started is stopped again and the exception quotes the log.
     */
    public List<MemberStatus> up(Options options) {
        int ingest = options.ingest();
        int fetch = options.fetch();
        if (ingest < 1 || fetch < 1) {
            throw new IllegalArgumentException("a cluster needs at least one ingest and one fetch node");
        }
        Optional<ClusterState> existing = ClusterState.read(dir);
        ClusterState state;
        if (existing.isPresent()) {
            state = existing.get();
            List<String> running = state.members().stream().filter(m -> state.process(m).isPresent())
                    .map(Member::name).toList();
            if (!running.isEmpty()) {
                throw new LauncherException("a cluster is already up in " + dir + " (" + String.join(", ", running)
                        + " running): see 'strata cluster status', or stop it with 'strata cluster down'");
            }
            long ingests = count(state, Role.INGEST);
            long fetches = count(state, Role.FETCH);
            if (ingests != ingest || fetches != fetch) {
                throw new LauncherException("the stopped cluster in " + dir + " has " + ingests + " ingest and "
                        + fetches + " fetch nodes, not " + ingest + " and " + fetch + ": start it with those counts, "
                        + "use another --dir, or delete it with 'strata cluster down --delete'");
            }
            boolean latency = count(state, Role.LATENCY) > 0;
            if (latency != (options.s3Latency() != null)) {
                throw new LauncherException("the stopped cluster in " + dir + " was made " + (latency
                        ? "with a latency proxy (--s3-latency)" : "without a latency proxy") + ": start it as it "
                        + "was made, use another --dir, or delete it with 'strata cluster down --delete'");
            }
            if (options.secure() != io.strata.launcher.tls.LocalSecurity.of(dir).isPresent()) {
                throw new LauncherException("the stopped cluster in " + dir + " was made " + (options.secure()
                        ? "without --secure" : "with --secure") + ": start it as it was made, use another --dir, or "
                        + "delete it with 'strata cluster down --delete'");
            }
            progress.accept("starting the stopped cluster in " + dir);
        } else {
            state = new ClusterState(dir, define(options));
            state.write();
            progress.accept("starting a new cluster in " + dir);
        }
        // A Ctrl-C while starting: the processes are detached (they would outlive this JVM), so stop them.
        java.util.concurrent.atomic.AtomicBoolean finished = new java.util.concurrent.atomic.AtomicBoolean();
        Thread interrupted = new Thread(() -> {
            if (!finished.get()) {
                progress.accept("interrupted: stopping what was started");
                stopAll(state, 5);
            }
        }, "strata-cluster-up-interrupted");
        Runtime.getRuntime().addShutdownHook(interrupted);
        try {
            for (Member m : state.members()) {
                if (!m.role().isNode()) { // etcd, then S3: the nodes need both
                    awaitReady(state, List.of(launch(state, m)), Duration.ofSeconds(60));
                }
            }
            List<ManagedProcess> nodes = new ArrayList<>();
            for (Member m : state.members()) {
                if (m.role().isNode()) {
                    nodes.add(launch(state, m));
                }
            }
            awaitReady(state, nodes, NODE_START_TIMEOUT);
        } catch (RuntimeException e) {
            progress.accept("start failed: stopping what was started");
            stopAll(state, 10);
            throw e;
        } finally {
            finished.set(true);
            try {
                Runtime.getRuntime().removeShutdownHook(interrupted);
            } catch (IllegalStateException e) {
                // the JVM is shutting down: the hook runs, or ran
            }
        }
        return status();
    }

    private static long count(ClusterState state, Role role) {
        return state.members().stream().filter(m -> m.role() == role).count();
    }

    private List<Member> define(Options options) {
        List<Member> members = new ArrayList<>();
        Path etcdDir = dir.resolve("etcd");
        int etcdPort = Ports.freePort();
        members.add(new Member("etcd", Role.ETCD, etcdPort, etcdPort,
                Commands.etcd(installation.etcd(), "strata-local", etcdDir.resolve("data"), etcdPort, Ports.freePort()),
                etcdDir));
        Path s3Dir = dir.resolve("s3");
        Path buckets = s3Dir.resolve("buckets");
        int s3Port = Ports.freePort();
        try {
            Files.createDirectories(buckets.resolve(BUCKET)); // the filesystem backend's bucket is a directory
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        members.add(new Member("s3", Role.S3, s3Port, s3Port,
                Commands.s3Proxy(installation.java(), installation.s3ProxyJar(), s3Dir, buckets, s3Port), s3Dir));
        int objectsPort = s3Port;
        if (options.s3Latency() != null) {
            Path latencyDir = dir.resolve("latency");
            int latencyPort = Ports.freePort();
            members.add(new Member("latency", Role.LATENCY, latencyPort, latencyPort,
                    Commands.latencyProxy(installation.java(), installation.launcherClasspath(), latencyPort, s3Port,
                            options.s3Latency()), latencyDir));
            objectsPort = latencyPort;
        }
        Map<String, String> shared = new LinkedHashMap<>();
        if (options.secure()) {
            progress.accept("making the cluster's CAs, certificates and super-user in " + dir.resolve("tls"));
            shared.putAll(io.strata.launcher.tls.LocalSecurity.create(dir).nodeSettings());
        }
        shared.put("strata.metadata.type", "etcd");
        shared.put("strata.metadata.etcd-endpoints", "http://127.0.0.1:" + etcdPort);
        shared.put("strata.metadata.root", METADATA_ROOT);
        shared.put("strata.object-store.type", "s3");
        shared.put("strata.object-store.s3.endpoint", "http://127.0.0.1:" + objectsPort);
        shared.put("strata.object-store.s3.bucket", BUCKET);
        shared.put("strata.object-store.s3.region", "us-east-1");
        shared.put("strata.object-store.s3.access-key", Commands.S3_ACCESS_KEY);
        shared.put("strata.object-store.s3.secret-key", Commands.S3_SECRET_KEY);
        for (int i = 1; i <= options.ingest(); i++) {
            members.add(node("ingest-" + i, Role.INGEST, shared, options.javaOptions(Role.INGEST)));
        }
        for (int i = 1; i <= options.fetch(); i++) {
            members.add(node("fetch-" + i, Role.FETCH, shared, options.javaOptions(Role.FETCH)));
        }
        if (options.compaction()) {
            members.add(node("compaction", Role.COMPACTION, shared, options.javaOptions(Role.COMPACTION)));
        }
        return members;
    }

    private Member node(String name, Role role, Map<String, String> shared, List<String> jvmOptions) {
        Path work = dir.resolve(name);
        int port = Ports.freePort();
        int httpPort = Ports.freePort();
        // Nodes that serve clients serve Kafka clients too; the compaction node serves none.
        int kafkaPort = role == Role.COMPACTION ? 0 : Ports.freePort();
        Map<String, String> settings = new HashMap<>(shared);
        settings.put("strata.roles", role.label());
        settings.put("strata.node-id", name);
        settings.put("strata.data-dir", work.resolve("data").toString());
        return new Member(name, role, port, httpPort,
                Commands.node(installation.java(), installation.serverJar(), jvmOptions, settings, port, httpPort,
                        Ports.freePort(), kafkaPort), work, kafkaPort);
    }

    private ManagedProcess launch(ClusterState state, Member member) {
        Map<String, String> environment = member.role() == Role.S3 ? Commands.s3ProxyEnvironment()
                : member.role().isNode() ? security().map(io.strata.launcher.tls.LocalSecurity::nodeEnvironment)
                .orElse(Map.of()) : Map.of();
        ManagedProcess process = ManagedProcess.startDetached(member.name(), member.command(), environment,
                member.workDir());
        state.started(member, process);
        return process;
    }

    /** Polls every process until it is ready, reporting each as it gets there; fails on an exit or the timeout. */
    private void awaitReady(ClusterState state, List<ManagedProcess> processes, Duration timeout) {
        long start = System.nanoTime();
        List<ManagedProcess> pending = new ArrayList<>(processes);
        boolean ready = Polls.until(timeout, 200, () -> {
            for (ManagedProcess p : List.copyOf(pending)) {
                Member m = state.member(p.name()).orElseThrow();
                if (!p.isAlive()) {
                    throw new LauncherException(m.name() + " exited while starting; the end of " + m.log() + ":\n"
                            + p.tail(30));
                }
                if (HttpProbe.once(m.role().readinessUrl(m.httpPort()), m.role()::isReady)) {
                    pending.remove(p);
                    progress.accept(String.format("%-12s ready  (pid %d, %.1f s)", m.name(), p.pid(),
                            (System.nanoTime() - start) / 1e9));
                }
            }
            return pending.isEmpty();
        });
        if (!ready) {
            if (Thread.currentThread().isInterrupted()) {
                throw new LauncherException("interrupted");
            }
            ManagedProcess late = pending.get(0);
            throw new LauncherException(late.name() + " was not ready within " + timeout.toSeconds()
                    + " s; the end of " + late.log() + ":\n" + late.tail(30));
        }
    }

    /** Each member, its process and its health (asked once, at most 2 s each). */
    public List<MemberStatus> status() {
        ClusterState state = existing();
        List<MemberStatus> rows = new ArrayList<>();
        for (Member m : state.members()) {
            Optional<ManagedProcess> process = state.process(m);
            Health health = process.isEmpty() ? Health.DOWN
                    : HttpProbe.once(m.role().readinessUrl(m.httpPort()), m.role()::isReady) ? Health.UP
                    : Health.NOT_READY;
            rows.add(new MemberStatus(m, process.map(ManagedProcess::pid).orElse(0L), health));
        }
        return rows;
    }

    /** SIGKILLs a member's process, as a crash would. */
    public void kill(String name) {
        ClusterState state = existing();
        Member member = member(state, name);
        ManagedProcess process = state.process(member).orElseThrow(() ->
                new LauncherException(name + " is not running"));
        process.kill();
    }

    /**
     * Stops a member as Kubernetes stops a pod: SIGTERM (a node drains: not ready, commits what it holds,
     * deregisters), SIGKILL after {@code graceSeconds}. True when it exited within the grace period.
     */
    public boolean stop(String name, long graceSeconds) {
        ClusterState state = existing();
        Member member = member(state, name);
        ManagedProcess process = state.process(member).orElseThrow(() ->
                new LauncherException(name + " is not running"));
        boolean clean = process.stop(graceSeconds);
        report(process, clean);
        return clean;
    }

    /** Starts a member that is down again, with its ports and data, and waits until it is ready. */
    public MemberStatus start(String name) {
        return start(List.of(name)).get(0);
    }

    /**
     * Starts members that are down again, all at once (their starts overlap), and waits until each is ready;
     * answers their status in the order named.
     */
    public List<MemberStatus> start(List<String> names) {
        ClusterState state = existing();
        if (new java.util.HashSet<>(names).size() != names.size()) {
            throw new LauncherException("a member is named twice: " + names);
        }
        List<ManagedProcess> launched = new ArrayList<>();
        boolean anyNode = false;
        for (String name : names) {
            Member member = member(state, name);
            Optional<ManagedProcess> running = state.process(member);
            if (running.isPresent()) {
                throw new LauncherException(name + " is already running (pid " + running.get().pid() + ")");
            }
            anyNode |= member.role().isNode();
        }
        for (String name : names) {
            launched.add(launch(state, member(state, name)));
        }
        awaitReady(state, launched, anyNode ? NODE_START_TIMEOUT : Duration.ofSeconds(60));
        List<MemberStatus> all = status();
        return names.stream().map(name -> all.stream().filter(s -> s.member().name().equals(name)).findFirst()
                .orElseThrow()).toList();
    }

    /**
     * Stops every process: the nodes first (SIGTERM: each commits what it holds), then S3 and etcd; a process
     * still running after {@code graceSeconds} is killed. Answers how many processes were running.
     */
    public int down(long graceSeconds) {
        return stopAll(existing(), graceSeconds);
    }

    private int stopAll(ClusterState state, long graceSeconds) {
        List<ManagedProcess> nodes = new ArrayList<>();
        List<ManagedProcess> services = new ArrayList<>();
        for (Member m : state.members()) {
            state.process(m).ifPresent(p -> (m.role().isNode() ? nodes : services).add(p));
        }
        nodes.forEach(ManagedProcess::terminate); // at once, so that their drains overlap instead of adding up
        nodes.forEach(p -> report(p, p.stop(graceSeconds)));
        // S3, then etcd: the reverse of their start.
        for (int i = services.size() - 1; i >= 0; i--) {
            report(services.get(i), services.get(i).stop(graceSeconds));
        }
        return nodes.size() + services.size();
    }

    private void report(ManagedProcess p, boolean clean) {
        progress.accept(String.format("%-12s stopped%s", p.name(), clean ? "" : " (killed after the grace period)"));
    }

    /** Deletes the cluster's directory (its data and logs); refuses while a process of it runs. */
    public void delete() {
        ClusterState state = existing();
        List<String> running = state.members().stream().filter(m -> state.process(m).isPresent())
                .map(Member::name).toList();
        if (!running.isEmpty()) {
            throw new LauncherException("cannot delete " + dir + " while " + String.join(", ", running) + " run");
        }
        try (var paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + dir, e);
        }
    }

    /**
     * Where clients connect: the ingest and fetch nodes whose processes run, as host:port, ingest first (any
     * node describes the whole cluster to a client). Empty when the directory holds no cluster or none runs.
     */
    public List<String> clientAddresses() {
        return runningNodes(m -> true, Member::address);
    }

    /** The TLS and super-user of a cluster made with {@code --secure}. */
    public Optional<io.strata.launcher.tls.LocalSecurity> security() {
        return io.strata.launcher.tls.LocalSecurity.of(dir);
    }

    /** Where Kafka clients connect (their bootstrap.servers): the running nodes' Kafka listeners, ingest first. */
    public List<String> kafkaAddresses() {
        return runningNodes(m -> m.kafkaPort() > 0, m -> "127.0.0.1:" + m.kafkaPort());
    }

    private List<String> runningNodes(java.util.function.Predicate<Member> which,
                                      java.util.function.Function<Member, String> address) {
        Optional<ClusterState> state = ClusterState.read(dir);
        if (state.isEmpty()) {
            return List.of();
        }
        List<String> addresses = new ArrayList<>();
        for (Role role : List.of(Role.INGEST, Role.FETCH)) {
            state.get().members().stream().filter(m -> m.role() == role && which.test(m))
                    .filter(m -> state.get().process(m).isPresent()).forEach(m -> addresses.add(address.apply(m)));
        }
        return addresses;
    }

    private ClusterState existing() {
        return ClusterState.read(dir).orElseThrow(() -> new LauncherException("no cluster in " + dir
                + ": start one with 'strata cluster up'"));
    }

    private static Member member(ClusterState state, String name) {
        return state.member(name).orElseThrow(() -> new LauncherException("no process named '" + name + "' in "
                + "this cluster; its processes: " + String.join(", ", state.members().stream().map(Member::name)
                .toList())));
    }
}
