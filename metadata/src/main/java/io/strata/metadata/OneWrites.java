package io.strata.metadata;

import io.strata.metadata.kv.KeyValue;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The transactions that some blocks, committed together, write in one write ({@link OneWriteTransaction}), keyed
 * by block and transaction: which of the blocks' batches belong to one, what a commit reads and guards for the
 * blocks' transactional batches, and whether such a transaction still stands. Immutable.
 *
 * <p>A key is scoped to its block: a batch of the same transaction in another block (sent again, after a lost
 * answer, by a producer that then began the transaction) is an ordinary transactional batch, stored only while its
 * transaction is open.
 */
final class OneWrites {
    private final KeyLayout keys;
    private final Map<String, OneWriteTransaction> byKey;

    OneWrites(List<BlockCommit> commits, KeyLayout keys) {
        this.keys = keys;
        Map<String, OneWriteTransaction> byKey = new HashMap<>();
        for (int b = 0; b < commits.size(); b++) {
            for (OneWriteTransaction t : commits.get(b).transactions()) {
                byKey.put(key(b, t.producerId(), t.txnEpoch()), t);
            }
        }
        this.byKey = Map.copyOf(byKey);
    }

    boolean isEmpty() {
        return byKey.isEmpty();
    }

    Collection<OneWriteTransaction> all() {
        return byKey.values();
    }

    OneWriteTransaction get(String key) {
        return byKey.get(key);
    }

    /** The key of the transaction written in one write that batch {@code batch} of block {@code block} belongs to; null when none. */
    String of(int block, ProducerBatch batch) {
        return batch.epoch() <= 0 ? null : of(block, batch.producerId(), batch.epoch());
    }

    /** The key of the producer's transaction {@code txnEpoch} when block {@code block} writes it in one write; else null. */
    String of(int block, long producerId, long txnEpoch) {
        if (byKey.isEmpty()) {
            return null;
        }
        String key = key(block, producerId, txnEpoch);
        return byKey.containsKey(key) ? key : null;
    }

    private String key(int block, long producerId, long txnEpoch) {
        return block + ":" + keys.openTransaction(producerId, txnEpoch);
    }

    /**
     * Adds the keys a commit of the chunk (of block {@code block}) reads and guards for its transactional batches
     * (epoch above 0): the open key of each one's transaction, or, for a transaction committed in this write, its
     * record (which alone decides whether its batches are stored).
     */
    void transactionKeys(int block, BlockChunk chunk, Set<String> into) {
        for (ProducerBatch b : chunk.producerBatches()) {
            String oneWrite = of(block, b);
            if (oneWrite != null) {
                into.add(keys.transactionState(byKey.get(oneWrite).transactionalId()));
            } else if (b.epoch() > 0) {
                into.add(keys.openTransaction(b.producerId(), b.epoch()));
            }
        }
    }

    /**
     * Whether the transaction {@code key} names may still be written in one write: its record as its decision read
     * it, or, chained, as its predecessor committed it.
     */
    boolean stands(String key, Map<String, KeyValue> read) {
        OneWriteTransaction t = byKey.get(key);
        KeyValue record = t == null ? null : read.get(keys.transactionState(t.transactionalId()));
        if (record == null) {
            return false;
        }
        return t.chained() ? Arrays.equals(record.value(), t.predecessorRecord())
                : record.modRevision() == t.expectedRevision();
    }

    /**
     * Whether a block after the first holds a transaction chained to one of an earlier block (of the same
     * transactional id): it must be decided on the record as the earlier one's commit leaves it, by a later
     * metadata transaction. (A run cut there costs a round trip to the store per block where pipelined producers
     * fill consecutive blocks; deciding a chain inside one metadata transaction is not built.)
     */
    static boolean chainedWithin(List<BlockCommit> commits) {
        if (commits.size() < 2) {
            return false;
        }
        Set<String> ids = new HashSet<>();
        commits.get(0).transactions().forEach(t -> ids.add(t.transactionalId()));
        for (int b = 1; b < commits.size(); b++) {
            for (OneWriteTransaction t : commits.get(b).transactions()) {
                if (t.chained() && ids.contains(t.transactionalId())) {
                    return true;
                }
            }
            commits.get(b).transactions().forEach(t -> ids.add(t.transactionalId()));
        }
        return false;
    }
}
