package io.strata.format;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The headers of a dead-letter copy (docs/queues.md, "Dead-letter topics"), one rule for the fetch node that
 * writes share groups' copies and the client that writes classic groups': the original's headers, then
 * {@code strata.dlq.topic}, {@code partition}, {@code offset}, {@code group}, {@code delivery-count},
 * {@code reason}, {@code error} (when there is one) and {@code timestamp} (the original's, when it has one), as
 * UTF-8 text. Pure.
 */
public final class DeadLetterHeaders {
    /** What every dead-letter header's name starts with. */
    public static final String PREFIX = "strata.dlq.";

    private DeadLetterHeaders() {
    }

    /**
     * @param original    the original record's headers (none when the copy goes without the record)
     * @param timestampMs the original's timestamp, or -1 when the copy goes without the record
     */
    public static List<RecordHeader> of(List<RecordHeader> original, String topic, int partition, long offset,
                                        String group, int deliveries, String reason, String error, long timestampMs) {
        List<RecordHeader> headers = new ArrayList<>(original.size() + 8);
        headers.addAll(original);
        add(headers, "topic", topic);
        add(headers, "partition", Integer.toString(partition));
        add(headers, "offset", Long.toString(offset));
        add(headers, "group", group);
        add(headers, "delivery-count", Integer.toString(deliveries));
        add(headers, "reason", reason);
        if (error != null && !error.isEmpty()) {
            add(headers, "error", error);
        }
        if (timestampMs >= 0) {
            add(headers, "timestamp", Long.toString(timestampMs));
        }
        return headers;
    }

    private static void add(List<RecordHeader> headers, String name, String value) {
        headers.add(new RecordHeader(PREFIX + name, value.getBytes(StandardCharsets.UTF_8)));
    }
}
