package io.strata.transactions.half;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/**
 * What is decided of one half message (docs/transactions.md, "Half messages with check-back"): stored under
 * {@code {root}/half/{topic id}/{partition}/{offset}} and changed only by compare-and-set, so that it is decided
 * exactly once. {@link Status#PENDING} until its producer (or a producer of its group asked by check-back, or the
 * limit of checks) decides; {@code COMMIT} and {@code ROLLBACK} until the owning fetch node delivers or drops it;
 * {@code DELIVERED} and {@code DROPPED} for a while after, so a decision sent again is answered as it stands. Pure.
 */
public record HalfState(Status status, String group, long sentAtMs, int checks, long nextCheckMs, String decidedBy,
                        long settledAtMs) {
    private static final int MAGIC = 0x48;
    private static final int VERSION = 1;

    public enum Status {
        PENDING, COMMIT, ROLLBACK, DELIVERED, DROPPED;

        /** Whether a decision stands (committed or rolled back, delivered or dropped or not yet). */
        public boolean decided() {
            return this != PENDING;
        }

        /** Whether the decision was to commit. */
        public boolean committed() {
            return this == COMMIT || this == DELIVERED;
        }

        /** Whether the decision is carried out: delivered or dropped. */
        public boolean settled() {
            return this == DELIVERED || this == DROPPED;
        }
    }

    public HalfState {
        if (status == null || group == null || decidedBy == null || checks < 0) {
            throw new IllegalArgumentException("an incomplete half message state");
        }
    }

    /** A half message found in its half log, sent at {@code sentAtMs}: first checked {@code checkAfterMs} later. */
    public static HalfState pending(String group, long sentAtMs, long checkAfterMs) {
        return new HalfState(Status.PENDING, group, sentAtMs, 0, sentAtMs + checkAfterMs, "", 0);
    }

    /**
     * Decided before the node that delivers it found it in its half log (its producer was quick): the group is
     * filled in when it is found.
     */
    public static HalfState decidedAhead(boolean commit, String by) {
        return new HalfState(commit ? Status.COMMIT : Status.ROLLBACK, "", 0, 0, 0, by, 0);
    }

    public HalfState decided(boolean commit, String by) {
        if (status.decided()) {
            throw new IllegalStateException("already decided: " + status);
        }
        return new HalfState(commit ? Status.COMMIT : Status.ROLLBACK, group, sentAtMs, checks, 0, by, 0);
    }

    /** One more check asked of its group; the next one is due at {@code nextCheckMs}. */
    public HalfState checked(long nextCheckMs) {
        return new HalfState(status, group, sentAtMs, checks + 1, nextCheckMs, decidedBy, settledAtMs);
    }

    /** Delivered (committed) or dropped (rolled back) at {@code nowMs}. */
    public HalfState settled(long nowMs) {
        if (status != Status.COMMIT && status != Status.ROLLBACK) {
            throw new IllegalStateException("not decided, or settled already: " + status);
        }
        return new HalfState(status == Status.COMMIT ? Status.DELIVERED : Status.DROPPED, group, sentAtMs, checks, 0,
                decidedBy, nowMs);
    }

    /** Committed, but its record is refused by the ingest path for good: dropped undelivered at {@code nowMs}. */
    public HalfState undeliverable(long nowMs) {
        if (status != Status.COMMIT) {
            throw new IllegalStateException("not committed: " + status);
        }
        return new HalfState(Status.DROPPED, group, sentAtMs, checks, 0, decidedBy + ", undeliverable", nowMs);
    }

    /** A state decided ahead, with what its half log says of it. */
    public HalfState found(String group, long sentAtMs) {
        return new HalfState(status, group, sentAtMs, checks, nextCheckMs, decidedBy, settledAtMs);
    }

    public byte[] encode() {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeByte(MAGIC);
            out.writeByte(VERSION);
            out.writeByte(status.ordinal());
            out.writeUTF(group);
            out.writeLong(sentAtMs);
            out.writeInt(checks);
            out.writeLong(nextCheckMs);
            out.writeUTF(decidedBy);
            out.writeLong(settledAtMs);
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static HalfState decode(byte[] bytes) {
        try {
            DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(bytes));
            if (in.readUnsignedByte() != MAGIC || in.readUnsignedByte() != VERSION) {
                throw new IllegalArgumentException("not a half message state of version " + VERSION);
            }
            int status = in.readUnsignedByte();
            if (status >= Status.values().length) {
                throw new IllegalArgumentException("unknown half message status " + status);
            }
            HalfState state = new HalfState(Status.values()[status], in.readUTF(), in.readLong(), in.readInt(),
                    in.readLong(), in.readUTF(), in.readLong());
            if (in.available() > 0) {
                throw new IllegalArgumentException(in.available() + " bytes after a half message state");
            }
            return state;
        } catch (IOException e) {
            throw new IllegalArgumentException("a half message state cut short", e);
        }
    }

    @Override
    public String toString() {
        return status + (group.isEmpty() ? "" : " of group '" + group + "'") + ", " + checks + " checks"
                + (decidedBy.isEmpty() ? "" : ", decided by " + decidedBy);
    }
}
