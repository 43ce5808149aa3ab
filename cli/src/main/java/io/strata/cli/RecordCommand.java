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
 * tried again after the group's back-off (archived once its deliveries are used up).
 */
final class RecordCommand {
    private final String command;

    RecordCommand(String command) {
        this.command = command;
    }

    /** Runs the command for {@code r}; answers its exit status. */
    int run(ShareRecord r) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder("/bin/sh", "-c", command)
                .redirectOutput(ProcessBuilder.Redirect.INHERIT).redirectError(ProcessBuilder.Redirect.INHERIT);
        Map<String, String> env = builder.environment();
        env.put("STRATA_TOPIC", r.topic());
        env.put("STRATA_PARTITION", Integer.toString(r.partition()));
        env.put("STRATA_OFFSET", Long.toString(r.offset()));
        env.put("STRATA_DELIVERY_COUNT", Integer.toString(r.deliveryCount()));
        env.put("STRATA_TIMESTAMP_MS", Long.toString(r.timestampMs()));
        if (r.key() != null) {
            env.put("STRATA_KEY", new String(r.key(), StandardCharsets.UTF_8));
        }
        for (RecordHeader h : r.headers()) {
            env.put("STRATA_HEADER_" + h.key().toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "_"),
                    new String(h.value(), StandardCharsets.UTF_8));
        }
        Process process = builder.start();
        try (OutputStream stdin = process.getOutputStream()) {
            stdin.write(r.value());
        } catch (IOException closedEarly) {
            // the command did not read its input: its exit status still answers
        }
        return process.waitFor();
    }
}
