package io.strata.transactions.half;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * How far the owning fetch node has read a partition's half log (every half message before {@code scanned} has its
 * state in the metadata store, or had and is settled), and the idempotent producer it delivers committed ones as:
 * the round under way ({@code intent}: which offsets, from which sequence) is written down before its first record
 * goes, so a node that stops midway leaves a round the next one sends again and the ingest path answers as a
 * duplicate. Stored under {@code {root}/half-scan/{topic id}/{partition}}, changed by compare-and-set. Pure.
 */
public record HalfScan(long scanned, long producerId, long nextSequence, Intent intent) {
    private static final int MAGIC = 0x53;
    private static final int VERSION = 1;
    public static final HalfScan EMPTY = new HalfScan(0, -1, 0, null);

    /** A round of deliveries written down: the half log's offsets, in order, taking sequences from baseSequence. */
    public record Intent(List<Long> offsets, long baseSequence, long plannedAtMs) {
        public Intent {
            offsets = List.copyOf(offsets);
            if (offsets.isEmpty() || baseSequence < 0) {
                throw new IllegalArgumentException("an empty round");
            }
            for (int i = 1; i < offsets.size(); i++) {
                if (offsets.get(i) <= offsets.get(i - 1)) {
                    throw new IllegalArgumentException("a round's offsets go up");
                }
            }
        }
    }

    public HalfScan {
        if (scanned < 0 || producerId < -1 || nextSequence < 0) {
            throw new IllegalArgumentException("invalid half scan " + scanned + "/" + producerId + "/" + nextSequence);
        }
        if (intent != null && intent.baseSequence() != nextSequence) {
            throw new IllegalArgumentException("a round from sequence " + intent.baseSequence() + ", the next is "
                    + nextSequence);
        }
    }

    public HalfScan scannedTo(long to) {
        if (to < scanned) {
            throw new IllegalArgumentException("scanned back from " + scanned + " to " + to);
        }
        return new HalfScan(to, producerId, nextSequence, intent);
    }

    /** Delivering as a new producer, from sequence 0 (the round under way keeps its offsets). */
    public HalfScan withProducer(long id) {
        return new HalfScan(scanned, id, 0, intent == null ? null
                : new Intent(intent.offsets(), 0, intent.plannedAtMs()));
    }

    public HalfScan planning(List<Long> offsets, long nowMs) {
        if (intent != null) {
            throw new IllegalStateException("a round is under way");
        }
        return new HalfScan(scanned, producerId, nextSequence, new Intent(offsets, nextSequence, nowMs));
    }

    /** The round under way is stored. */
    public HalfScan roundDelivered() {
        if (intent == null) {
            throw new IllegalStateException("no round under way");
        }
        return new HalfScan(scanned, producerId, nextSequence + intent.offsets().size(), null);
    }

    public byte[] encode() {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(32);
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeByte(MAGIC);
            out.writeByte(VERSION);
            out.writeLong(scanned);
            out.writeLong(producerId);
            out.writeLong(nextSequence);
            out.writeInt(intent == null ? 0 : intent.offsets().size());
            if (intent != null) {
                out.writeLong(intent.baseSequence());
                out.writeLong(intent.plannedAtMs());
                for (long o : intent.offsets()) {
                    out.writeLong(o);
                }
            }
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static HalfScan decode(byte[] bytes) {
        try {
            DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(bytes));
            if (in.readUnsignedByte() != MAGIC || in.readUnsignedByte() != VERSION) {
                throw new IllegalArgumentException("not a half scan of version " + VERSION);
            }
            long scanned = in.readLong();
            long producer = in.readLong();
            long next = in.readLong();
            int n = in.readInt();
            if (n < 0 || n > bytes.length / 8) {
                throw new IllegalArgumentException("a half scan's round of " + n + " offsets");
            }
            Intent intent = null;
            if (n > 0) {
                long base = in.readLong();
                long planned = in.readLong();
                List<Long> offsets = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    offsets.add(in.readLong());
                }
                intent = new Intent(offsets, base, planned);
            }
            if (in.available() > 0) {
                throw new IllegalArgumentException(in.available() + " bytes after a half scan");
            }
            return new HalfScan(scanned, producer, next, intent);
        } catch (IOException e) {
            throw new IllegalArgumentException("a half scan cut short", e);
        }
    }
}
