package io.strata.it;

import io.strata.client.Producer;
import io.strata.client.ProducerConfig;
import io.strata.client.StrataClient;
import io.strata.client.StrataException;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;

/**
 * A transactional producer as its own process, for the history checker to kill at any step: transaction after
 * transaction, one record to every partition of the topics it is given, two committed and one aborted in turn. It
 * writes each step to its history file as it goes ("begin T", "committing T", "committed T", "aborting T",
 * "aborted T", "failed T reason"), each line written before the next step starts, so that what the file says of a
 * transaction is what its producer was told: "committed" and "aborted" are outcomes it was given, anything else
 * leaves the outcome to the cluster (all or nothing). A producer that cannot go on takes the transactional id
 * again, which aborts what it left open, as its successor after a kill does.
 *
 * <p>Arguments: server addresses (comma-separated), history file, transactional id, generation (tells the
 * transactions of successive processes apart), then TOPIC:PARTITIONS for each topic.
 */
public final class TransactionalWriterMain {
    private TransactionalWriterMain() {
    }

    /** The value of the record transaction {@code txn} writes to a partition. */
    static String value(String txn, String topic, int partition) {
        return txn + "/" + topic + "/" + partition;
    }

    public static void main(String[] args) throws Exception {
        String transactionalId = args[2];
        String generation = args[3];
        String[] topics = Arrays.copyOfRange(args, 4, args.length);
        try (OutputStream history = new FileOutputStream(args[1], true);
             StrataClient client = StrataClient.builder().server(args[0]).deadline(Duration.ofSeconds(10)).build()) {
            // Taking the id fences a predecessor killed mid-transaction and aborts what it left open.
            Producer producer = producer(client, transactionalId);
            for (long n = 0; ; n++) {
                String txn = "g" + generation + "t" + n;
                boolean abort = n % 3 == 2;
                log(history, "begin " + txn);
                try {
                    producer.beginTransaction();
                    for (String topic : topics) {
                        String name = topic.substring(0, topic.indexOf(':'));
                        int partitions = Integer.parseInt(topic.substring(topic.indexOf(':') + 1));
                        for (int p = 0; p < partitions; p++) {
                            producer.send(name, p, null, value(txn, name, p).getBytes(StandardCharsets.UTF_8));
                        }
                    }
                    log(history, (abort ? "aborting " : "committing ") + txn);
                    if (abort) {
                        producer.abortTransaction();
                    } else {
                        producer.commitTransaction();
                    }
                    log(history, (abort ? "aborted " : "committed ") + txn);
                } catch (StrataException | IllegalStateException failed) {
                    log(history, "failed " + txn + " " + String.valueOf(failed.getMessage()).replace('\n', ' '));
                    try {
                        producer.abortTransaction();
                        log(history, "aborted " + txn);
                    } catch (StrataException | IllegalStateException cannot) {
                        // Fenced, ended by the cluster, or unreachable: a new producer of the id aborts what is open.
                        producer.close();
                        producer = producer(client, transactionalId);
                    }
                    Thread.sleep(200);
                }
            }
        }
    }

    private static Producer producer(StrataClient client, String transactionalId) throws InterruptedException {
        while (true) {
            try {
                return client.transactionalProducer(transactionalId, ProducerConfig.DEFAULT, Duration.ofSeconds(5));
            } catch (StrataException unreachable) {
                Thread.sleep(500);
            }
        }
    }

    private static void log(OutputStream history, String line) throws IOException {
        history.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        history.flush();
    }
}
