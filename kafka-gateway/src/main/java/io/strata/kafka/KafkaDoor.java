package io.strata.kafka;

import io.strata.kafka.cluster.Broker;
import io.strata.kafka.cluster.BrokerIds;
import io.strata.kafka.cluster.Brokers;
import io.strata.kafka.cluster.TopicIds;
import io.strata.kafka.fetch.FetchApi;
import io.strata.kafka.fetch.ListOffsetsApi;
import io.strata.kafka.net.KafkaListener;
import io.strata.kafka.produce.InitProducerIdApi;
import io.strata.kafka.produce.ProduceApi;
import java.io.IOException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The Kafka protocol as a second door into a node: its listener, the brokers it tells clients of, and the APIs
 * it serves, over the same roles as the gRPC services. Opened by the node once its roles run; closed before
 * them. Owns the listener's threads and the broker view's refresh (on the node's timer).
 */
public final class KafkaDoor implements AutoCloseable {
    private final KafkaListener listener;
    private final Brokers brokers;
    private final io.strata.kafka.group.ClassicGroups classicGroups;
    private final String advertisedAddress;

    private final java.util.concurrent.ExecutorService converter;

    private final io.strata.kafka.group.ConsumerGroups consumerGroups;

    private KafkaDoor(KafkaListener listener, Brokers brokers, io.strata.kafka.group.ClassicGroups classicGroups,
                      io.strata.kafka.group.ConsumerGroups consumerGroups, java.util.concurrent.ExecutorService converter,
                      String advertisedAddress) {
        this.consumerGroups = consumerGroups;
        this.converter = converter;
        this.listener = listener;
        this.brokers = brokers;
        this.classicGroups = classicGroups;
        this.advertisedAddress = advertisedAddress;
    }

    /**
     * Listens and serves; {@code grpcAddress} and {@code roles} are this node's as it registers them (so this
     * node ranks as every other node ranks it).
     */
    public static KafkaDoor open(KafkaSettings settings, KafkaBackends backends, String nodeId, String grpcAddress,
                                 Set<String> roles, ScheduledExecutorService timer, java.time.Clock clock)
            throws IOException {
        return open(settings, backends, nodeId, grpcAddress, roles, timer, clock, io.strata.kafka.auth.KafkaGuard.OPEN);
    }

    /** The same behind {@code guard}: SASL and client certificates, and ACLs on every API. */
    public static KafkaDoor open(KafkaSettings settings, KafkaBackends backends, String nodeId, String grpcAddress,
                                 Set<String> roles, ScheduledExecutorService timer, java.time.Clock clock,
                                 io.strata.kafka.auth.KafkaGuard guard) throws IOException {
        AtomicReference<KafkaApis> apis = new AtomicReference<>();
        java.util.concurrent.atomic.AtomicInteger converters = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.ExecutorService converter = java.util.concurrent.Executors.newFixedThreadPool(
                Math.max(2, Runtime.getRuntime().availableProcessors()), r -> {
                    Thread t = new Thread(r, "strata-kafka-convert-" + converters.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        KafkaListener listener = KafkaListener.start(settings, apis::get, guard);
        try {
            String host = settings.advertisedHost();
            Broker self = new Broker(BrokerIds.of(nodeId), nodeId, host, listener.port(), grpcAddress, roles,
                    settings.rack());
            Brokers brokers = new Brokers(backends.metadata(), self, timer, 2_000);
            try {
                brokers.refresh().get(10, java.util.concurrent.TimeUnit.SECONDS); // the other nodes, before answering
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Exception e) {
                // The refresh keeps trying on the timer; meanwhile this node names itself alone.
            }
            TopicIds topicIds = new TopicIds(backends.metadata());
            io.strata.kafka.group.ClassicGroups classic = new io.strata.kafka.group.ClassicGroups(backends.groups(), timer);
            io.strata.kafka.txn.TransactionApis transactions = backends.transactions() == null ? null
                    : new io.strata.kafka.txn.TransactionApis(backends.transactions(), guard,
                    backends.metadata().groups(), (group, member, generation) -> {
                        io.strata.kafka.cluster.Broker c = brokers.coordinator(group);
                        return c == null || c.id() != brokers.self().id()
                                ? org.apache.kafka.common.protocol.Errors.NOT_COORDINATOR
                                : classic.mayCommit(group, member, generation, true);
                    });
            List<KafkaApi> served = new java.util.ArrayList<>(List.of(
                    new MetadataApi(backends, brokers, topicIds),
                    new ProduceApi(backends, topicIds, settings.maxRequestBytes(),
                            new io.strata.kafka.produce.KafkaBatches.Limits(settings.maxMessageBytes(),
                                    settings.maxProduceBytes(), settings.compressionLevel(), clock), converter, guard),
                    new InitProducerIdApi(backends.metadata(), guard, transactions),
                    new FetchApi(backends, brokers, topicIds, settings.maxFetchWait()),
                    new ListOffsetsApi(backends),
                    new io.strata.kafka.txn.DescribeProducersApi(backends.metadata(), backends.topics()),
                    new io.strata.kafka.admin.CreateTopicsApi(backends, settings.maxMessageBytes()),
                    new io.strata.kafka.admin.DeleteTopicsApi(backends, topicIds),
                    new io.strata.kafka.admin.DeleteRecordsApi(backends),
                    new io.strata.kafka.admin.CreatePartitionsApi(backends),
                    new io.strata.kafka.admin.DescribeConfigsApi(backends, settings.maxMessageBytes()),
                    io.strata.kafka.admin.AlterConfigsApi.incremental(backends),
                    io.strata.kafka.admin.AlterConfigsApi.legacy(backends),
                    new io.strata.kafka.admin.DescribeClusterApi(backends, brokers),
                    new io.strata.kafka.admin.DescribeLogDirsApi(backends, brokers)));
            io.strata.kafka.group.ConsumerGroups consumers = new io.strata.kafka.group.ConsumerGroups(backends.groups(),
                    backends.topics(), topicIds, timer);
            served.addAll(new io.strata.kafka.group.GroupApis(classic, consumers, brokers).all());
            served.addAll(new io.strata.kafka.admin.ClientQuotasApis(backends.metadata().security()).all());
            served.addAll(new io.strata.kafka.admin.AclApis(backends.metadata().security()).all());
            served.addAll(new io.strata.kafka.admin.ScramUserApis(backends.metadata().security(), guard).all());
            if (transactions != null) {
                served.addAll(transactions.all());
                served.addAll(new io.strata.kafka.txn.TransactionListingApis(backends.transactions(),
                        backends.metadata(), brokers, clock, guard).all());
                served.add(new io.strata.kafka.txn.WriteTxnMarkersApi(backends.transactions(), backends.metadata(),
                        backends.topics()));
            }
            if (guard.required()) {
                served.addAll(new io.strata.kafka.auth.SaslApis(guard).all());
            }
            apis.set(new KafkaApis(served, guard, new io.strata.kafka.auth.KafkaAccess(guard, topicIds)));
            String address = host.contains(":") ? "[" + host + "]:" + listener.port() : host + ":" + listener.port();
            return new KafkaDoor(listener, brokers, classic, consumers, converter, address);
        } catch (RuntimeException e) {
            listener.close();
            converter.shutdownNow();
            throw e;
        }
    }

    /** host:port as registered for other nodes and told to clients. */
    public String advertisedAddress() {
        return advertisedAddress;
    }

    public int port() {
        return listener.port();
    }

    @Override
    public void close() {
        listener.close();
        classicGroups.close();
        consumerGroups.close();
        brokers.close();
        converter.shutdownNow();
    }
}
