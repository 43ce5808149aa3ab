package io.strata.metadata;

import io.strata.metadata.codec.MetadataCodec;
import io.strata.metadata.codec.PartitionHeadValue;
import io.strata.metadata.codec.ShardHeadValue;
import io.strata.metadata.kv.KeyValue;
import io.strata.metadata.kv.KvGuard;
import io.strata.metadata.kv.KvOp;
import io.strata.metadata.kv.KvStore;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntFunction;
import java.util.function.ToIntFunction;

/**
 * The commit protocol of DESIGN.md: assigns offsets to an uploaded block's chunks and indexes them with,
 * per metadata shard the block touches, one guarded head and one index entry. Writes per block grow with
 * shards touched, never with partitions.
 *
 * <ul>
 *   <li>One transaction guards (compares the mod revision of) and puts the heads of its shards and puts
 *       their index entries. A block touching more shards than one transaction may hold (the store's op
 *       limit, two puts a shard, or its byte limit) is committed in several, one after the other; each
 *       is atomic, the block as a whole is not, which only matters for a block whose producers are never
 *       acknowledged (its node died, or a later transaction failed).</li>
 *   <li>A failed guard means another node committed to one of the shards: re-read the heads and retry with
 *       jittered back-off, never re-uploading. Offsets stay dense because every commit reads the head it
 *       advances.</li>
 *   <li>A transaction whose answer was lost is verified, not redone blindly: if its index entry exists with
 *       this block's object key, it was applied; if not, nothing of it was (transactions are atomic) and
 *       it is retried. If even that cannot be read, the commit fails with
 *       {@link CommitOutcomeUnknownException}.</li>
 *   <li>Every transaction also guards that the garbage collector has not condemned the object
 *       ({@code gc/{object key}} absent): the collector deletes an unreferenced object only after marking it,
 *       so a commit that lands later than the collector's grace period fails instead of indexing an object
 *       that is gone.</li>
 * </ul>
 * Thread-safe; keeps no state between commits but its counters.
 */
final class ShardCommitter {
    private final KvStore kv;
    private final KeyLayout keys;
    private final Clock clock;
    private final ToIntFunction<PartitionId> shardOf;
    private final IntFunction<CompletableFuture<Void>> backoff;
    private final Duration retryBudget;
    private final LongAdder conflicts = new LongAdder();
    private final LongAdder transactions = new LongAdder();
    private final LongAdder keysWritten = new LongAdder();

    ShardCommitter(KvStore kv, KeyLayout keys, Clock clock, ToIntFunction<PartitionId> shardOf,
                   IntFunction<CompletableFuture<Void>> backoff, Duration retryBudget) {
        this.kv = kv;
        this.keys = keys;
        this.clock = clock;
        this.shardOf = shardOf;
        this.backoff = backoff;
        this.retryBudget = retryBudget;
    }

    long conflicts() {
        return conflicts.sum();
    }

    long transactions() {
        return transactions.sum();
    }

    long keysWritten() {
        return keysWritten.sum();
    }

    CompletableFuture<List<ChunkCommit>> commit(BlockCommit commit) {
        TreeMap<Integer, List<Integer>> chunksByShard = new TreeMap<>();
        for (int i = 0; i < commit.chunks().size(); i++) {
            chunksByShard.computeIfAbsent(shardOf.applyAsInt(commit.chunks().get(i).partition()),
                    s -> new ArrayList<>()).add(i);
        }
        List<Integer> shards = new ArrayList<>(chunksByShard.keySet());
        int perTxn = Math.max(1, kv.maxTxnOps() / 2); // two puts (head, index entry) per shard
        ChunkCommit[] answers = new ChunkCommit[commit.chunks().size()];
        long deadline = System.nanoTime() + retryBudget.toNanos();
        CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
        for (int from = 0; from < shards.size(); from += perTxn) {
            List<Integer> group = shards.subList(from, Math.min(shards.size(), from + perTxn));
            chain = chain.thenCompose(v -> commitGroup(commit, group, chunksByShard, answers, deadline, 0));
        }
        return chain.thenApply(v -> Arrays.asList(answers));
    }

    private CompletableFuture<Void> commitGroup(BlockCommit commit, List<Integer> shards,
                                                Map<Integer, List<Integer>> chunksByShard, ChunkCommit[] answers,
                                                long deadline, int attempt) {
        List<String> headKeys = shards.stream().map(keys::head).toList();
        String marker = keys.gcMarker(commit.objectKey());
        List<String> reads = new ArrayList<>(headKeys);
        reads.add(marker);
        return kv.getAll(reads).thenCompose(read -> {
            Map<String, KeyValue> found = KvMetadataStore.byKey(read);
            if (found.containsKey(marker)) {
                return CompletableFuture.failedFuture(new MetadataException("the object " + commit.objectKey()
                        + " was collected as garbage before its commit (the commit took longer than the garbage "
                        + "collector's grace period); nothing of it is committed, its producers may retry", false));
            }
            Staged staged = stage(commit, shards, chunksByShard, found);
            staged.guards.add(KvGuard.absent(marker));
            if (staged.bytes > kv.maxTxnBytes()) {
                if (shards.size() == 1) {
                    return CompletableFuture.failedFuture(new MetadataException("the commit of shard "
                            + shards.get(0) + " needs " + staged.bytes + " bytes, over the store's limit of "
                            + kv.maxTxnBytes(), false));
                }
                int half = shards.size() / 2;
                return commitGroup(commit, shards.subList(0, half), chunksByShard, answers, deadline, attempt)
                        .thenCompose(v -> commitGroup(commit, shards.subList(half, shards.size()), chunksByShard,
                                answers, deadline, attempt));
            }
            if (staged.ops.isEmpty()) {
                return done(staged, answers); // only retries or refusals: nothing to write
            }
            transactions.increment();
            keysWritten.add(staged.ops.size());
            return kv.txn(staged.guards, staged.ops).handle((result, failure) -> {
                if (failure != null) {
                    return verify(staged, commit.objectKey(), failure).thenCompose(applied -> applied
                            ? done(staged, answers)
                            : retry(commit, shards, chunksByShard, answers, deadline, attempt, failure));
                }
                if (result.succeeded()) {
                    return done(staged, answers);
                }
                conflicts.increment();
                return retry(commit, shards, chunksByShard, answers, deadline, attempt, null);
            }).thenCompose(f -> f);
        });
    }

