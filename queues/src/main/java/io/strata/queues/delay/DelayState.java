package io.strata.queues.delay;

import io.strata.queues.codec.Varints;
import java.io.ByteArrayOutputStream;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The state of one staging partition's delayed records, as stored (one etcd value): how far the staging log was
 * read into buckets, the buckets (objects in the object store) with how many of each are delivered, the
 * idempotent producer the deliveries go out as and its next sequence number, and the round under way, written
 * down before its first record is delivered. Small whatever the number of pending records: a bucket holds many.
 * Immutable.
 *
 * @param scanned      the staging offset up to which records are in buckets
 * @param producerId   the deliveries' idempotent producer, or -1 before the first
 * @param nextSequence the sequence number the next delivered record takes
 * @param intent       the round under way (to replay as it was after a crash), or null
 */
public record DelayState(long scanned, List<Bucket> buckets, long producerId, long nextSequence, Intent intent) {
    private static final byte MAGIC = 'T';
    private static final byte VERSION = 2; // 2: an intent says when it was written down

    /**
     * A bucket: where it is, how many entries it holds, how many are delivered, its due-time span, and its size
     * in the object store (what merging it costs).
     */
    public record Bucket(String objectKey, long count, long delivered, long firstDueMs, long lastDueMs, long bytes) {
        public Bucket {
            if (objectKey == null || objectKey.isEmpty() || count < 1 || delivered < 0 || delivered > count
                    || firstDueMs < 0 || lastDueMs < firstDueMs || bytes < 1) {
                throw new IllegalArgumentException("invalid bucket " + objectKey);
            }
        }

        public boolean done() {
            return delivered == count;
        }
    }

    /**
     * A round written down before delivery: what it takes of each bucket, its first sequence number, and when it
     * was written down (how long ago its batch may have been stored: the ingest path forgets a producer only after
     * a day without its batches, so a round younger than that which meets an unknown producer was not stored).
     */
    public record Intent(List<DeliveryRound.Take> takes, long baseSequence, long plannedAtMs) {
        public Intent {
            takes = List.copyOf(takes);
            if (takes.isEmpty() || baseSequence < 0 || plannedAtMs < 0) {
                throw new IllegalArgumentException("an intent takes something, from a sequence number");
            }
        }

        public long count() {
            return takes.stream().mapToLong(t -> t.to() - t.from()).sum();
        }
    }

    public static final DelayState EMPTY = new DelayState(0, List.of(), -1, 0, null);

    public DelayState {
        buckets = List.copyOf(buckets);
        if (scanned < 0 || producerId < -1 || producerId == Long.MAX_VALUE || nextSequence < 0) {
            throw new IllegalArgumentException("invalid delay state");
        }
        java.util.Map<String, Bucket> byKey = new java.util.HashMap<>();
        for (Bucket b : buckets) {
            if (byKey.put(b.objectKey(), b) != null) {
                throw new IllegalArgumentException("bucket " + b.objectKey() + " listed twice");
            }
        }
        if (intent != null) {
            // A round written down takes what follows on from each bucket's delivered entries, from the next
            // sequence number: anything else is not a round this state could have planned.
            java.util.Set<String> taken = new java.util.HashSet<>();
            for (DeliveryRound.Take t : intent.takes()) {
                Bucket b = byKey.get(t.bucket());
                if (b == null || !taken.add(t.bucket()) || t.from() != b.delivered() || t.to() > b.count()) {
                    throw new IllegalArgumentException("the intent's take " + t + " does not follow on from its bucket");
                }
            }
            if (intent.baseSequence() != nextSequence) {
                throw new IllegalArgumentException("the intent starts at sequence " + intent.baseSequence()
                        + ", the state's next is " + nextSequence);
            }
        }
    }

    /** Scanned up to {@code to}, with the bucket those records went into (null: none of them was delayed). */
    public DelayState scannedTo(long to, Bucket added) {
        if (to < scanned) {
            throw new IllegalArgumentException("scanned back from " + scanned + " to " + to);
        }
        List<Bucket> next = new ArrayList<>(buckets);
        if (added != null) {
            next.add(added);
        }
        return new DelayState(to, next, producerId, nextSequence, intent);
    }

    /** The round under way written down (its base sequence is the next sequence). */
    public DelayState planning(List<DeliveryRound.Take> takes, long nowMs) {
        return new DelayState(scanned, buckets, producerId, nextSequence, new Intent(takes, nextSequence, nowMs));
    }

    /**
     * Delivering as a new idempotent producer, numbered from 0 (the last one is unknown to the ingest path now): the
     * round under way, if any, keeps its takes under the new numbering.
     */
    public DelayState withProducer(long id) {
        if (id < 0) {
            throw new IllegalArgumentException("invalid producer id " + id);
        }
        return new DelayState(scanned, buckets, id, 0, intent == null ? null
                : new Intent(intent.takes(), 0, intent.plannedAtMs()));
    }

