package io.strata.it;

import io.strata.client.Consumer;
import io.strata.client.ConsumerConfig;
import io.strata.client.ConsumerRecord;
import io.strata.client.RebalanceListener;
import io.strata.client.StrataClient;
import io.strata.client.StrataException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A consumer group member as its own process, for tests that kill or pause members. It commits what it
 * processed after every poll (so a successor resumes where the log says) and logs, one event a line with the
 * wall clock in ms (one machine, one clock):
 * <pre>
 * JOINED  ms member
 * ASSIGN  ms member partition
 * REVOKE  ms member partition      (handed over: its offsets are committed first)
 * LOST    ms member partition      (the session ended under it)
 * RECORD  ms member partition offset value
 * COMMIT  ms member partition offset
 * FAILED  ms member status         (a refused commit)
 * </pre>
 * Arguments: server address, topic, group, session timeout ms, how long processing a poll's records takes (ms).
 */
public final class GroupMemberMain {
    private static final PrintStream OUT = new PrintStream(System.out, true, StandardCharsets.UTF_8);

    private GroupMemberMain() {
    }

    private static synchronized void log(String event, Object... fields) {
        StringBuilder line = new StringBuilder(event).append(' ').append(System.currentTimeMillis());
        for (Object f : fields) {
            line.append(' ').append(f);
        }
        OUT.println(line);
    }

    public static void main(String[] args) throws Exception {
        String server = args[0];
        String topic = args[1];
        String group = args[2];
        Duration session = Duration.ofMillis(Long.parseLong(args[3]));
        long pauseMs = Long.parseLong(args[4]);
        try (StrataClient client = StrataClient.builder().server(server).deadline(Duration.ofSeconds(10)).build()) {
            Consumer consumer = client.consumer(topic, ConsumerConfig.DEFAULT.withSessionTimeout(session)
                    .withAutoCommitInterval(Duration.ZERO).withClientId("member"));
            Map<Integer, Long> processed = new HashMap<>();
            consumer.subscribe(group, new RebalanceListener() {
                @Override
                public void onPartitionsAssigned(Collection<Integer> partitions) {
                    partitions.forEach(p -> log("ASSIGN", consumer.memberId(), p));
                }

                @Override
                public void onPartitionsRevoked(Collection<Integer> partitions) {
                    commit(consumer, processed, partitions);
                    partitions.forEach(p -> log("REVOKE", consumer.memberId(), p));
                }

                @Override
                public void onPartitionsLost(Collection<Integer> partitions) {
                    partitions.forEach(p -> {
                        processed.remove(p);
                        log("LOST", consumer.memberId(), p);
                    });
                }
            });
            log("JOINED", consumer.memberId());
            while (true) {
                List<ConsumerRecord> records = consumer.poll(Duration.ofMillis(500));
                for (ConsumerRecord r : records) {
                    log("RECORD", consumer.memberId(), r.partition(), r.offset(),
                            new String(r.value(), StandardCharsets.UTF_8));
                    processed.put(r.partition(), r.offset() + 1);
                }
                if (!records.isEmpty() && pauseMs > 0) {
                    Thread.sleep(pauseMs); // "processing": a pause here leaves a commit to make when it ends
                }
                commit(consumer, processed, consumer.assignment());
            }
        }
    }

    private static void commit(Consumer consumer, Map<Integer, Long> processed, Collection<Integer> partitions) {
        Map<Integer, Long> offsets = new HashMap<>();
        partitions.forEach(p -> {
            Long next = processed.remove(p);
            if (next != null) {
                offsets.put(p, next);
            }
        });
        if (offsets.isEmpty()) {
            return;
        }
        try {
            consumer.commitSync(offsets);
            offsets.forEach((p, o) -> log("COMMIT", consumer.memberId(), p, o));
        } catch (StrataException e) {
            log("FAILED", consumer.memberId(), e.code());
        }
    }
}
