package io.strata.server;

import io.grpc.Status;
import io.micrometer.core.instrument.MeterRegistry;
import grpc.health.v1.HealthOuterClass.HealthCheckResponse;
import io.quarkus.grpc.runtime.health.GrpcHealthStorage;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.strata.fetch.routing.FetchNodes;
import io.strata.fetch.grpc.FetchHandler;
import io.strata.ingest.IngestPipeline;
import io.strata.ingest.IngestSettings;
import io.strata.ingest.grpc.ProduceHandler;
import io.strata.ingest.grpc.ProducerIds;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.NodeInfo;
import io.strata.metadata.TopicCache;
import io.strata.server.admin.AdminHandler;
import io.strata.server.config.StrataConfig;
import io.strata.server.metrics.RoleMetrics;
import io.strata.server.grpc.NodeEndpoint;
import io.strata.server.handoff.ChunkHandOff;
import io.strata.server.net.AdvertisedHost;
import io.strata.storage.object.CountingObjectStore;
import io.strata.storage.object.ObjectStore;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * One Strata node: builds the stores and the roles its configuration names at start, registers itself in
 * the metadata store, and takes everything down in reverse order at shutdown (sealing and committing what
 * the ingest role still buffers). Owns the thread {@code strata-node-timer} and every closeable it builds (the
 * fetch role's threads among them, {@link io.strata.server.fetch.FetchRole}).
 */
@ApplicationScoped
public class StrataNode {
    public static final Set<String> KNOWN_ROLES = Set.of("ingest", "fetch", "compaction");
    /** The version this node runs (the build's), as it registers it. */
    public static String version() {
        return org.eclipse.microprofile.config.ConfigProvider.getConfig()
                .getOptionalValue("quarkus.application.version", String.class).orElse("");
    }
    private static final Logger LOG = Logger.getLogger(StrataNode.class);

    @Inject
    StrataConfig config;
    @Inject
    MeterRegistry meters;
    @ConfigProperty(name = "quarkus.http.host")
    String host;
    /** gRPC's port: what clients and other nodes connect to (health and metrics are on the HTTP port). */
    @ConfigProperty(name = "quarkus.grpc.server.port")
    int port;
    @Inject
    GrpcHealthStorage grpcHealth;
    @Inject
    io.strata.server.net.NodeTls tls;
    @Inject
    io.strata.server.security.AccessControl access;
    @Inject
    io.strata.server.quota.Quotas quotas;

    private final Clock clock = Clock.systemUTC();
    /** What start built, closed in reverse at shutdown; the start thread adds, the shutdown closes after it. */
    private final List<AutoCloseable> closeables = java.util.Collections.synchronizedList(new ArrayList<>());
    private volatile String nodeId;
    private volatile String advertisedHost;
    private volatile MetadataStore metadata;
    private volatile ObjectStore objects;
    private volatile AdminHandler admin;
    private volatile io.strata.server.group.GroupHandler groups;
    private volatile io.strata.group.GroupCoordinator groupCoordinator;
    private volatile ProduceHandler ingest;
    private volatile io.strata.server.reads.Reads reads;
    private volatile io.strata.server.net.InternalPort internalPort;
    private volatile io.strata.server.group.GroupSettingsHandler groupSettings;
    private volatile io.strata.fetch.share.ShareGroupsView shareGroups;
    private volatile io.strata.server.txn.TransactionRole transactions;
    private volatile io.strata.server.txn.CheckBackStreams checkBacks;
    private volatile io.strata.server.txn.HalfDoor halfDoor;
    private volatile io.strata.server.fetch.FetchRole fetchRole;
    private volatile boolean ready;
    private volatile boolean stopping;
    private volatile Thread starter;
    /** The object store as opened and checked, before its request counting is put around it. */
    private volatile ObjectStore opened;

    void onStart(@Observes StartupEvent event) {
        io.strata.server.net.ConnectionFailureLog.install(); // before anything but Quarkus's own gRPC server listens
        requireGrpcServing();
        io.strata.server.metrics.NodeMetrics.ready(meters, this::ready);
        for (String role : config.roles()) {
            if (!KNOWN_ROLES.contains(role)) {
                throw new IllegalArgumentException("unknown role '" + role + "' in strata.roles; known: " + KNOWN_ROLES);
            }
        }
        try {
            Stores.validate(config); // a missing setting stops the node here, by name, with a non-zero exit
            access.validate();
        } catch (IllegalArgumentException e) {
            LOG.errorf("Cannot start: %s", e.getMessage()); // one line to read before Quarkus's stack trace
            throw e;
        }
        String nodeId = config.nodeId().orElse("node-" + UUID.randomUUID().toString().substring(0, 8));
        this.nodeId = nodeId;
        // The rest waits for etcd and the bucket, not ready meanwhile: in Kubernetes a node may well start
        // before them, and a restart loop would only hide the reason.
        Thread thread = new Thread(() -> startWhenReachable(nodeId), "strata-node-start");
        thread.setDaemon(true);
        starter = thread;
        thread.start();
    }

    private void startWhenReachable(String nodeId) {
        try {
            // Built once: an S3 store holds a credentials provider (web identity: an STS client) for its life.
            ObjectStore store = register(Stores.objects(config));
            metadata = Stores.openWhenReachable(config, store, this::register, () -> stopping);
            opened = store;
            startRoles(nodeId);
        } catch (InterruptedException | java.util.concurrent.CancellationException e) {
            Thread.currentThread().interrupt(); // shutting down while starting
        } catch (Exception e) {
            if (!stopping) {
                LOG.error("Strata node failed to start", e);
                io.quarkus.runtime.Quarkus.asyncExit(1);
            }
        }
    }

    /**
     * Keeps what start builds, to close it at shutdown in reverse order. Once shutdown has begun, what start
     * still builds is closed at once and the start ends: shutdown never misses anything, nor closes twice.
     */
    private <T extends AutoCloseable> T register(T closeable) {
        synchronized (closeables) {
            if (!stopping) {
                closeables.add(closeable);
                return closeable;
            }
        }
        try {
            closeable.close();
        } catch (Exception e) {
            LOG.debug("closing what start built after shutdown began", e);
        }
        throw new java.util.concurrent.CancellationException("the node is stopping");
    }

    private void startRoles(String nodeId) throws Exception {
        access.start(metadata, Duration.ofSeconds(30)); // users and ACLs read before the first call is served
        register(() -> access.close()); // stops following them before the metadata store closes
        quotas.start(metadata, nodeId);
        register(() -> quotas.close()); // stops sharing usage before the metadata store closes
        CountingObjectStore counted = new CountingObjectStore(opened);
        objects = counted;
        register(objects);
        // Commits rebuild a shard's producer state from the snapshot compaction wrote to the object store.
        metadata.useProducerSnapshots(key -> counted.get(io.strata.storage.object.ObjectKey.of(key)),
                config.producer().stateExpiry());
        io.strata.server.metrics.NodeMetrics.objects(meters, counted);
        TopicCache topics = new TopicCache(metadata, clock, Duration.ofSeconds(2));
        internalPort = register(new io.strata.server.net.InternalPort(host, config.internal().port(),
                io.strata.server.net.InternalPort.messageLimit(config.ingest().blockMaxBytes(),
                        config.fetch().maxMaxBytes(), config.ingest().maxRecordBytes()), tls));
        MetadataStore store = metadata;
        counter("strata.metadata.commit.transactions", store, m -> m.stats().commitTransactions());
        counter("strata.metadata.commit.conflicts", store, m -> m.stats().commitConflicts());
        counter("strata.metadata.commit.keys.written", store, m -> m.stats().keysWritten());
        counter("strata.metadata.commit.bytes.written", store, m -> m.stats().bytesWritten());
        counter("strata.metadata.ledger.rebuilds", store, m -> m.stats().ledgerRebuilds());
        meters.gauge("strata.metadata.producer.states", store, m -> m.stats().producerStates());
        admin = new AdminHandler(metadata, topics);
        String advertisedHost = config.advertisedAddress().map(AdvertisedHost::hostOf)
                .orElseGet(() -> AdvertisedHost.of(host, System.getenv()));
        this.advertisedHost = advertisedHost;
        String address = config.advertisedAddress().orElse(AdvertisedHost.address(advertisedHost, port));
        ScheduledExecutorService nodeTimer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "strata-node-timer");
            t.setDaemon(true);
            return t;
        });
        register(() -> nodeTimer.shutdownNow());
        io.strata.server.metrics.NodeMetrics.metadata(meters, metadata, config.metadata().quotaBytes(), nodeTimer,
                Duration.ofSeconds(30));
        io.strata.server.metrics.NodeMetrics.compaction(meters, metadata, nodeTimer, Duration.ofSeconds(30));
        IngestPipeline pipeline = null;
        FetchNodes fetchNodes = new FetchNodes(metadata, nodeTimer, 2_000);
        register(fetchNodes);
        // Half messages' producers keep check-back streams at any node; any node decides a half message by id.
        checkBacks = register(new io.strata.server.txn.CheckBackStreams(metadata, nodeId, internalPort.dialer(),
                access::allowed, nodeTimer));
        halfDoor = new io.strata.server.txn.HalfDoor(metadata);

        if (config.roles().contains("ingest")) {
            StrataConfig.Ingest c = config.ingest();
            pipeline = new IngestPipeline(new IngestSettings(c.blockMaxBytes(), c.blockLinger(config.objectStore().type()),
                    c.maxBufferedBytes(), c.bufferWait(), c.maxRecordBytes(), c.maxRequestBytes(), c.produceTimeout(),
                    c.compressionLevel(), nodeId, c.maxInflightBlocks(), c.putHedgeAfter(), c.putHedgeQuantile(),
                    c.sealWhenIdle(config.objectStore().type())), objects, metadata, clock);
            register(pipeline);
            warmUpIngest(c, nodeId);
            ProducerIds producerIds = new ProducerIds(metadata);
            producerIds.bindWith(access.producerIds(), access.required());
            ingest = io.strata.server.ingest.IngestRole.handler(pipeline, topics, producerIds, clock, meters);
        }
        if (config.roles().contains("fetch")) {
            fetchRole = io.strata.server.fetch.FetchRole.start(config, metadata, objects,
                    topics, fetchNodes, address, ingest, access, internalPort, checkBacks, meters, this::register);
        }
        if (pipeline != null) {
            pipeline.committer().handOff(ChunkHandOff.start(fetchNodes, address, internalPort.dialer(),
                    fetchRole == null ? null : fetchRole.cache(), fetchRole == null ? p -> false : fetchRole.tail()::reads,
                    config.ingest().handOffMaxInflightBytes(), nodeTimer, meters, this::register));
        }
        FetchHandler fetch = fetchRole == null ? null : fetchRole.handler();
        reads = fetch != null ? io.strata.server.reads.Reads.local(fetch)
                : !internalPort.dialsAsNode() && access.required() ? io.strata.server.reads.Reads.NONE
                : register(new io.strata.server.reads.ReadsElsewhere(fetchNodes, topics, internalPort.dialer(),
                        config.fetch().maxWait().plusSeconds(30)));
        if (config.roles().contains("compaction")) {
            register(io.strata.server.compaction.CompactionRole.start(config, metadata, objects, meters, nodeId, clock));
        }
        startGroups(topics, nodeId);
        String kafkaAddress = openKafkaDoor(topics, nodeId, address, advertisedHost, nodeTimer);
        String internalAddress = AdvertisedHost.address(advertisedHost, internalPort.start(new NodeEndpoint(this)));
        register(metadata.registerNode(new NodeInfo(nodeId, address, internalAddress, config.roles(),
                clock.millis(), kafkaAddress, config.kafka().rack().orElse(""), version()), Duration.ofSeconds(10))
                .get(config.metadata().timeout().toMillis(), TimeUnit.MILLISECONDS));
        fetchNodes.refresh(); // this node is among them now
        synchronized (closeables) {
            if (stopping) {
                return; // shutdown began meanwhile: it closes what was built
            }
            ready = true;
        }
        LOG.infof("Strata node %s serving %s on %s (metadata: %s, objects: %s)", nodeId, config.roles(), address,
                config.metadata().type(), config.objectStore().type());
        if (config.console().enabled()) {
            LOG.infof("Console: %s", io.strata.server.console.ConsoleDoor.url(advertisedHost));
        }
    }

    /**
     * The produce path run on synthetic blocks before the node is ready, on the object store as opened (not
     * the counting one: its requests are no block's and must not show in the request metrics). A failure
     * only ends it early; a stop interrupts it.
     */
    private void warmUpIngest(StrataConfig.Ingest c, String nodeId) throws InterruptedException {
        if (c.warmup().isZero() || c.warmupRounds() <= 0) {
            return;
        }
        try {
            io.strata.ingest.warmup.StartupWarmup.Result r = io.strata.ingest.warmup.StartupWarmup.run(opened, nodeId,
                    c.compressionLevel(), c.warmupRounds(), c.warmup(), config.objectStore().s3().requestTimeout(),
                    System::nanoTime);
            LOG.infof("produce path warmed up: %d synthetic blocks in %d ms", r.rounds(), r.took().toMillis());
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            if (stopping) {
                throw new InterruptedException("stopping");
            }
            LOG.warnf("produce path warm-up ended early (the node starts anyway): %s", Stores.rootCause(e));
        }
    }

    /**
     * The Kafka listener on a node that serves clients, over the same handlers as the gRPC services. Answers
     * the address it advertises, or "" when it is off.
     */
    private String openKafkaDoor(TopicCache topics, String nodeId, String address, String advertisedHost,
                                 ScheduledExecutorService timer) throws java.io.IOException {
        StrataConfig.Kafka k = config.kafka();
        FetchHandler fetch = fetchRole == null ? null : fetchRole.handler();
        if (k.port() == 0 || (ingest == null && fetch == null)) {
            return "";
        }

        io.strata.kafka.KafkaBackends backends = io.strata.server.kafka.KafkaBackendsOf.node(ingest, fetch, admin,
                groupCoordinator, metadata, topics, transactions.coordinator());
        io.strata.kafka.KafkaDoor door = register(io.strata.kafka.KafkaDoor.open(new io.strata.kafka.KafkaSettings(
                host, k.port(), advertisedHost, k.maxRequestBytes(), k.maxInflightRequests(),
                config.fetch().maxWait(), k.rack().orElse(null), config.ingest().maxRecordBytes(),
                k.compressionLevel(), config.ingest().maxRequestBytes(), tls.kafkaServer().orElse(null),
                k.maxConnectionsPerAddress(), k.maxConnectionsPerPrincipal()), backends, nodeId,
                address, config.roles(), timer, clock, new io.strata.server.security.KafkaGuardOf(access, quotas)));
        LOG.infof("Kafka listener on %s:%d, advertised as %s", host, door.port(), door.advertisedAddress());
        return door.advertisedAddress();
    }

    /**
     * Consumer groups, on every node: members reach whichever node they dial. Offsets by time come from a fetch
     * role's index: this node's, or a fetch node's.
     */
    private void startGroups(TopicCache topics, String nodeId) {
        StrataConfig.Groups c = config.groups();
        io.strata.server.reads.Reads byTime = reads;
        io.strata.group.OffsetLookup lookup = (topic, partition, timestampMs) -> byTime.listOffsets(
                io.strata.api.v1.ListOffsetsRequest.newBuilder().setTopic(topic).setPartition(partition)
                        .setTimestampMs(timestampMs).build()).thenApply(r -> r.getOffset());
        io.strata.group.GroupCoordinator coordinator = new io.strata.group.GroupCoordinator(metadata, topics, lookup,
                new io.strata.group.GroupSettings(c.minSessionTimeout(), c.maxSessionTimeout(),
                        c.defaultSessionTimeout(), c.reconcileInterval(), config.metadata().timeout(), c.hostLeaseTtl(),
                        c.maxMembersPerNode()));
        register(coordinator);
        groups = new io.strata.server.group.GroupHandler(coordinator);
        groupSettings = new io.strata.server.group.GroupSettingsHandler(metadata.groupSettings(), topics,
                io.strata.server.share.SharePolicies.of(config.share()));
        io.strata.fetch.share.ShareHandler here = fetchRole == null ? null : fetchRole.shares();
        shareGroups = new io.strata.fetch.share.ShareGroupsView(metadata,
                io.strata.server.share.SharePolicies.of(config.share()), clock, group -> {
                    if (here != null) {
                        here.groupDeleted(group);
                    }
                });
        groupCoordinator = coordinator;
        io.strata.group.GroupStats stats = coordinator.stats();
        RoleMetrics.groups(meters, stats);
        register(io.strata.server.metrics.LagMetrics.export(metadata, coordinator, shareGroups, nodeId,
                c.lagInterval(), c.lagMaxSeries(), meters));
        // Transactional producers, on every node: their ids are issued (and bound to principals) as InitProducer's.
        io.strata.ingest.grpc.ProducerIds transactionalIds = new io.strata.ingest.grpc.ProducerIds(metadata);
        transactionalIds.bindWith(access.producerIds(), access.required());
        transactions = register(new io.strata.server.txn.TransactionRole(metadata,
                new io.strata.transactions.coordinator.TransactionCoordinator(metadata,
                        io.strata.transactions.coordinator.TransactionCoordinator.IdIssuer.of(transactionalIds::issue,
                                transactionalIds::issuedTo),
                        io.strata.transactions.Transactions.DEFAULT_LIMITS, clock,
                        io.strata.transactions.Transactions.DEFAULT_ID_EXPIRY_MS), java.time.Duration.ofSeconds(2)));
        if (ingest != null) {
            // Transactional batches go only where their transaction is open; requests may add their own partitions, and
            // a transaction's last request may carry its commit.
            ingest.useTransactions(new io.strata.ingest.txn.StoredTransactionMembership(metadata.transactions(),
                    transactions::addForBatches), transactions::commitForBatches);
        }
    }

    private <T> void counter(String name, T source, java.util.function.ToDoubleFunction<T> count) {
        io.strata.server.metrics.RoleMetrics.counter(meters, name, source, count);
    }

    void onStop(@Observes ShutdownEvent event) {
        synchronized (closeables) {
            ready = false;
            stopping = true;
        }
        Thread thread = starter;
        if (thread != null && thread.isAlive()) {
            thread.interrupt(); // still waiting for etcd or the bucket, or starting roles
            try {
                thread.join(TimeUnit.SECONDS.toMillis(15));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        // Reverse order: deregister, stop roles (the ingest pipeline commits what it buffers), then the stores.
        List<AutoCloseable> built;
        synchronized (closeables) {
            built = new ArrayList<>(closeables); // nothing is added from here on (register closes it instead)
            closeables.clear();
        }
        for (int i = built.size() - 1; i >= 0; i--) {
            try {
                built.get(i).close();
            } catch (Exception e) {
                LOG.warn("error while stopping", e);
            }
        }
        LOG.info("Strata node stopped");
    }

    public boolean ready() {
        return ready;
    }

    /**
     * Calls are answered only while the node is ready: before (waiting for etcd or the bucket, starting its
     * roles) and once it stops (draining), a call fails at once with UNAVAILABLE, which clients retry on
     * another node.
     */
    private void requireReady() {
        if (!ready) {
            throw Status.UNAVAILABLE.withDescription(stopping ? "this node is shutting down; another node answers"
                    : "this node is starting (waiting for etcd and the object store, or starting its roles); "
                    + "another node answers").asRuntimeException();
        }
    }

    public MetadataStore metadata() {
        requireReady();
        return metadata;
    }

    /** The host name or address clients are told to reach this node at (null until the node has started). */
    public String advertisedHost() {
        return advertisedHost;
    }

    /** This node's id (chosen at start). */
    public String nodeId() {
        return nodeId;
    }

    /** The object store as the roles use it (counted). */
    public ObjectStore objects() {
        requireReady();
        return objects;
    }

    public AdminHandler admin() {
        requireReady();
        return admin;
    }

    public io.strata.server.group.GroupHandler groups() {
        requireReady();
        return groups;
    }

    /**
     * Whether the node-to-node port may take calls made for a client the called node cannot check (a fetch
     * node's dead-letter copies, reads for a node without the fetch role): only from nodes, so while
     * authentication is required only when that port takes node certificates alone.
     */
    public boolean internalCallsAllowed() {
        Boolean allowed = internalCalls;
        if (allowed == null) {
            allowed = internalPort.nodesOnly() || !access.required();
            internalCalls = allowed; // the port's TLS does not change while the node runs
        }
        return allowed;
    }

    private volatile Boolean internalCalls;

    /** Transactional producers, on every node. */
    public io.strata.server.txn.TransactionRole transactions() {
        requireReady();
        return transactions;
    }

    /** Producers' check-back streams of half messages. */
    public io.strata.server.txn.CheckBackStreams checkBacks() {
        requireReady();
        return checkBacks;
    }

    public io.strata.server.txn.HalfDoor halfDoor() {
        requireReady();
        return halfDoor;
    }

    public io.strata.fetch.share.ShareGroupsView shareGroups() {
        requireReady();
        return shareGroups;
    }

    public io.strata.server.group.GroupSettingsHandler groupSettings() {
        requireReady();
        return groupSettings;
    }

    public ProduceHandler ingest() {
        requireReady();
        ProduceHandler handler = ingest;
        if (handler == null) {
            throw Status.UNAVAILABLE.withDescription("this node does not run the ingest role; "
                    + "ClusterService.DescribeCluster lists the nodes that do").asRuntimeException();
        }
        return handler;
    }

    /** The fetch role's parts: its reads, cache, streams' executor, share groups and tail readers. */
    public io.strata.server.fetch.FetchRole fetchRole() {
        requireReady();
        io.strata.server.fetch.FetchRole role = fetchRole;
        if (role == null) {
            throw Status.UNAVAILABLE.withDescription("this node does not run the fetch role; "
                    + "ClusterService.DescribeCluster lists the nodes that do").asRuntimeException();
        }
        return role;
    }

    /**
     * This node's unary reads, checked by the caller: its fetch role's, or, without one, a fetch node's over the
     * node-to-node port.
     */
    public io.strata.server.reads.Reads reads() {
        requireReady();
        return reads;
    }

    public FetchHandler fetch() {
        return fetchRole().handler();
    }

    /**
     * Refuses to start when the gRPC server did not: Quarkus's separate gRPC server logs a failed bind (a
     * port taken, say) and carries on, which would leave a node registered under an address where nothing
     * of it answers.
     */
    private void requireGrpcServing() {
        HealthCheckResponse.ServingStatus status =
                grpcHealth.statusForService(GrpcHealthStorage.DEFAULT_SERVICE_NAME).getStatus();
        if (status != HealthCheckResponse.ServingStatus.SERVING) {
            throw new IllegalStateException("the gRPC server is not serving on port " + port + " (" + status
                    + "): is the port taken? See the error above");
        }
    }
}
