package io.strata.queues.share;

import io.strata.queues.codec.Varints;
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
        Varints.write(out, partition.start());
        Varints.write(out, partition.end() - partition.start());
        List<StateRun> runs = partition.runs();
        Map<String, Integer> members = new HashMap<>();
        List<String> order = new ArrayList<>();
        for (StateRun r : runs) {
            if (r.member() != null && members.putIfAbsent(r.member(), members.size()) == null) {
                order.add(r.member());
            }
        }
        Varints.write(out, order.size());
        for (String m : order) {
            writeText(out, m);
        }
        Varints.write(out, runs.size());
        for (StateRun r : runs) {
            Varints.write(out, r.count() - 1);
            out.write(r.state().ordinal());
            Varints.write(out, r.deliveries());
            Varints.write(out, r.member() == null ? 0 : members.get(r.member()) + 1);
            Varints.write(out, r.untilMs());
            if (r.note() == null) {
                Varints.write(out, 0);
            } else {
                byte[] note = r.note().getBytes(StandardCharsets.UTF_8);
                Varints.write(out, note.length + 1L);
                out.write(note, 0, note.length);
            }
        }
        if (v1) {
            return out.toByteArray();
        }
        Varints.write(out, partition.nextDeadLetterSequence());
        SharePartition.DeadLetterWriter writer = partition.deadLetterWriter();
        if (writer == null) {
            out.write(0);
        } else {
            out.write(1);
            Varints.write(out, writer.producerId());
            writeText(out, writer.topic());
            Varints.write(out, writer.partition());
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
            long start = Varints.read(in);
            long end = Math.addExact(start, Varints.read(in));
            int memberCount = Varints.count(in);
            List<String> members = new ArrayList<>(memberCount);
            for (int i = 0; i < memberCount; i++) {
                members.add(readText(in, Varints.count(in)));
            }
            int runCount = Varints.count(in);
            List<StateRun> runs = new ArrayList<>(runCount);
            long next = start;
            DeliveryState[] states = DeliveryState.values();
            for (int i = 0; i < runCount; i++) {
                long last = Math.addExact(next, Varints.read(in));
                int state = in.get();
                if (state < 0 || state >= states.length) {
                    throw new IllegalArgumentException("unknown delivery state " + state);
                }
                int deliveries = Math.toIntExact(Varints.read(in));
                int member = Math.toIntExact(Varints.read(in));
                if (member > members.size()) {
                    throw new IllegalArgumentException("member " + member + " of " + members.size());
                }
                long until = Varints.read(in);
                int noteLength = Varints.count(in);
                String note = noteLength == 0 ? null : readText(in, noteLength - 1);
                runs.add(new StateRun(next, last, states[state], deliveries, member == 0 ? null : members.get(member - 1),
                        until, note));
                next = last + 1;
            }
            long nextSequence = 0;
            SharePartition.DeadLetterWriter writer = null;
            if (version >= 2) {
                nextSequence = Varints.read(in);
                byte hasWriter = in.get();
                if (hasWriter == 1) {
                    long producerId = Varints.read(in);
                    String topic = readText(in, Varints.count(in));
                    writer = new SharePartition.DeadLetterWriter(producerId, topic, Math.toIntExact(Varints.read(in)));
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

    private static void writeText(ByteArrayOutputStream out, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        Varints.write(out, b.length);
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
}
