package io.strata.bench.kafka;

import io.strata.bench.ProduceBench;
import io.strata.bench.ProduceTarget;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * {@code strata bench produce}'s workload against Apache Kafka, driven by the same {@link ProduceBench}: the
 * same payloads, producer threads, warm-up, measurement and output lines. Kafka's producer is configured to
 * match: acks=all, idempotence on, zstd, the same linger and batch size.
 *
 * <pre>java -cp ... io.strata.bench.kafka.KafkaBench produce --bootstrap 127.0.0.1:9092 --topic T
 *     [--record-size 1024] [--partitions 8] [--producers 4] [--duration 30] [--warmup 5] [--rate 0]
 *     [--linger-ms 5] [--batch-bytes 524288] [--compression-level 3]</pre>
 */
public final class KafkaBench {
    private KafkaBench() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 0 || !args[0].equals("produce")) {
            System.err.println("usage: KafkaBench produce --bootstrap HOST:PORT --topic T [options]");
            System.exit(2);
        }
        Map<String, String> o = new java.util.HashMap<>();
        for (int i = 1; i + 1 < args.length; i += 2) {
            o.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        String bootstrap = o.getOrDefault("bootstrap", "127.0.0.1:9092");
        String topic = o.get("topic");
        int partitions = Integer.parseInt(o.getOrDefault("partitions", "8"));
        ProduceBench.Settings settings = new ProduceBench.Settings(
                Integer.parseInt(o.getOrDefault("record-size", "1024")),
                Integer.parseInt(o.getOrDefault("producers", "4")),
                Duration.ofSeconds(Long.parseLong(o.getOrDefault("duration", "30"))),
                Duration.ofSeconds(Long.parseLong(o.getOrDefault("warmup", "5"))),
                Long.parseLong(o.getOrDefault("rate", "0")));
        createTopic(bootstrap, topic, partitions);
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "zstd");
        props.put(ProducerConfig.COMPRESSION_ZSTD_LEVEL_CONFIG, o.getOrDefault("compression-level", "3"));
        props.put(ProducerConfig.LINGER_MS_CONFIG, o.getOrDefault("linger-ms", "5"));
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, o.getOrDefault("batch-bytes", "524288"));
        props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, String.valueOf(8 << 20));
        props.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        props.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        PrintWriter err = new PrintWriter(System.err, true);
        err.printf("kafka: producing %d-byte records to %s from %d producers for %s%n", settings.recordSize(), topic,
                settings.producers(), settings.duration());
        ProduceBench.Result result = new ProduceBench(settings).run(i -> target(new KafkaProducer<>(props), topic), err);
        result.lines("produce").forEach(System.out::println);
    }

    private static void createTopic(String bootstrap, String topic, int partitions)
            throws InterruptedException, ExecutionException {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw e;
            }
        }
    }

    private static ProduceTarget target(KafkaProducer<byte[], byte[]> producer, String topic) {
        return new ProduceTarget() {
            @Override
            public CompletableFuture<?> send(byte[] value) {
                CompletableFuture<Object> acked = new CompletableFuture<>();
                producer.send(new ProducerRecord<>(topic, value), (metadata, e) -> {
                    if (e != null) {
                        acked.completeExceptionally(e);
                    } else {
                        acked.complete(metadata);
                    }
                });
                return acked;
            }

            @Override
            public void flush() {
                producer.flush();
            }

            @Override
            public void close() {
                producer.close();
            }
        };
    }
}
