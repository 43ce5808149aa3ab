package io.strata.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.client.Consumer;
import io.strata.client.ConsumerRecord;
import io.strata.client.Producer;
import io.strata.client.StrataClient;
import io.strata.launcher.Installation;
import io.strata.launcher.LocalCluster;
import io.strata.launcher.MemberStatus;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rolling restart, as Kubernetes does one: every node of a launched cluster (two ingest, two fetch, the
 * compaction node) in turn gets SIGTERM, must exit within its grace period, and starts again, while a
 * producer writes and a consumer reads. Every send succeeds (what failed on the way was retried by the
 * client), every acknowledged record is read exactly once, and the consumer never sees an error.
 */
class RollingRestartTest {
    private static final String TOPIC = "rolling";
    private static final int PARTITIONS = 4;

    @TempDir
    Path dir;
    private LocalCluster cluster;

    @AfterEach
    void down() {
        if (cluster != null && cluster.exists()) {
            cluster.down(5);
        }
    }

    @Test
    void aRollingRestartOfEveryNodeUnderLoadLosesNothingAndFailsNothing() throws Exception {
        cluster = new LocalCluster(dir, new Installation(Path.of("..")), line -> { });
        cluster.up(2, 2);
        List<String> nodes = cluster.status().stream().map(s -> s.member().name())
                .filter(n -> !n.equals("etcd") && !n.equals("s3")).toList();
        String bootstrap = cluster.clientAddresses().get(0);
        Map<String, Long> acknowledged = new ConcurrentHashMap<>();
        Queue<Throwable> sendFailures = new ConcurrentLinkedQueue<>();
        Queue<Throwable> readFailures = new ConcurrentLinkedQueue<>();
        Map<String, Integer> reads = new ConcurrentHashMap<>();
        AtomicBoolean producing = new AtomicBoolean(true);
        AtomicBoolean reading = new AtomicBoolean(true);
        AtomicInteger sent = new AtomicInteger();

        try (StrataClient client = StrataClient.builder().server(bootstrap).build()) {
            client.admin().createTopic(TOPIC, PARTITIONS);
            Thread producer = new Thread(() -> {
                try (Producer p = client.producer()) {
                    List<CompletableFuture<?>> pending = new ArrayList<>();
                    while (producing.get()) {
                        String value = "r-" + sent.getAndIncrement();
                        pending.add(p.send(TOPIC, null, null, value.getBytes(StandardCharsets.UTF_8))
                                .whenComplete((m, e) -> {
                                    if (e != null) {
                                        sendFailures.add(e);
                                    } else {
                                        acknowledged.put(value, m.offset());
                                    }
                                }));
                        sleep(2); // about 500 records a second
                    }
                    p.flush();
                    CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).exceptionally(e -> null)
                            .get(120, TimeUnit.SECONDS);
                } catch (Exception e) {
                    sendFailures.add(e);
                }
            }, "rolling-producer");
            Thread consumer = new Thread(() -> {
                try (StrataClient readerClient = StrataClient.builder().server(bootstrap).build();
                     Consumer c = readerClient.consumer(TOPIC)) {
                    c.assignAll();
                    c.seekToBeginning();
                    while (reading.get()) {
                        for (ConsumerRecord r : c.poll(Duration.ofMillis(500))) {
                            reads.merge(new String(r.value(), StandardCharsets.UTF_8), 1, Integer::sum);
                        }
                    }
                } catch (Exception e) {
                    readFailures.add(e);
                }
            }, "rolling-consumer");
            producer.start();
            consumer.start();
            sleep(2_000);

            for (String node : nodes) {
                int before = acknowledged.size();
                assertThat(cluster.stop(node, 30)).as(node + " drained and exited within its grace period").isTrue();
                MemberStatus back = cluster.start(node);
                assertThat(back.health()).isEqualTo(MemberStatus.Health.UP);
                sleep(1_500);
                assertThat(acknowledged.size()).as("records acknowledged while " + node + " restarted")
                        .isGreaterThan(before);
            }

            producing.set(false);
            producer.join(TimeUnit.SECONDS.toMillis(150));
            assertThat(sendFailures).as("sends that failed").isEmpty();
            assertThat(acknowledged).hasSize(sent.get());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!reads.keySet().containsAll(acknowledged.keySet()) && System.nanoTime() < deadline) {
                sleep(200);
            }
            reading.set(false);
            consumer.join(TimeUnit.SECONDS.toMillis(30));
        }
        assertThat(readFailures).as("errors the consumer saw").isEmpty();
        assertThat(reads.keySet()).as("every acknowledged record read").containsAll(acknowledged.keySet());
        assertThat(reads.values()).as("each once: the retried batches were stored once").containsOnly(1);
        System.out.printf("rolling restart of %s: %d records acknowledged, each read once%n", nodes,
                acknowledged.size());
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
