package io.strata.transactions;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A transactional id's record as stored (one metadata value per id). Strict: anything but a whole, known encoding
 * is an IllegalArgumentException, never a guessed record.
 *
 * <pre>
 * byte 'T', byte version (2; 1 is read too: its offsets end at their metadata)
 * UTF transactional id, long producer id, int producer epoch, int transactions, long transaction's producer id,
 * long transaction's epoch, byte state (0 ready, 1 ongoing, 2 prepare-abort), long timeout ms, long started at ms
 * int partitions, then each: long topic id, int partition, long start offset
 * int offsets, then each: UTF group, UTF topic, long topic id, int partition, long offset, UTF metadata,
 *     UTF member id, long ownership epoch
 * byte last outcome (0 none, 1 committed, 2 aborted), long updated at ms
 * </pre>
 * (UTF: Java's modified UTF-8 with a 2-byte length, as DataOutput writes it.)
 */
public final class TransactionCodec {
    private static final byte MAGIC = 'T';
    private static final byte VERSION = 2;

    private TransactionCodec() {
    }

    public static byte[] encode(TransactionRecord r) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(96 + 20 * r.partitions().size());
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(MAGIC);
            // Version 1 while no group offsets are carried: nodes of the version before read it (rolling upgrades).
            boolean v1 = r.offsets().isEmpty();
            out.writeByte(v1 ? 1 : VERSION);
            out.writeUTF(r.transactionalId());
            out.writeLong(r.producerId());
            out.writeInt(r.producerEpoch());
            out.writeInt(r.transactions());
            out.writeLong(r.txnProducerId());
            out.writeLong(r.txnEpoch());
            out.writeByte(r.state().ordinal());
            out.writeLong(r.timeoutMs());
            out.writeLong(r.startedAtMs());
            out.writeInt(r.partitions().size());
            for (TxnPartition p : r.partitions()) {
                out.writeLong(p.topicId());
                out.writeInt(p.partition());
                out.writeLong(p.startOffset());
            }
            out.writeInt(r.offsets().size());
            for (TxnOffset o : r.offsets()) {
                out.writeUTF(o.group());
                out.writeUTF(o.topic());
                out.writeLong(o.topicId());
                out.writeInt(o.partition());
                out.writeLong(o.offset());
                out.writeUTF(o.metadata());
                if (!v1) {
                    out.writeUTF(o.memberId());
                    out.writeLong(o.ownerEpoch());
                }
            }
            out.writeByte(r.lastOutcome().ordinal());
            out.writeLong(r.updatedAtMs());
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a byte array does not fail
        }
        return bytes.toByteArray();
    }

    public static TransactionRecord decode(byte[] value) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(value))) {
            byte version;
            if (in.readByte() != MAGIC || ((version = in.readByte()) != VERSION && version != 1)) {
                throw new IllegalArgumentException("not a transaction record of a known version");
            }
            String id = in.readUTF();
            long producerId = in.readLong();
            int producerEpoch = in.readInt();
            int transactions = in.readInt();
            long txnProducerId = in.readLong();
            long txnEpoch = in.readLong();
            TransactionRecord.State state = of(TransactionRecord.State.values(), in.readByte(), "state");
            long timeoutMs = in.readLong();
            long startedAtMs = in.readLong();
            int partitionCount = count(in.readInt(), value.length, 20);
            List<TxnPartition> partitions = new ArrayList<>(partitionCount);
            for (int i = 0; i < partitionCount; i++) {
                partitions.add(new TxnPartition(in.readLong(), in.readInt(), in.readLong()));
            }
            int offsetCount = count(in.readInt(), value.length, 26);
            List<TxnOffset> offsets = new ArrayList<>(offsetCount);
            for (int i = 0; i < offsetCount; i++) {
                String group = in.readUTF();
                String topic = in.readUTF();
                long topicId = in.readLong();
                int partition = in.readInt();
                long offset = in.readLong();
                String metadata = in.readUTF();
                offsets.add(version == 1 ? new TxnOffset(group, topic, topicId, partition, offset, metadata)
                        : new TxnOffset(group, topic, topicId, partition, offset, metadata, in.readUTF(),
                        in.readLong()));
            }
            TransactionRecord.Outcome outcome = of(TransactionRecord.Outcome.values(), in.readByte(), "outcome");
            long updatedAtMs = in.readLong();
            if (in.available() != 0) {
                throw new IllegalArgumentException(in.available() + " bytes past the end of a transaction record");
            }
            return new TransactionRecord(id, producerId, producerEpoch, transactions, txnProducerId, txnEpoch, state,
                    timeoutMs, startedAtMs, partitions, offsets, outcome, updatedAtMs);
        } catch (IOException e) {
            throw new IllegalArgumentException("a transaction record cut short", e);
        }
    }

    private static int count(int n, int valueLength, int leastBytesEach) {
        if (n < 0 || (long) n * leastBytesEach > valueLength) {
            throw new IllegalArgumentException("a count of " + n + " does not fit a record of " + valueLength
                    + " bytes");
        }
        return n;
    }

    private static <E> E of(E[] values, byte ordinal, String what) {
        if (ordinal < 0 || ordinal >= values.length) {
            throw new IllegalArgumentException("unknown " + what + " " + ordinal);
        }
        return values[ordinal];
    }
}
