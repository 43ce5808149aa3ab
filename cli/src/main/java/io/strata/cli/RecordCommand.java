package io.strata.cli;

import io.strata.client.RecordHeader;
import io.strata.client.ShareRecord;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;

/**
 * {@code strata consume --share G --exec CMD}: runs CMD once for a record, through {@code /bin/sh -c}, with the
 * record's value on its standard input and what else it has in environment variables; its output goes where the
 * command line's goes. Its exit status is the answer: 0 accepts the record, anything else gives it back to be
 * tried again after the group's back-off (archived once its deliveries are used up). In a consumer group
 * ({@code --group G --exec CMD}) the printer tries a failing record again itself, then dead-letters it.
 */
final class RecordCommand {
    private final String command;

    RecordCommand(String command) {
        this.command = command;
    }

    /** Runs the command for {@code r}; answers its exit status. */
    int run(ShareRecord r) throws IOException, InterruptedException {
        return run(r.topic(), r.partition(), r.offset(), r.deliveryCount(), r.timestampMs(), r.key(), r.value(),
                r.headers());
    }

    /** Runs the command for a consumer group's record, delivered for the {@code deliveryCount}th time. */
    int run(io.strata.client.ConsumerRecord r, int deliveryCount) throws IOException, InterruptedException {
        return run(r.topic(), r.partition(), r.offset(), deliveryCount, r.timestampMs(), r.key(), r.value(),
                r.headers());
    }

    private int run(String topic, int partition, long offset, int deliveryCount, long timestampMs, byte[] key,
                    byte[] value, java.util.List<RecordHeader> headers) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder("/bin/sh", "-c", command)
                .redirectOutput(ProcessBuilder.Redirect.INHERIT).redirectError(ProcessBuilder.Redirect.INHERIT);
        Map<String, String> env = builder.environment();
        env.put("STRATA_TOPIC", topic);
        env.put("STRATA_PARTITION", Integer.toString(partition));
        env.put("STRATA_OFFSET", Long.toString(offset));
        env.put("STRATA_DELIVERY_COUNT", Integer.toString(deliveryCount));
        env.put("STRATA_TIMESTAMP_MS", Long.toString(timestampMs));
        if (key != null) {
            env.put("STRATA_KEY", new String(key, StandardCharsets.UTF_8));
        }
        for (RecordHeader h : headers) {
            env.put("STRATA_HEADER_" + h.key().toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "_"),
                    new String(h.value(), StandardCharsets.UTF_8));
        }
        Process process = builder.start();
        try (OutputStream stdin = process.getOutputStream()) {
            stdin.write(value);
        } catch (IOException closedEarly) {
            // the command did not read its input: its exit status still answers
        }
        return process.waitFor();
    }
}
