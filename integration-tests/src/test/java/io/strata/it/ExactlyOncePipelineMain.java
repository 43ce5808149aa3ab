package io.strata.it;

import io.strata.client.Consumer;
import io.strata.client.ConsumerConfig;
import io.strata.client.ConsumerRecord;
import io.strata.client.Producer;
import io.strata.client.ProducerConfig;
import io.strata.client.StrataClient;
import io.strata.client.StrataException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The exactly-once consume-transform-produce pipeline of docs/transactions.md, as its own process for tests that
 * kill it: it reads topic IN in a consumer group (read committed, no auto-commit), writes each record's value
 * upper-cased and tagged with where it came from to topic OUT, and commits the group's positions in the same
 * transaction as the output. A transaction that fails (the member lost a partition meanwhile, say) is aborted and
 * the consumer rejoins, reading from where the group committed; so is a process killed outright, by its
 * successor. Each input record is in OUT exactly once, for read-committed readers.
 *
 * <p>Arguments: server address, IN, OUT, group, transactional id (one per running instance).
 */
public final class ExactlyOncePipelineMain {
    private ExactlyOncePipelineMain() {
    }

    public static void main(String[] args) {
        String server = args[0];
        String in = args[1];
        String out = args[2];
        String group = args[3];
        String transactionalId = args[4];
        try (StrataClient client = StrataClient.builder().server(server).deadline(Duration.ofSeconds(10)).build()) {
            // Taking the id fences a predecessor killed mid-transaction and aborts what it left open.
            Producer producer = client.transactionalProducer(transactionalId, ProducerConfig.DEFAULT,
                    Duration.ofSeconds(10));
            ConsumerConfig reading = ConsumerConfig.DEFAULT.withAutoCommitInterval(Duration.ZERO)
                    .withReadCommitted(true).withSessionTimeout(Duration.ofSeconds(3)).withClientId(transactionalId);
            Consumer consumer = client.consumer(in, reading);
            consumer.subscribe(group);
            while (true) {
                List<ConsumerRecord> records = consumer.poll(Duration.ofMillis(500));
                if (records.isEmpty()) {
                    continue;
                }
                producer.beginTransaction();
                try {
                    Map<Integer, Long> next = new HashMap<>();
                    for (ConsumerRecord r : records) {
                        String value = new String(r.value(), StandardCharsets.UTF_8).toUpperCase() + "@"
                                + r.partition() + ":" + r.offset();
                        producer.send(out, null, r.key(), value.getBytes(StandardCharsets.UTF_8));
                        next.merge(r.partition(), r.offset() + 1, Math::max);
                    }
                    producer.sendOffsetsToTransaction(consumer, next);
                    producer.commitTransaction();
                } catch (StrataException | IllegalStateException failed) {
                    System.err.println("transaction failed, aborted, reading again from the group's offsets: "
                            + failed.getMessage());
                    try {
                        producer.abortTransaction();
                    } catch (StrataException fenced) {
                        System.err.println("fenced: " + fenced.getMessage());
                        return;
                    }
                    consumer.close();
                    consumer = client.consumer(in, reading);
                    consumer.subscribe(group);
                }
            }
        }
    }
}