    private CompletableFuture<Void> retry(BlockCommit commit, List<Integer> shards,
                                          Map<Integer, List<Integer>> chunksByShard, ChunkCommit[] answers,
                                          long deadline, int attempt, Throwable lastFailure) {
        if (System.nanoTime() > deadline) {
            return CompletableFuture.failedFuture(new MetadataException("commit of " + commit.objectKey()
                    + " gave up after " + (attempt + 1) + " attempts (conflicts or unavailable store)", true,
                    lastFailure));
        }
        return backoff.apply(attempt).thenCompose(v ->
                commitGroup(commit, shards, chunksByShard, answers, deadline, attempt + 1));
    }

    private static CompletableFuture<Void> done(Staged staged, ChunkCommit[] answers) {
        staged.commits.forEach((i, c) -> answers[i] = c);
        return CompletableFuture.completedFuture(null);
    }

    /** Whether a transaction whose answer was lost was applied, read from one index entry it wrote. */
    private CompletableFuture<Boolean> verify(Staged staged, String objectKey, Throwable txnFailure) {
        return kv.get(staged.verifyKey).handle((found, failure) -> {
            if (failure != null) {
                throw new CommitOutcomeUnknownException("commit of " + objectKey + " may or may not have been "
                        + "applied: the transaction failed (" + txnFailure + ") and reading it back failed too",
                        failure);
            }
            return found.isPresent()
                    && objectKey.equals(MetadataCodec.indexEntryObjectKey(staged.verifyKey, found.get().value()));
        });
    }

    /** {@code guards} is mutable: the caller adds the guard that the object was not collected meanwhile. */
    private record Staged(List<KvGuard> guards, List<KvOp> ops, Map<Integer, ChunkCommit> commits, String verifyKey,
                          long bytes) {
    }

    /**
     * Computes the new heads and index entries of {@code shards} from the heads as read. A shard whose chunks
     * got no offsets at all (only retried or refused batches) writes nothing and needs no guard: such
     * decisions stay true whatever commits next.
     */
    private Staged stage(BlockCommit commit, List<Integer> shards, Map<Integer, List<Integer>> chunksByShard,
                         Map<String, KeyValue> heads) {
        long now = clock.millis();
        List<KvGuard> guards = new ArrayList<>(shards.size());
        List<KvOp> ops = new ArrayList<>(shards.size() * 2);
        Map<Integer, ChunkCommit> commits = new HashMap<>();
        String verifyKey = null;
        long bytes = 0;
        for (int shard : shards) {
            String headKey = keys.head(shard);
            KeyValue read = heads.get(headKey);
            ShardHeadValue.Builder head = read == null ? ShardHeadValue.newBuilder()
                    : MetadataCodec.decodeHead(headKey, read.value()).toBuilder();
            Map<PartitionId, Integer> positions = new HashMap<>();
            for (int p = 0; p < head.getPartitionsCount(); p++) {
                PartitionHeadValue ph = head.getPartitions(p);
                positions.put(new PartitionId(ph.getTopicId(), ph.getPartition()), p);
            }
            List<ChunkRef> refs = new ArrayList<>();
            for (int i : chunksByShard.get(shard)) {
                BlockChunk c = commit.chunks().get(i);
                Integer position = positions.get(c.partition());
                PartitionHeadValue before = position == null ? PartitionHeadValue.newBuilder()
                        .setTopicId(c.partition().topicId()).setPartition(c.partition().partition()).build()
                        : head.getPartitions(position);
                ChunkAdmission.Admitted admitted = ChunkAdmission.admit(before, c, commit.objectKey(), now);
                commits.put(i, admitted.commit());
                if (admitted.ref() != null) {
                    refs.add(admitted.ref());
                    if (position == null) {
                        positions.put(c.partition(), head.getPartitionsCount());
                        head.addPartitions(admitted.head());
                    } else {
                        head.setPartitions(position, admitted.head());
                    }
                }
            }
            if (refs.isEmpty()) {
                continue;
            }
            guards.add(new KvGuard(headKey, read == null ? 0 : read.modRevision()));
            long sequence = head.getNextSequence();
            head.setNextSequence(sequence + 1);
            String entryKey = keys.indexEntry(shard, sequence);
            byte[] headBytes = head.build().toByteArray();
            byte[] entryBytes = MetadataCodec.encode(new IndexEntry(shard, sequence, commit.objectKey(), now, refs));
            ops.add(new KvOp.Put(headKey, headBytes));
            ops.add(new KvOp.Put(entryKey, entryBytes));
            verifyKey = entryKey;
            bytes += headKey.length() * 2L + entryKey.length() + headBytes.length + entryBytes.length + 32;
        }
        return new Staged(guards, ops, commits, verifyKey, bytes);
    }
}
