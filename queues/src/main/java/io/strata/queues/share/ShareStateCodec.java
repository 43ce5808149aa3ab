package io.strata.queues.share;

import java.io.ByteArrayOutputStream;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A share partition's state as stored (one etcd value per group and partition): small, since runs are
 * ranges and member ids are written once. Strict: anything but a whole, known encoding is an
 * IllegalArgumentException, never a guessed state.
 *
 * <pre>
 * byte 'S', byte version (2; 1 is read too: it ends after the runs, without a dead-letter writer)
 * varlong start, varlong end - start
 * varint members, then each: varint length, UTF-8
 * varint runs, then each (from start, consecutive):
 *   varlong count - 1, byte state, varint deliveries, varint member index + 1 (0: none), varlong untilMs,
 *   varint note length + 1 (0: none), UTF-8
 * varlong next dead-letter sequence
 * byte 1 and then varlong producer id, varint topic length, UTF-8, varint partition: the dead-letter writer;
 *   byte 0: none
 * </pre>
 */
public final class ShareStateCodec {
    private static final byte MAGIC = 'S';
    private static final byte VERSION = 2;

    private ShareStateCodec() {
    }

    public static byte[] encode(SharePartition partition) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(64);
        // Version 1 while there is nothing of version 2 to say: nodes of the version before still read it (a
        // rolling upgrade), until the group first dead-letters.
        boolean v1 = partition.deadLetterWriter() == null && partition.nextDeadLetterSequence() == 0;
        out.write(MAGIC);
        out.write(v1 ? 1 : VERSION);
        writeVarLong(out, partition.start());
        writeVarLong(out, partition.end() - partition.start());
        List<StateRun> runs = partition.runs();
        Map<String, Integer> members = new HashMap<>();
        List<String> order = new ArrayList<>();
        for (StateRun r : runs) {
            if (r.member() != null && members.putIfAbsent(r.member(), members.size()) == null) {
                order.add(r.member());
            }
        }
        writeVarLong(out, order.size());
        for (String m : order) {
            writeText(out, m);
        }
        writeVarLong(out, runs.size());
        for (StateRun r : runs) {
            writeVarLong(out, r.count() - 1);
            out.write(r.state().ordinal());
            writeVarLong(out, r.deliveries());
            writeVarLong(out, r.member() == null ? 0 : members.get(r.member()) + 1);
            writeVarLong(out, r.untilMs());
            if (r.note() == null) {
                writeVarLong(out, 0);
            } else {
                byte[] note = r.note().getBytes(StandardCharsets.UTF_8);
                writeVarLong(out, note.length + 1L);
                out.write(note, 0, note.length);
            }
        }
        if (v1) {
            return out.toByteArray();
        }
        writeVarLong(out, partition.nextDeadLetterSequence());
        SharePartition.DeadLetterWriter writer = partition.deadLetterWriter();
        if (writer == null) {
            out.write(0);
        } else {
            out.write(1);
            writeVarLong(out, writer.producerId());
            writeText(out, writer.topic());
            writeVarLong(out, writer.partition());
        }
        return out.toByteArray();
    }

    public static SharePartition decode(byte[] bytes, SharePolicy policy) {
        try {
            ByteBuffer in = ByteBuffer.wrap(bytes);
            byte version;
            if (in.get() != MAGIC || ((version = in.get()) != 1 && version != VERSION)) {
                throw new IllegalArgumentException("not a share partition state of version 1 or " + VERSION);
            }
            long start = readVarLong(in);
            long end = Math.addExact(start, readVarLong(in));
            int memberCount = count(in);
            List<String> members = new ArrayList<>(memberCount);
            for (int i = 0; i < memberCount; i++) {
                members.add(readText(in, count(in)));
            }
            int runCount = count(in);
            List<StateRun> runs = new ArrayList<>(runCount);
            long next = start;
            DeliveryState[] states = DeliveryState.values();
            for (int i = 0; i < runCount; i++) {
                long last = Math.addExact(next, readVarLong(in));
                int state = in.get();
                if (state < 0 || state >= states.length) {
                    throw new IllegalArgumentException("unknown delivery state " + state);
                }
                int deliveries = Math.toIntExact(readVarLong(in));
                int member = Math.toIntExact(readVarLong(in));
                if (member > members.size()) {
                    throw new IllegalArgumentException("member " + member + " of " + members.size());
                }
                long until = readVarLong(in);
                int noteLength = count(in);
                String note = noteLength == 0 ? null : readText(in, noteLength - 1);
                runs.add(new StateRun(next, last, states[state], deliveries, member == 0 ? null : members.get(member - 1),
                        until, note));
                next = last + 1;
            }
            long nextSequence = 0;
            SharePartition.DeadLetterWriter writer = null;
            if (version >= 2) {
                nextSequence = readVarLong(in);
                byte hasWriter = in.get();
                if (hasWriter == 1) {
                    long producerId = readVarLong(in);
                    String topic = readText(in, count(in));
                    writer = new SharePartition.DeadLetterWriter(producerId, topic, Math.toIntExact(readVarLong(in)));
                } else if (hasWriter != 0) {
                    throw new IllegalArgumentException("unknown dead-letter writer marker " + hasWriter);
                }
            }
            if (in.hasRemaining()) {
                throw new IllegalArgumentException(in.remaining() + " bytes after the state");
            }
            return new SharePartition(policy, start, end, runs, writer, nextSequence);
        } catch (BufferUnderflowException | ArithmeticException e) {
            throw new IllegalArgumentException("a share partition state cut short or out of range", e);
        }
    }

    private static int count(ByteBuffer in) {
        long n = readVarLong(in);
        if (n > in.remaining() + 1L) {
            throw new IllegalArgumentException("a count of " + n + " with " + in.remaining() + " bytes left");
        }
        return (int) n;
    }

    private static void writeText(ByteArrayOutputStream out, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        writeVarLong(out, b.length);
        out.write(b, 0, b.length);
    }

    private static String readText(ByteBuffer in, int length) {
        if (length > in.remaining()) {
            throw new IllegalArgumentException("text of " + length + " bytes with " + in.remaining() + " left");
        }
        byte[] b = new byte[length];
        in.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    private static void writeVarLong(ByteArrayOutputStream out, long v) {
        if (v < 0) {
            throw new IllegalArgumentException("negative " + v);
        }
        while ((v & ~0x7FL) != 0) {
            out.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }

    private static long readVarLong(ByteBuffer in) {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            byte b = in.get();
            v |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                if (v < 0) {
                    throw new IllegalArgumentException("a varint past the longest value");
                }
                return v;
            }
        }
        throw new IllegalArgumentException("a varint longer than ten bytes");
    }
}
