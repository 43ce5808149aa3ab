package io.strata.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.client.Consumer;
import io.strata.client.ConsumerRecord;
import io.strata.client.Producer;
import io.strata.client.StrataClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Writing and reading a topic with the Java client as an application would, for end-to-end tests. */
final class ClientRecords {
    private ClientRecords() {
    }

    /** Sends {@code count} records ({@code prefix-0}, ...) without keys and waits for every acknowledgement. */
    static Set<String> produce(StrataClient client, String topic, String prefix, int count) throws Exception {
        Set<String> produced = new HashSet<>();
        List<CompletableFuture<?>> acks = new ArrayList<>();
        try (Producer producer = client.producer()) {
            for (int i = 0; i < count; i++) {
                String value = prefix + "-" + i;
                acks.add(producer.send(topic, null, null, value.getBytes(StandardCharsets.UTF_8)));
                produced.add(value);
            }
            producer.flush();
            CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        }
        return produced;
    }

    /** Reads every partition from its beginning until {@code expected} records came (at most 60 s). */
    static Set<String> consumeAll(StrataClient client, String topic, int expected) {
        Set<String> seen = new HashSet<>();
        int read = 0;
        try (Consumer consumer = client.consumer(topic)) {
            consumer.assignAll();
            consumer.seekToBeginning();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (read < expected && System.nanoTime() < deadline) {
                for (ConsumerRecord r : consumer.poll(Duration.ofSeconds(2))) {
                    seen.add(new String(r.value(), StandardCharsets.UTF_8));
                    read++;
                }
            }
        }
        assertThat(read).as("records read, each once").isEqualTo(expected);
        return seen;
    }
}
