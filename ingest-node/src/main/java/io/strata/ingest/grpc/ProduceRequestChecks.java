package io.strata.ingest.grpc;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.strata.api.v1.Acks;
import io.strata.api.v1.ProduceRequest;
import io.strata.api.v1.Record;
import io.strata.api.v1.TopicPartitionRecords;
import io.strata.format.BatchCodec;
import io.strata.format.BatchInfo;
import io.strata.format.BlockFormatException;
import io.strata.format.DeliverAt;
import io.strata.format.LogRecord;
import io.strata.ingest.IngestSettings;
import java.util.List;

/**
 * What a produce request must be before anything of it is looked up or stored, checked from the request alone: a
 * pure function of the request (and the batches this process built for it), the node's limits and the time, so
 * that a request with one bad entry is refused whole, at once, naming the entry and record where there is one.
 * {@link ProduceHandler} checks the rest against the metadata.
 */
final class ProduceRequestChecks {
    /** What a request's record costs beyond its key, value and headers, counted against the request limit. */
    static final int RECORD_OVERHEAD_BYTES = 24;

    private ProduceRequestChecks() {
    }

    /**
     * Checks everything that needs no metadata: sizes, timestamps, acks, producer fields, and every
     * producer-encoded batch in full (CRC32C, inflation, each record's size) but those {@code built} in this
     * process (null: none), against the node's {@code settings} at {@code now} (epoch ms). Answers the batches'
     * headers, by entry index (null for entries of single records).
     *
     * @throws StatusRuntimeException INVALID_ARGUMENT naming what is wrong, and the entry and record where there is one
     */
    static BatchInfo[] check(ProduceRequest request, BatchInfo[] built, IngestSettings settings, long now) {
        if (request.getEntriesCount() == 0) {
            throw invalid("produce request has no entries");
        }
        BatchInfo[] batches = new BatchInfo[request.getEntriesCount()];
        long total = 0;
        for (int i = 0; i < request.getEntriesCount(); i++) {
            TopicPartitionRecords entry = request.getEntries(i);
            if (entry.getTopic().isEmpty()) {
                throw invalid("entry " + i + " names no topic");
            }
            if (entry.getDelayed() && entry.getHalf()) {
                throw invalid("entry " + i + " is both delayed and half: a half message is delivered when committed");
            }
            if (!entry.getBatch().isEmpty()) {
                if (entry.getRecordsCount() > 0) {
                    throw invalid("entry " + i + " carries both records and a batch");
                }
                if (!entry.hasPartition()) {
                    throw invalid("entry " + i + " carries a batch but names no partition");
                }
                try {
                    // Counted as it inflates, from its header, before inflating it: a small batch that would
                    // inflate past the limit is refused without taking that memory.
                    BatchInfo header = BatchCodec.headerInfo(entry.getBatch().asReadOnlyByteBuffer());
                    total += Math.max(entry.getBatch().size(), header.uncompressedLength());
                    if (total > settings.maxRequestBytes()) {
                        break; // reported below
                    }
                    if (built != null && built[i] != null) {
                        if (!built[i].equals(header)) { // a header apart from its bytes: a bug of the caller's
                            throw new IllegalArgumentException("entry " + i + "'s batch is not the one built");
                        }
                        batches[i] = built[i];
                    } else {
                        batches[i] = BatchCodec.validate(entry.getBatch().asReadOnlyByteBuffer(),
                                settings.maxRecordBytes());
                    }
                } catch (BlockFormatException | IllegalArgumentException e) {
                    throw invalid("the batch of entry " + i + " is malformed: " + e.getMessage());
                }
                if (entry.getDelayed() || entry.getHalf()) {
                    List<LogRecord> records = BatchCodec.decode(entry.getBatch().asReadOnlyByteBuffer());
                    for (int r = 0; r < records.size(); r++) {
                        if (entry.getHalf()) {
                            checkHalf(io.strata.format.HalfMessages.groupOf(records.get(r).headers()), r, i);
                        } else {
                            checkDeliverAt(DeliverAt.of(records.get(r).headers()), r, i, now);
                        }
                    }
                }
                continue;
            }
            if (entry.getRecordsCount() == 0) {
                throw invalid("entry " + i + " (topic '" + entry.getTopic() + "') has no records");
            }
            for (int r = 0; r < entry.getRecordsCount(); r++) {
                Record record = entry.getRecords(r);
                long size = record.getKey().size() + record.getValue().size();
                total += RECORD_OVERHEAD_BYTES; // an empty record is not free: its framing, its objects
                for (var h : record.getHeadersList()) {
                    size += h.getKeyBytes().size() + h.getValue().size(); // bytes as stored (UTF-8), not chars
                    total += RECORD_OVERHEAD_BYTES / 2; // nor is an empty header free
                }
                if (size > settings.maxRecordBytes()) {
                    throw invalid("record " + r + " of entry " + i + " is " + size
                            + " bytes, over the limit of " + settings.maxRecordBytes());
                }
                if (record.getTimestampMs() < 0) {
                    throw invalid("record " + r + " of entry " + i + " has a negative timestamp");
                }
                if (entry.getHalf()) {
                    checkHalf(halfGroup(record), r, i);
                    if (record.getDeliverAtMs() != 0) {
                        throw invalid("record " + r + " of entry " + i + " is a half message with a delivery time");
                    }
                } else if (entry.getDelayed()) {
                    checkDeliverAt(record.getDeliverAtMs() != 0 ? record.getDeliverAtMs() : deliverAt(record), r, i, now);
                } else if (record.getDeliverAtMs() != 0) {
                    throw invalid("record " + r + " of entry " + i + " has a delivery time, but the entry is not "
                            + "delayed (set its `delayed`)");
                }
                total += size;
            }
        }
        if (total > settings.maxRequestBytes()) {
            throw invalid("request carries " + total + " bytes of records (as they inflate), over the limit of "
                    + settings.maxRequestBytes());
        }
        if (request.getAcks() != Acks.ACKS_DURABLE && request.getAcks() != Acks.ACKS_NONE) {
            throw invalid("unknown acks mode " + request.getAcksValue());
        }
        if (request.getProducerId() < 0) {
            throw invalid("invalid producer id " + request.getProducerId());
        }
        if (request.getProducerEpoch() < 0 || (request.getProducerEpoch() != 0 && request.getProducerId() == 0)) {
            throw invalid("producer_epoch is not negative, and only a request with a producer_id carries one");
        }
        if ((request.getProducerEpoch() != 0) != !request.getTransactionalId().isEmpty()) {
            throw invalid("a transactional batch carries both its transactional_id and its producer_epoch");
        }
        if ((request.getAddPartitions() || request.getCommitTransaction()) && request.getTransactionalId().isEmpty()) {
            throw invalid("add_partitions and commit_transaction act on a transaction: the request names its "
                    + "transactional_id");
        }
        if (!request.getTransactionalId().isEmpty()) {
            try {
                io.strata.transactions.Transactions.checkId(request.getTransactionalId());
            } catch (io.strata.transactions.TransactionException e) {
                throw invalid(e.getMessage());
            }
            for (int i = 0; i < request.getEntriesCount(); i++) {
                if (request.getEntries(i).getDelayed() || request.getEntries(i).getHalf()) {
                    throw invalid("entry " + i + ": a transactional batch cannot be delayed, nor half messages");
                }
            }
        }
        if (request.getProducerId() > 0) {
            if (request.getAcks() != Acks.ACKS_DURABLE) {
                throw invalid("an idempotent producer needs durable acks: its sequences advance only on commit");
            }
            for (int i = 0; i < request.getEntriesCount(); i++) {
                TopicPartitionRecords entry = request.getEntries(i);
                if (!entry.hasPartition()) {
                    throw invalid("entry " + i + ": an idempotent producer names the partition of every entry");
                }
                if (entry.getBaseSequence() < 0) {
                    throw invalid("entry " + i + " has a negative base sequence");
                }
            }
        } else {
            for (int i = 0; i < request.getEntriesCount(); i++) {
                if (request.getEntries(i).getBaseSequence() != 0) {
                    throw invalid("entry " + i + " carries a sequence but the request no producer id");
                }
            }
        }
        return batches;
    }