    /** The round under way delivered: its entries count as delivered, buckets delivered in full go. */
    public DelayState roundDelivered() {
        if (intent == null) {
            throw new IllegalStateException("no round under way");
        }
        java.util.Map<String, Long> upTo = new java.util.HashMap<>();
        intent.takes().forEach(t -> upTo.put(t.bucket(), t.to()));
        List<Bucket> next = new ArrayList<>();
        for (Bucket b : buckets) {
            long delivered = upTo.getOrDefault(b.objectKey(), b.delivered());
            if (delivered < b.count()) {
                next.add(new Bucket(b.objectKey(), b.count(), delivered, b.firstDueMs(), b.lastDueMs(), b.bytes()));
            }
        }
        return new DelayState(scanned, next, producerId, nextSequence + intent.count(), null);
    }

    /** Buckets {@code replaced} are now one: {@code merged}, holding what they had left to deliver. */
    public DelayState merged(java.util.Set<String> replaced, Bucket merged) {
        if (intent != null) {
            throw new IllegalStateException("buckets merge between rounds only");
        }
        List<Bucket> next = new ArrayList<>();
        long left = 0;
        for (Bucket b : buckets) {
            if (replaced.contains(b.objectKey())) {
                left += b.count() - b.delivered();
            } else {
                next.add(b);
            }
        }
        if (left != merged.count() || merged.delivered() != 0) {
            throw new IllegalArgumentException("a merged bucket of " + merged.count() + " entries for " + left
                    + " left in the buckets it replaces");
        }
        next.add(merged);
        return new DelayState(scanned, next, producerId, nextSequence, null);
    }

    /** The records still waiting, over every bucket. */
    public long pending() {
        return buckets.stream().mapToLong(b -> b.count() - b.delivered()).sum();
    }

    public byte[] encode() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(64);
        out.write(MAGIC);
        out.write(VERSION);
        Varints.write(out, scanned);
        Varints.write(out, producerId + 1);
        Varints.write(out, nextSequence);
        Varints.write(out, buckets.size());
        for (Bucket b : buckets) {
            writeText(out, b.objectKey());
            Varints.write(out, b.count());
            Varints.write(out, b.delivered());
            Varints.write(out, b.firstDueMs());
            Varints.write(out, b.lastDueMs() - b.firstDueMs());
            Varints.write(out, b.bytes());
        }
        if (intent == null) {
            Varints.write(out, 0);
        } else {
            Varints.write(out, intent.takes().size());
            Varints.write(out, intent.baseSequence());
            Varints.write(out, intent.plannedAtMs());
            for (DeliveryRound.Take t : intent.takes()) {
                writeText(out, t.bucket());
                Varints.write(out, t.from());
                Varints.write(out, t.to() - t.from());
            }
        }
        return out.toByteArray();
    }

    public static DelayState decode(byte[] bytes) {
        try {
            ByteBuffer in = ByteBuffer.wrap(bytes);
            if (in.get() != MAGIC || in.get() != VERSION) {
                throw new IllegalArgumentException("not a delay state of version " + VERSION);
            }
            long scanned = Varints.read(in);
            long producerId = Varints.read(in) - 1;
            long nextSequence = Varints.read(in);
            int n = Varints.count(in);
            List<Bucket> buckets = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                String key = readText(in);
                long count = Varints.read(in);
                long delivered = Varints.read(in);
                long first = Varints.read(in);
                long last = Math.addExact(first, Varints.read(in));
                buckets.add(new Bucket(key, count, delivered, first, last, Varints.read(in)));
            }
            int takes = Varints.count(in);
            Intent intent = null;
            if (takes > 0) {
                long base = Varints.read(in);
                long plannedAt = Varints.read(in);
                List<DeliveryRound.Take> list = new ArrayList<>(takes);
                for (int i = 0; i < takes; i++) {
                    String bucket = readText(in);
                    long from = Varints.read(in);
                    list.add(new DeliveryRound.Take(bucket, from, Math.addExact(from, Varints.read(in))));
                }
                intent = new Intent(list, base, plannedAt);
            }
            if (in.hasRemaining()) {
                throw new IllegalArgumentException(in.remaining() + " bytes after the delay state");
            }
            return new DelayState(scanned, buckets, producerId, nextSequence, intent);
        } catch (BufferUnderflowException | ArithmeticException e) {
            throw new IllegalArgumentException("a delay state cut short or out of range", e);
        }
    }

    private static void writeText(ByteArrayOutputStream out, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        Varints.write(out, b.length);
        out.write(b, 0, b.length);
    }

    private static String readText(ByteBuffer in) {
        int length = Varints.count(in);
        if (length > in.remaining()) {
            throw new IllegalArgumentException("text of " + length + " bytes with " + in.remaining() + " left");
        }
        byte[] b = new byte[length];
        in.get(b);
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(b)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new IllegalArgumentException("text that is not UTF-8", e);
        }
    }
}
