package io.strata.format;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A delayed record's delivery time, as it travels and waits: the record header {@code strata.deliver-at} holding
 * epoch milliseconds in decimal (readable where headers are printed). One rule for producers, the ingest path
 * that checks it and the node that delivers the record. Pure.
 */
public final class DeliverAt {
    /** The header that carries a delayed record's delivery time. */
    public static final String HEADER = "strata.deliver-at";
    /**
     * Delayed records for partition p wait in the topic's staging partition {@code p | STAGING_BIT}, a log of its
     * own that no client names; producers number their delayed batches' sequences in that partition's name.
     */
    public static final int STAGING_BIT = 1 << 30;
    /** How far ahead a record may be delayed: a year and a day. */
    public static final long MAX_AHEAD_MS = 366L * 24 * 3600 * 1000;

    private DeliverAt() {
    }

    /** The header for {@code dueMs}. */
    public static RecordHeader header(long dueMs) {
        return new RecordHeader(HEADER, Long.toString(dueMs).getBytes(StandardCharsets.UTF_8));
    }

    /** The record's delivery time from its headers (the last such header), or -1 when it has none or a bad one. */
    public static long of(List<RecordHeader> headers) {
        long due = -1;
        for (RecordHeader h : headers) {
            if (HEADER.equals(h.key())) {
                due = parse(h.value());
            }
        }
        return due;
    }

    /** Epoch milliseconds in plain decimal digits, or -1. */
    public static long parse(byte[] value) {
        if (value.length == 0 || value.length > 18) {
            return -1;
        }
        long v = 0;
        for (byte b : value) {
            if (b < '0' || b > '9') {
                return -1;
            }
            v = v * 10 + (b - '0');
        }
        return v;
    }

    /** Why {@code dueMs} is no delivery time at {@code nowMs}, or null when it is one. */
    public static String problem(long dueMs, long nowMs) {
        if (dueMs <= 0) {
            return "a delayed record needs its delivery time (header " + HEADER + ", epoch milliseconds)";
        }
        if (dueMs > nowMs + MAX_AHEAD_MS) {
            return "a delivery time of " + java.time.Instant.ofEpochMilli(dueMs) + " is more than a year and a day ahead";
        }
        return null;
    }
}
