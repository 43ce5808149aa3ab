package io.strata.bench.kafka;

import io.strata.bench.ConsumeBench;
import io.strata.bench.ConsumeSource;
import io.strata.bench.EndToEndBench;
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
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * {@code strata bench produce|consume|e2e}'s workloads against Apache Kafka, driven by the same
 * {@link ProduceBench}, {@link ConsumeBench} and {@link EndToEndBench}: the same payloads, threads, warm-up,
 * measurement and output lines. Kafka's producer is configured to
 * match: acks=all, idempotence on, zstd, the same linger and batch size.
 *
 * <pre>java -cp ... io.strata.bench.kafka.KafkaBench produce --bootstrap 127.0.0.1:9092 --topic T
 *     [--record-size 1024] [--partitions 8] [--producers 4] [--duration 30] [--warmup 5] [--rate 0]
 *     [--linger-ms 5] [--batch-bytes 524288] [--compression-level 3] [--records 0]
 * java -cp ... io.strata.bench.kafka.KafkaBench consume --bootstrap 127.0.0.1:9092 --topic T [--warmup 0]
 * java -cp ... io.strata.bench.kafka.KafkaBench e2e --bootstrap 127.0.0.1:9092 --topic T [--rate 1000]
 *     [--duration 20] [--warmup 5] [--partitions 8] [--record-size 1024]</pre>
 *
 * Every command also takes {@code --client-config FILE}: client properties beside these (a listener's
 * {@code security.protocol=SSL} and trust store, say), as Kafka's own tools take {@code --command-config}; the
 * settings above win over the file's.
 */
public final class KafkaBench {
    private KafkaBench() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 0 || !List.of("produce", "consume", "e2e").contains(args[0])) {
            System.err.println("usage: KafkaBench produce|consume|e2e --bootstrap HOST:PORT --topic T [options]");
            System.exit(2);
        }
        Map<String, String> o = new java.util.HashMap<>();
        for (int i = 1; i + 1 < args.length; i += 2) {
            o.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        switch (args[0]) {
            case "consume" -> consume(o);
            case "e2e" -> endToEnd(o);
            default -> produce(o);
        }
    }

    /** {@code strata bench consume}'s workload: one consumer of every partition, beginning to end. */
    private static void consume(Map<String, String> o) {
        PrintWriter err = new PrintWriter(System.err, true);
        try (ConsumeSource source = source(o, o.getOrDefault("bootstrap", "127.0.0.1:9092"), o.get("topic"), true)) {
            err.printf("kafka: reading %s from its beginning to its end%n", o.get("topic"));
            new ConsumeBench(Duration.ofMinutes(10), Duration.ofSeconds(Long.parseLong(o.getOrDefault("warmup", "0"))))
                    .run(source, err).lines("consume").forEach(System.out::println);
        }
    }

    /** {@code strata bench e2e}'s workload: produce at a rate, consume at the tail, same driver. */
    private static void endToEnd(Map<String, String> o) throws Exception {
        String bootstrap = o.getOrDefault("bootstrap", "127.0.0.1:9092");
        String topic = o.get("topic");
        createTopic(o, bootstrap, topic, Integer.parseInt(o.getOrDefault("partitions", "8")));
        EndToEndBench.Settings settings = new EndToEndBench.Settings(
                Integer.parseInt(o.getOrDefault("record-size", "1024")),
                Long.parseLong(o.getOrDefault("rate", "1000")),
                Duration.ofSeconds(Long.parseLong(o.getOrDefault("duration", "20"))),
                Duration.ofSeconds(Long.parseLong(o.getOrDefault("warmup", "5"))));
        PrintWriter err = new PrintWriter(System.err, true);
        ProduceTarget target = target(new KafkaProducer<>(producerProps(o, bootstrap)), topic);
        try (ConsumeSource tail = source(o, bootstrap, topic, false)) {
            err.printf("kafka: producing %d records/s to %s while consuming at its tail%n", settings.ratePerSecond(),
                    topic);
            new EndToEndBench(settings).run(target, tail, err).lines("e2e").forEach(System.out::println);
        } finally {
            target.close();
        }
    }

    /** A consumer assigned every partition: from the beginning to today's ends, or from the ends on. */
    private static ConsumeSource source(Map<String, String> o, String bootstrap, String topic, boolean fromBeginning) {
        Properties props = clientConfig(o);
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "10000");
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props);
        List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                .map(p -> new TopicPartition(topic, p.partition())).toList();
        consumer.assign(partitions);
        Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
        if (fromBeginning) {
            consumer.seekToBeginning(partitions);
        } else {
            consumer.seekToEnd(partitions);
        }
        partitions.forEach(consumer::position);
        return new ConsumeSource() {
            @Override
            public void poll(Duration timeout, java.util.function.Consumer<byte[]> values) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(timeout)) {
                    values.accept(r.value());
                }
            }

            @Override
            public boolean caughtUp() {
                return ends.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue());
            }

            @Override
            public void close() {
                consumer.close();
            }
        };
    }

    private static Properties producerProps(Map<String, String> o, String bootstrap) {
        Properties props = clientConfig(o);
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
        return props;
    }

    /** The properties of {@code --client-config}, if given. */
    private static Properties clientConfig(Map<String, String> o) {
        Properties props = new Properties();
        String file = o.get("client-config");
        if (file != null) {
            try (java.io.Reader in = java.nio.file.Files.newBufferedReader(java.nio.file.Path.of(file))) {
                props.load(in);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException("cannot read --client-config " + file, e);
            }
        }
        return props;
    }

    private static void produce(Map<String, String> o) throws Exception {
        String bootstrap = o.getOrDefault("bootstrap", "127.0.0.1:9092");
        String topic = o.get("topic");
        int partitions = Integer.parseInt(o.getOrDefault("partitions", "8"));
        ProduceBench.Settings settings = new ProduceBench.Settings(
                Integer.parseInt(o.getOrDefault("record-size", "1024")),
                Integer.parseInt(o.getOrDefault("producers", "4")),
                Duration.ofSeconds(Long.parseLong(o.getOrDefault("duration", "30"))),
                Duration.ofSeconds(Long.parseLong(o.getOrDefault("warmup", "5"))),
                Long.parseLong(o.getOrDefault("rate", "0")),
                Long.parseLong(o.getOrDefault("records", "0")));
        createTopic(o, bootstrap, topic, partitions);
        Properties props = producerProps(o, bootstrap);
        PrintWriter err = new PrintWriter(System.err, true);
        err.printf("kafka: producing %d-byte records to %s from %d producers for %s%n", settings.recordSize(), topic,
                settings.producers(), settings.duration());
        ProduceBench.Result result = new ProduceBench(settings).run(i -> target(new KafkaProducer<>(props), topic), err);
        result.lines("produce").forEach(System.out::println);
    }

    private static void createTopic(Map<String, String> o, String bootstrap, String topic, int partitions)
            throws InterruptedException, ExecutionException {
        Properties props = clientConfig(o);
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(props)) {
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
