package io.strata.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.strata.api.v1.AdminServiceGrpc;
import io.strata.api.v1.ConsumedRecord;
import io.strata.api.v1.CreateTopicRequest;
import io.strata.api.v1.FetchRequest;
import io.strata.api.v1.FetchResponse;
import io.strata.api.v1.FetchServiceGrpc;
import io.strata.testkit.etcd.EtcdFixture;
import io.strata.testkit.s3.S3ServerFixture;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One distributed Strata for a test: its own key root in the shared real etcd and its own bucket in the
 * shared real S3-compatible server, and the server processes the test starts on them. Closing it stops
 * every process and channel it made.
 */
final class StrataCluster implements AutoCloseable {
    private final Path work;
    private final Map<String, String> settings = new HashMap<>();
    private final List<StrataProcess> nodes = new ArrayList<>();
    private final List<ManagedChannel> channels = new ArrayList<>();
    private final String bucket;

    StrataCluster(Path work) {
        this.work = work;
        bucket = "strata-it-" + System.nanoTime();
        S3ServerFixture.shared().createBucket(bucket);
        settings.putAll(storeSettings(bucket));
        settings.put("strata.metadata.etcd-endpoints", EtcdFixture.shared().endpoint());
        settings.put("strata.ingest.block-linger", "20ms");
    }

    /**
     * A cluster's stores without etcd's address: a key root of its own in etcd, and {@code bucket} (which
     * may not exist yet) on the shared S3 server.
     */
    static Map<String, String> storeSettings(String bucket) {
        S3ServerFixture s3 = S3ServerFixture.shared();
        return storeSettings(s3.endpoint(), s3.region(), bucket, s3.accessKey(), s3.secretKey());
    }

    /** The same on another S3-compatible server. */
    static Map<String, String> storeSettings(URI endpoint, String region, String bucket, String accessKey,
                                             String secretKey) {
        Map<String, String> settings = new HashMap<>();
        settings.put("strata.metadata.type", "etcd");
        settings.put("strata.metadata.root", "/it-" + System.nanoTime());
        settings.put("strata.metadata.shards", "16");
        settings.put("strata.object-store.type", "s3");
        settings.put("strata.object-store.s3.endpoint", endpoint.toString());
        settings.put("strata.object-store.s3.bucket", bucket);
        settings.put("strata.object-store.s3.region", region);
        settings.put("strata.object-store.s3.access-key", accessKey);
        settings.put("strata.object-store.s3.secret-key", secretKey);
        return settings;
    }

    /** Every node started after this uses {@code value} for {@code key}. */
    StrataCluster set(String key, String value) {
        settings.put(key, value);
        return this;
    }

    /** The cluster's key root in etcd. */
    String root() {
        return settings.get("strata.metadata.root");
    }

    String bucket() {
        return bucket;
    }

    /** A look straight into this cluster's index in etcd and its bucket (the tests' oracle). */
    ClusterInspector inspector() {
        return new ClusterInspector(settings.get("strata.metadata.root"), bucket,
                Integer.parseInt(settings.get("strata.metadata.shards")));
    }

    StrataProcess start(String name, String roles) {
        return start(name, roles, Map.of());
    }

    StrataProcess start(String name, String roles, Map<String, String> extra) {
        return prepare(name, roles, extra).start();
    }

    /**
     * Nodes prepared with {@link #prepare}, launched at once and then awaited ready each: their JVMs start side by
     * side rather than one after the other (most of a start is one core's work, and tests start nodes by the hundred).
     */
    List<StrataProcess> startTogether(StrataProcess... prepared) {
        for (StrataProcess node : prepared) {
            node.launch();
        }
        for (StrataProcess node : prepared) {
            node.awaitReady(java.time.Duration.ofSeconds(90));
        }
        return List.of(prepared);
    }

    /** A node with its port chosen but not started (settings that need its port go in with {@code with}). */
    StrataProcess prepare(String name, String roles, Map<String, String> extra) {
        Map<String, String> s = new HashMap<>(settings);
        s.put("strata.roles", roles);
        s.put("strata.node-id", name);
        s.putAll(extra);
        StrataProcess node = new StrataProcess(name, s, work.resolve(name));
        nodes.add(node);
        return node;
    }

    ManagedChannel channel(String address) {
        ManagedChannel channel = ManagedChannelBuilder.forTarget(address).usePlaintext()
                .maxInboundMessageSize(64 << 20).build();
        channels.add(channel);
        return channel;
    }

    ManagedChannel channel(StrataProcess node) {
        return channel(node.address());
    }

    void createTopic(StrataProcess node, String name, int partitions) {
        AdminServiceGrpc.newBlockingStub(channel(node)).withDeadlineAfter(30, TimeUnit.SECONDS)
                .createTopic(CreateTopicRequest.newBuilder().setName(name).setPartitions(partitions).build());
    }

    /** Reads [0, end) of a partition with long polls, waiting (bounded) for the fetch node to see it all. */
    static List<ConsumedRecord> consume(FetchServiceGrpc.FetchServiceBlockingStub fetch, String topic, int partition,
                                        long end) {
        List<ConsumedRecord> records = new ArrayList<>();
        long offset = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (offset < end && System.nanoTime() < deadline) {
            FetchResponse response = fetch.withDeadlineAfter(30, TimeUnit.SECONDS).fetch(FetchRequest.newBuilder()
                    .setTopic(topic).setPartition(partition).setOffset(offset).setMaxBytes(1 << 20)
                    .setMaxWaitMs(1_000).build());
            records.addAll(response.getRecordsList());
            offset = response.getNextOffset();
        }
        assertThat(offset).as("consumed to the end of %s/%d", topic, partition).isEqualTo(end);
        return records;
    }

    /** The end offset the fetch node reports for a partition (waiting up to a few seconds for it to settle). */
    static long endOffset(FetchServiceGrpc.FetchServiceBlockingStub fetch, String topic, int partition) {
        return fetch.withDeadlineAfter(30, TimeUnit.SECONDS).fetch(FetchRequest.newBuilder().setTopic(topic)
                .setPartition(partition).setOffset(0).setMaxBytes(1).build()).getEndOffset();
    }

    /** A counter from a node's Prometheus metrics ({@code name_total}); 0 when absent. */
    static double metric(StrataProcess node, String name) {
        try {
            HttpResponse<String> r = io.strata.launcher.HttpProbe.get(URI.create("http://" + node.httpAddress()
                    + "/q/metrics"));
            return r.body().lines().filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{"))
                    .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        channels.forEach(ManagedChannel::shutdownNow);
        for (StrataProcess node : nodes) {
            try {
                node.terminate(); // every node drains at once
            } catch (RuntimeException e) {
                // close() below stops it, or kills it
            }
        }
        nodes.forEach(StrataProcess::close);
    }
}