    /** The record's {@link DeliverAt#HEADER} (the last one), read in place; -1 without one or with a bad one. */
    private static long deliverAt(Record record) {
        long due = -1;
        for (var h : record.getHeadersList()) {
            if (DeliverAt.HEADER.equals(h.getKey())) {
                due = DeliverAt.parse(h.getValue().toByteArray());
            }
        }
        return due;
    }

    /** The record's {@link io.strata.format.HalfMessages#GROUP_HEADER} (the last one), or null. */
    private static String halfGroup(Record record) {
        String group = null;
        for (var h : record.getHeadersList()) {
            if (io.strata.format.HalfMessages.GROUP_HEADER.equals(h.getKey())) {
                group = h.getValue().toStringUtf8();
            }
        }
        return group;
    }

    private static void checkHalf(String group, int record, int entry) {
        String problem = io.strata.format.HalfMessages.groupProblem(group);
        if (problem != null) {
            throw invalid("record " + record + " of entry " + entry + ": " + problem);
        }
    }

    private static void checkDeliverAt(long dueMs, int record, int entry, long now) {
        String problem = DeliverAt.problem(dueMs, now);
        if (problem != null) {
            throw invalid("record " + record + " of entry " + entry + ": " + problem);
        }
    }

    static StatusRuntimeException invalid(String message) {
        return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
    }
}
