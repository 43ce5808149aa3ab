package io.strata.metadata;

import io.strata.metadata.codec.MetadataCodec;
import io.strata.metadata.kv.KeyRange;
import io.strata.metadata.kv.KeyValue;
import io.strata.metadata.kv.KvGuard;
import io.strata.metadata.kv.KvOp;
import io.strata.metadata.kv.KvStore;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntFunction;
import java.util.function.ToIntFunction;

/**
 * The commit protocol of DESIGN.md: assigns offsets to uploaded blocks' chunks and indexes them with, per
 * metadata shard a block touches, one guarded head and one index entry per block. Writes per block grow with
 * shards touched, never with partitions. Blocks uploaded one after the other may be committed together
 * ({@link #commitAll}): one transaction, an entry per block and shard at consecutive sequences.
 *
 * <ul>
 *   <li>One transaction guards (compares the mod revision of) and puts the heads of its shards and puts
 *       their index entries. Blocks touching more shards than one transaction may hold (the store's op
 *       limit, a head and an entry per block a shard, or its byte limit) are committed in several, one
 *       after the other; each is atomic, the blocks as a whole are not, which only matters for blocks whose
 *       producers are never acknowledged (their node died, or a later transaction failed).</li>
 *   <li>A failed guard means another node committed to one of the shards: re-read the heads and retry with
 *       jittered back-off, never re-uploading. Offsets stay dense because every commit reads the head it
 *       advances.</li>
 *   <li>A transaction whose answer was lost (or a read that failed) is retried, never taken as failed: the
 *       store may still apply it later, until a write changes a head it guards. Every retry reads, with
 *       the heads, the last index entry each such transaction would have written; one holding exactly the
 *       bytes that attempt wrote there (each attempt stamps its entries with a commit time of its own) means
 *       it was applied. A retry that succeeds has changed the heads they guard, so they can no longer apply.
 *       Only when the retry budget runs out with such a transaction undecided does the commit fail with
 *       {@link CommitOutcomeUnknownException}.</li>
 *   <li>Every transaction guards {@code topic-deletions}, which each topic deletion rewrites: a chunk of a
 *       topic id that no longer exists (deleted, or deleted and re-created under a new id) is refused, and
 *       a deletion between read and transaction fails the guard ({@link LiveTopics}).</li>
 *   <li>Every transaction also guards that the garbage collector has not condemned its objects
 *       ({@code gc/{object key}} absent): the collector deletes an unreferenced object only after marking it,
 *       so a commit that lands later than the collector's grace period fails instead of indexing an object
 *       that is gone.</li>
 * </ul>
 * Thread-safe; keeps no state between commits but its counters and the ids of live topics.
 */
final class ShardCommitter {
    /** Attempts with a lost answer one block may have before the commit gives up (their entries are read each time). */
    static final int MAX_UNKNOWN_ATTEMPTS = 8;
    /**
     * The oldest a block may be when its commit reads the metadata: the collector removes a deleted object's
     * marker only once the object is twice this old (CompactionSettings.COMMIT_WINDOW), so with clocks within this
     * of each other a block that might be gone is refused rather than indexed. A commit paused after its read is
     * caught by the guard on {@link KeyLayout#gcMarkersDropped()}.
     */
    public static final java.time.Duration MAX_COMMIT_AGE = java.time.Duration.ofMinutes(5);
    /** Shards whose newer entries a commit reads with its heads, at most. */
    private static final int CATCH_UP_RANGES = 32;

    private final KvStore kv;
    private final KeyLayout keys;
    private final Clock clock;
    private final ToIntFunction<PartitionId> shardOf;
    private final IntFunction<CompletableFuture<Void>> backoff;
    private final Duration retryBudget;
    private final LongAdder conflicts = new LongAdder();
    private final LongAdder transactions = new LongAdder();
    private final LongAdder keysWritten = new LongAdder();
    private final LongAdder bytesWritten = new LongAdder();
    private final LiveTopics liveTopics;
    private final ShardLedgers ledgers;
    private final CommitPlanner planner;

    ShardCommitter(KvStore kv, KeyLayout keys, Clock clock, ToIntFunction<PartitionId> shardOf,
                   IntFunction<CompletableFuture<Void>> backoff, Duration retryBudget, ShardLedgers ledgers,
                   LiveTopics liveTopics) {
        this.kv = kv;
        this.keys = keys;
        this.clock = clock;
        this.shardOf = shardOf;
        this.backoff = backoff;
        this.retryBudget = retryBudget;
        this.liveTopics = liveTopics;
        this.ledgers = ledgers;
        this.planner = new CommitPlanner(kv.maxTxnOps(), kv.maxTxnBytes(), shardOf, keys);
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

    long bytesWritten() {
        return bytesWritten.sum();
    }

    CompletableFuture<List<ChunkCommit>> commit(BlockCommit commit) {
        return commitAll(List.of(commit)).thenApply(answers -> answers.get(0));
    }

    /**
     * Commits blocks uploaded one after the other, in their order: the longest first run of them (at least one)
     * whose writes fit in one transaction, with that one transaction (each block still gets its own index entry
     * per shard, at consecutive sequences). Blocks that waited behind a slow upload then cost one round trip to
     * the store instead of one each; a block holding a transaction chained to one of an earlier block of the run
     * ends it ({@link OneWriteTransaction}). Answer i belongs to block i; there are as many answers as blocks committed.
     */
    CompletableFuture<List<List<ChunkCommit>>> commitAll(List<BlockCommit> blocks) {
        int fit = blocks.size();
        while (fit > 1 && (!planner.fitTogether(blocks.subList(0, fit))
                || OneWrites.chainedWithin(blocks.subList(0, fit)))) {
            fit--;
        }
        Group group = Group.of(blocks.subList(0, fit), shardOf, keys, System.nanoTime() + retryBudget.toNanos());
        group.refused.addAll(planner.tooSpread(group));
        CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
        for (List<Integer> part : planner.parts(group)) {
            chain = chain.thenCompose(v -> commitGroup(group, part, 0, Map.of()));
        }
        return chain.thenApply(v -> Arrays.stream(group.answers).map(Arrays::asList).toList());
    }

    /** Chunk {@code chunk} of block {@code block}. */
    record Chunk(int block, int chunk) {
    }

    /** What every attempt at some blocks shares: the blocks, their chunks by shard, the answers, the deadline. */
    record Group(List<BlockCommit> commits, Map<Integer, List<Chunk>> chunksByShard, ChunkCommit[][] answers,
                 long deadline, java.util.concurrent.atomic.AtomicLong lastCommitTime, OneWrites oneWrites,
                 Set<String> refused) {
        /** The blocks' chunks by shard (shards ascending), no answer yet, nothing refused. */
        static Group of(List<BlockCommit> commits, ToIntFunction<PartitionId> shardOf, KeyLayout keys, long deadline) {
            TreeMap<Integer, List<Chunk>> chunksByShard = new TreeMap<>();
            ChunkCommit[][] answers = new ChunkCommit[commits.size()][];
            for (int b = 0; b < commits.size(); b++) {
                List<BlockChunk> chunks = commits.get(b).chunks();
                answers[b] = new ChunkCommit[chunks.size()];
                for (int i = 0; i < chunks.size(); i++) {
                    chunksByShard.computeIfAbsent(shardOf.applyAsInt(chunks.get(i).partition()),
                            s -> new ArrayList<>()).add(new Chunk(b, i));
                }
            }
            return new Group(commits, chunksByShard, answers, deadline, new java.util.concurrent.atomic.AtomicLong(),
                    new OneWrites(commits, keys), java.util.concurrent.ConcurrentHashMap.newKeySet());
        }

        /**
         * The commit time of a new attempt: the clock, but later than every earlier attempt's, so that the
         * entries of two attempts are never the same bytes (how a lost attempt is recognised as applied).
         */
        long commitTime(Clock clock) {
            return lastCommitTime.updateAndGet(last -> Math.max(clock.millis(), last + 1));
        }

        BlockChunk chunk(Chunk c) {
            return commits.get(c.block).chunks().get(c.chunk);
        }

        String objectKeys() {
            return commits.stream().map(BlockCommit::objectKey).collect(java.util.stream.Collectors.joining(", "));
        }
    }

    /**
     * Commits the group's chunks of {@code shards} in one transaction, retrying within the deadline.
     *
     * <p>{@code unknown} holds, by the index entry each would have written last, the attempts whose
     * transaction was sent but whose answer was lost. Such a transaction may still be applied by the store
     * later, until some write changes a head it guards; so every later read also reads those entries. One
     * holding exactly the bytes the attempt would have written there means that attempt was applied: its
     * answers are the group's. (The object key alone is not enough: another attempt that read the same head of
     * that shard writes the same entry's key and object, and may write more entries after it, with other
     * answers; the commit time each attempt stamps is its own.) A later attempt that succeeds changed the heads they guard, so none of them can
     * apply any more. Two attempts that would write the same entry read the same heads (each commit moves its
     * shard's sequence), unless the older can no longer apply: keeping the newer is right either way.
     */
    private CompletableFuture<Void> commitGroup(Group group, List<Integer> shards, int attempt,
                                                Map<String, Staged> unknown) {
        List<String> markers = new ArrayList<>(group.commits.size() + 1);
        group.commits.forEach(c -> markers.add(keys.gcMarker(c.objectKey())));
        markers.add(keys.gcMarkersDropped()); // last: guarded at the revision read, not absent (afterRead)
        String deletions = keys.topicDeletions();
        Set<String> open = new java.util.LinkedHashSet<>();
        shards.forEach(shard -> group.chunksByShard.get(shard).forEach(c ->
                group.oneWrites.transactionKeys(c.block, group.chunk(c), open)));
        List<String> reads = new ArrayList<>(shards.size() + markers.size() + 1 + open.size() + unknown.size());
        shards.forEach(shard -> reads.add(keys.head(shard)));
        reads.addAll(markers);
        reads.add(deletions);
        reads.addAll(open);
        reads.addAll(unknown.keySet());
        if (reads.size() > kv.maxTxnOps()) {
            return CompletableFuture.failedFuture(new MetadataException("the commit of " + group.objectKeys()
                    + " holds batches of " + open.size() + " open transactions in one metadata shard, more than one "
                    + "metadata transaction can guard (" + kv.maxTxnOps() + " keys); nothing of it is committed", false));
        }
        // With the heads, the entries other nodes committed past each ledger's sequence (usually one or two):
        // the ledgers catch up without another round trip.
        List<KeyRange> catchUp = ledgers.catchUpRanges(shards, Math.min(CATCH_UP_RANGES, kv.maxTxnOps() - reads.size()));
        return kv.getAll(reads, catchUp).handle((read, failure) -> failure != null
                ? retry(group, shards, attempt, failure, unknown) // as transient as a lost answer
                : afterRead(group, shards, attempt, unknown, KvMetadataStore.byKey(read), markers, deletions))
                .thenCompose(f -> f);
    }

    private CompletableFuture<Void> afterRead(Group group, List<Integer> shards, int attempt,
                                              Map<String, Staged> unknown, Map<String, KeyValue> found,
                                              List<String> markers, String deletions) {
        for (Staged u : unknown.values()) {
            KeyValue entry = found.get(u.verifyKey);
            if (entry != null && Arrays.equals(u.verifyBytes, entry.value())) {
                return done(u, group.answers); // an attempt whose answer was lost was applied after all
            }
            if (entry == null && sequenceTaken(u.verifyKey, found)) {
                // The sequence the attempt would have written was taken and its entry is gone (compaction
                // merges old entries away): whether it was this attempt cannot be told any more.
                return CompletableFuture.failedFuture(new CommitOutcomeUnknownException("commit of "
                        + group.objectKeys() + " may or may not have been applied: its index entry " + u.verifyKey
                        + " was taken and has been compacted away since its answer was lost", null));
            }
        }
        long now = System.currentTimeMillis();
        for (BlockCommit c : group.commits) {
            if (now - c.uploadedAtMs() > MAX_COMMIT_AGE.toMillis()) {
                return CompletableFuture.failedFuture(new MetadataException("the object " + c.objectKey()
                        + " was uploaded " + (now - c.uploadedAtMs()) / 1000 + " s ago, longer than a commit may take ("
                        + MAX_COMMIT_AGE.toMinutes() + " min): the garbage collector may have taken it; nothing of "
                        + (group.commits.size() == 1 ? "it" : "it or of the blocks committed with it")
                        + " is committed, its producers may retry", false));
            }
        }
        for (int b = 0; b < group.commits.size(); b++) {
            if (found.containsKey(markers.get(b))) {
                return CompletableFuture.failedFuture(new MetadataException("the object "
                        + group.commits.get(b).objectKey() + " was collected as garbage before its commit (the "
                        + "commit took longer than the garbage collector's grace period); nothing of "
                        + (markers.size() == 1 ? "it" : "it or of the blocks committed with it") + " is committed, "
                        + "its producers may retry", false));
            }
        }
        KeyValue deleted = found.get(deletions);
        long deletionsRevision = deleted == null ? 0 : deleted.modRevision();
        Set<Long> topicIds = new HashSet<>();
        shards.forEach(shard -> group.chunksByShard.get(shard).forEach(c ->
                topicIds.add(group.chunk(c).partition().topicId())));
        ledgers.foldRead(found.values());
        return liveTopics.liveAmong(deletionsRevision, topicIds).thenCompose(live -> ledgersAt(group, shards, found)
                .thenApply(holders -> stage(group, shards, found, live, holders)))
                .handle((staged, failure) -> {
            if (failure != null) {
                Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause()
                        != null ? failure.getCause() : failure;
                if (cause instanceof MetadataException m && !m.retryable()) {
                    return CompletableFuture.<Void>failedFuture(cause);
                }
                return retry(group, shards, attempt, cause, unknown);
            }
            if (staged == null) {
                // A commit of this store moved a ledger past the heads as read: those heads have moved, and a
                // transaction guarded by them would fail.
                conflicts.increment();
                return retry(group, shards, attempt, null, unknown);
            }
            for (int b = 0; b < group.commits.size(); b++) {
                staged.guards.add(KvGuard.absent(markers.get(b)));
            }
            // A marker read absent may have been written, its object deleted and the marker removed since: any
            // removal of markers rewrites this key, so the transaction fails and the next read decides again
            // (by then the block is too old to commit, if the collector could have taken it).
            KeyValue dropped = found.get(markers.get(markers.size() - 1));
            staged.guards.add(dropped == null ? KvGuard.absent(markers.get(markers.size() - 1))
                    : new KvGuard(dropped.key(), dropped.modRevision()));
            staged.guards.add(new KvGuard(deletions, deletionsRevision));
            // A transaction's batches are stored only while it is still open: its end removes the key.
            // (One written with its commit here is never open: its record's revision is guarded instead, by stage.)
            staged.entries.stream().flatMap(e -> e.appends().stream()).filter(a -> a.epoch() > 0)
                    .map(a -> keys.openTransaction(a.producerId(), a.epoch())).distinct()
                    .filter(found::containsKey)
                    .forEach(key -> staged.guards.add(new KvGuard(key, found.get(key).modRevision())));
            if (staged.bytes + staged.guards.size() * 96L > kv.maxTxnBytes()) { // a guard's key, revision, framing
                List<List<Integer>> units = planner.units(group, shards);
                if (units.size() == 1) {
                    return CompletableFuture.<Void>failedFuture(new MetadataException("the commit of shard"
                            + (shards.size() == 1 ? " " : "s ") + shards + " needs " + staged.bytes
                            + " bytes, over the store's limit of " + kv.maxTxnBytes(), false));
                }
                List<Integer> first = new ArrayList<>();
                units.subList(0, units.size() / 2).forEach(first::addAll);
                List<Integer> rest = new ArrayList<>();
                units.subList(units.size() / 2, units.size()).forEach(rest::addAll);
                return commitGroup(group, first, attempt, unknown).thenCompose(v ->
                        commitGroup(group, rest, attempt, unknown));
            }
            if (staged.ops.isEmpty()) {
                // Only retries and refusals, decisions that stay true whatever commits next: nothing to write.
                // (No attempt still unknown can be applied later: it would have given these records offsets,
                // and the heads it guards say they have none.)
                return done(staged, group.answers);
            }
            transactions.increment();
            keysWritten.add(staged.ops.size());
            bytesWritten.add(staged.bytes);
            return kv.txn(staged.guards, staged.ops).handle((result, txnFailure) -> {
                if (txnFailure != null) {
                    Map<String, Staged> stillUnknown = new LinkedHashMap<>(unknown);
                    stillUnknown.remove(staged.verifyKey);
                    stillUnknown.put(staged.verifyKey, staged);
                    return retry(group, shards, attempt, txnFailure, stillUnknown);
                }
                if (result.succeeded()) {
                    staged.entries.forEach(ledgers::committed);
                    return done(staged, group.answers);
                }
                conflicts.increment();
                return retry(group, shards, attempt, null, unknown);
            }).thenCompose(f -> f);
        }).thenCompose(f -> f);
    }

    private CompletableFuture<Void> retry(Group group, List<Integer> shards, int attempt, Throwable lastFailure,
                                          Map<String, Staged> unknown) {
        if (System.nanoTime() > group.deadline || unknown.size() > MAX_UNKNOWN_ATTEMPTS) {
            if (!unknown.isEmpty()) {
                return CompletableFuture.failedFuture(new CommitOutcomeUnknownException("commit of "
                        + group.objectKeys() + " may or may not have been applied: the answer to "
                        + unknown.size() + " of its transactions was lost and the store could not tell within "
                        + (attempt + 1) + " attempts", lastFailure));
            }
            return CompletableFuture.failedFuture(new MetadataException("commit of " + group.objectKeys()
                    + " gave up after " + (attempt + 1) + " attempts (conflicts or unavailable store)", true,
                    lastFailure));
        }
        return backoff.apply(attempt).thenCompose(v -> commitGroup(group, shards, attempt + 1, unknown));
    }

    /**
     * Which transactions block {@code block}'s batches may be stored in: one written in one write with the block
     * only while its record is as its decision read it (and it was not refused); any other only while its open key
     * is there.
     */
    private ChunkAdmission.OpenTransactions opens(Group group, int block, Map<String, KeyValue> read,
                                                  Set<String> refused) {
        return new ChunkAdmission.OpenTransactions() {
            @Override
            public boolean isOpen(long producerId, long txnEpoch) {
                String oneWrite = group.oneWrites().of(block, producerId, txnEpoch);
                if (oneWrite != null) {
                    return !refused.contains(oneWrite) && group.oneWrites().stands(oneWrite, read);
                }
                return read.containsKey(keys.openTransaction(producerId, txnEpoch));
            }

            @Override
            public String whyNotStored(long producerId, long txnEpoch, int partition) {
                String oneWrite = group.oneWrites().of(block, producerId, txnEpoch);
                if (oneWrite != null && refused.contains(oneWrite)) {
                    // "is no longer open": the words the Java client and the Kafka door end a transaction on.
                    return "transaction of producer " + producerId + " at epoch " + txnEpoch + " is no longer open: "
                            + "sent with its commit, it is stored whole or not at all, and another of its batches "
                            + "could not be stored (or it spans more than one metadata transaction holds); nothing of "
                            + "this batch to partition " + partition + " is stored, and the transaction is not committed";
                }
                if (oneWrite != null && group.oneWrites().get(oneWrite).chained()) {
                    return "transaction of producer " + producerId + " at epoch " + txnEpoch + " is no longer open: "
                            + "sent with its commit behind the producer's previous transaction, it stands on that one's "
                            + "commit, which was not stored (or the transactional id's record moved since); nothing of "
                            + "this batch to partition " + partition + " is stored";
                }
                if (oneWrite != null) {
                    return "transaction of producer " + producerId + " at epoch " + txnEpoch + " is no longer open: "
                            + "sent with its commit, its transactional id's record moved (a newer producer of the id, an "
                            + "abort, the id expired, or the producer began the transaction anew) before this batch to "
                            + "partition " + partition + " could be stored; nothing of it is stored";
                }
                return ChunkAdmission.OpenTransactions.super.whyNotStored(producerId, txnEpoch, partition);
            }
        };
    }

    /** Whether the shard's head, as read, has moved past the sequence of the index entry {@code entryKey}. */
    private boolean sequenceTaken(String entryKey, Map<String, KeyValue> found) {
        long[] id = keys.parseIndexEntry(entryKey);
        KeyValue head = found.get(keys.head((int) id[0]));
        return head != null && MetadataCodec.decodeHead(head.key(), head.value()).getNextSequence() > id[1];
    }

    private static CompletableFuture<Void> done(Staged staged, ChunkCommit[][] answers) {
        staged.commits.forEach((c, commit) -> answers[c.block][c.chunk] = commit);
        return CompletableFuture.completedFuture(null);
    }

    /**
     * The ledgers of {@code shards}, each brought to the sequence of its head as read (with producer state where
     * a chunk of the shard carries idempotent batches).
     */
    private CompletableFuture<Map<Integer, ShardLedgers.Holder>> ledgersAt(Group group, List<Integer> shards,
                                                                         Map<String, KeyValue> found) {
        Map<Integer, ShardLedgers.Holder> holders = new java.util.concurrent.ConcurrentHashMap<>();
        List<CompletableFuture<Void>> ready = new ArrayList<>(shards.size());
        for (int shard : shards) {
            ready.add(ledgers.upTo(shard, headSequence(shard, found), needsProducers(group, shard))
                    .thenAccept(h -> holders.put(shard, h)));
        }
        return CompletableFuture.allOf(ready.toArray(CompletableFuture[]::new)).thenApply(v -> holders);
    }

    /** Whether any of the shard's chunks carries an idempotent producer's batch (the shard needs producer state). */
    private static boolean needsProducers(Group group, int shard) {
        return group.chunksByShard.get(shard).stream().anyMatch(c -> !group.chunk(c).producerBatches().isEmpty());
    }

    private long headSequence(int shard, Map<String, KeyValue> found) {
        return ShardLedgers.headSequence(found.get(keys.head(shard)));
    }

    /**
     * {@code guards} is mutable: the caller adds the guards that the objects were not collected meanwhile.
     * {@code verifyKey} is the last entry it writes, {@code verifyBytes} what it writes there.
     */
    private record Staged(List<KvGuard> guards, List<KvOp> ops, Map<Chunk, ChunkCommit> commits, String verifyKey,
                          byte[] verifyBytes, long bytes, List<IndexEntry> entries) {
    }

    /**
     * Decides the group's chunks of {@code shards} against their ledgers, which stand at the heads as read, and
     * stages per shard the head (only its next sequence) and an index entry per block, in the blocks' order (the
     * chunks that got offsets and the producer batches appended). Each block is decided against the ledger as
     * the blocks before it in the group leave it: their offsets and producer batches. A block whose chunks of
     * the shard got no offsets writes no entry there; a shard without entries writes nothing and needs no
     * guard: such decisions stay true whatever commits next. Null when a ledger has moved past its head as read
     * (a commit of this store came in between), or lacks the producers the chunks need: the caller reads again.
     */
    private Staged stage(Group group, List<Integer> shards, Map<String, KeyValue> heads, Set<Long> liveTopicIds,
                         Map<Integer, ShardLedgers.Holder> holders) {
        Set<String> refused = new HashSet<>(group.refused);
        while (true) {
            Staged staged = stage(group, shards, heads, liveTopicIds, holders, refused);
            if (staged == null || group.oneWrites.isEmpty()) {
                return staged;
            }
            // A transaction written in one write is stored whole or not at all: one with a batch refused (a
            // sequence broken, its topic deleted) while others would be appended is refused whole, decided again.
            Map<String, boolean[]> outcomes = new LinkedHashMap<>(); // by transaction: [appended, refused]
            for (int shard : shards) {
                for (Chunk c : group.chunksByShard.get(shard)) {
                    List<ProducerBatch> batches = group.chunk(c).producerBatches();
                    for (int i = 0; i < batches.size(); i++) {
                        String txn = group.oneWrites.of(c.block, batches.get(i));
                        if (txn != null) {
                            BatchOutcome outcome = staged.commits.get(c).batches().get(i);
                            boolean[] seen = outcomes.computeIfAbsent(txn, k -> new boolean[2]);
                            seen[0] |= outcome instanceof BatchOutcome.Appended;
                            seen[1] |= outcome instanceof BatchOutcome.Rejected;
                        }
                    }
                }
            }
            Set<String> mixed = new HashSet<>();
            outcomes.forEach((txn, seen) -> {
                if (seen[0] && seen[1]) {
                    mixed.add(txn);
                }
            });
            if (!mixed.isEmpty()) {
                refused.addAll(mixed);
                continue;
            }
            long bytes = staged.bytes;
            for (Map.Entry<String, boolean[]> e : outcomes.entrySet()) {
                if (e.getValue()[0]) {
                    // Its records and its commit in this one write, only while its record is as the decision read it.
                    OneWriteTransaction t = group.oneWrites.get(e.getKey());
                    String record = keys.transactionState(t.transactionalId());
                    // A chained one stands on its predecessor's record (by its bytes): guarded as read.
                    staged.guards.add(new KvGuard(record, t.chained() ? heads.get(record).modRevision()
                            : t.expectedRevision()));
                    staged.ops.add(new KvOp.Put(record, t.committedRecord()));
                    bytes += record.length() + t.committedRecord().length;
                }
            }
            return new Staged(staged.guards, staged.ops, staged.commits, staged.verifyKey, staged.verifyBytes, bytes,
                    staged.entries);
        }
    }

    /**
     * One decision of {@link #stage(Group, List, Map, Set, Map)}, the transactions written in one write that are
     * named in {@code refused} taken as not open.
     */
    private Staged stage(Group group, List<Integer> shards, Map<String, KeyValue> heads, Set<Long> liveTopicIds,
                         Map<Integer, ShardLedgers.Holder> holders, Set<String> refused) {
        long now = group.commitTime(clock);
        List<KvGuard> guards = new ArrayList<>(shards.size());
        List<KvOp> ops = new ArrayList<>(shards.size() * (1 + group.commits.size()));
        Map<Chunk, ChunkCommit> commits = new HashMap<>();
        List<IndexEntry> entries = new ArrayList<>();
        String verifyKey = null;
        byte[] verifyBytes = null;
        long bytes = 0;
        for (int shard : shards) {
            String headKey = keys.head(shard);
            KeyValue read = heads.get(headKey);
            long sequence = headSequence(shard, heads);
            List<Chunk> chunks = group.chunksByShard.get(shard);
            List<IndexEntry> shardEntries = new ArrayList<>();
            ShardLedgers.Holder holder = holders.get(shard);
            synchronized (holder) {
                ShardLedger ledger = holder.ledger;
                if (ledger == null || ledger.applied() != sequence
                        || (needsProducers(group, shard) && !ledger.hasProducers())) {
                    return null;
                }
                Overlay overlay = new Overlay(ledger);
                for (int from = 0; from < chunks.size(); ) {
                    int to = from + 1;
                    while (to < chunks.size() && chunks.get(to).block == chunks.get(from).block) {
                        to++;
                    }
                    IndexEntry entry = admitBlock(group, chunks.subList(from, to), overlay, shard,
                            sequence + shardEntries.size(), liveTopicIds, now, commits,
                            opens(group, chunks.get(from).block, heads, refused));
                    if (entry != null) {
                        shardEntries.add(entry);
                    }
                    from = to;
                }
            }
            if (shardEntries.isEmpty()) {
                continue;
            }
            guards.add(new KvGuard(headKey, read == null ? 0 : read.modRevision()));
            byte[] headBytes = MetadataCodec.encodeHead(sequence + shardEntries.size());
            ops.add(new KvOp.Put(headKey, headBytes));
            bytes += headKey.length() + headBytes.length;
            for (IndexEntry entry : shardEntries) {
                String entryKey = keys.indexEntry(shard, entry.sequence());
                byte[] entryBytes = MetadataCodec.encode(entry);
                ops.add(new KvOp.Put(entryKey, entryBytes));
                bytes += entryKey.length() + entryBytes.length;
                verifyKey = entryKey;
                verifyBytes = entryBytes;
            }
            entries.addAll(shardEntries);
        }
        return new Staged(guards, ops, commits, verifyKey, verifyBytes, bytes, entries);
    }

    /**
     * Decides one block's chunks of a shard against the overlay, records the answers in {@code commits} and
     * moves the overlay past what they appended: the block's index entry at {@code sequence}, or null when
     * none of its chunks got offsets.
     */
    private static IndexEntry admitBlock(Group group, List<Chunk> chunks, Overlay overlay, int shard, long sequence,
                                         Set<Long> liveTopicIds, long now, Map<Chunk, ChunkCommit> commits,
                                         ChunkAdmission.OpenTransactions open) {
        String objectKey = group.commits.get(chunks.get(0).block).objectKey();
        List<ChunkRef> refs = new ArrayList<>();
        List<ProducerAppend> appends = new ArrayList<>();
        for (Chunk at : chunks) {
            BlockChunk c = group.chunk(at);
            PartitionId partition = c.partition();
            if (!liveTopicIds.contains(partition.topicId())) {
                commits.put(at, ChunkCommit.refused(c, now, new BatchOutcome.Rejected(BatchOutcome.Reason.TOPIC_DELETED,
                        "(id " + partition.topicId() + ") was deleted before the records were committed; nothing of "
                        + "them is stored")));
                continue;
            }
            ChunkAdmission.Admitted admitted = ChunkAdmission.admit(overlay.nextOffset(partition),
                    producer -> overlay.producer(partition, producer), c, objectKey, now, open);
            commits.put(at, admitted.commit());
            if (admitted.ref() != null) {
                refs.add(admitted.ref());
                appends.addAll(admitted.appends());
                overlay.admitted(partition, admitted);
            }
        }
        return refs.isEmpty() ? null : new IndexEntry(shard, sequence, objectKey, now, refs, appends);
    }

    /**
     * A shard's ledger as the group's earlier blocks leave it (their next offsets and producer states), which
     * later blocks of the group are decided against; the ledger itself moves only once the transaction is in.
     */
    private static final class Overlay {
        private final ShardLedger ledger;
        private final Map<PartitionId, Long> nextOffsets = new HashMap<>();
        private final Map<PartitionId, Map<Long, ProducerState>> producers = new HashMap<>();

        Overlay(ShardLedger ledger) {
            this.ledger = ledger;
        }

        long nextOffset(PartitionId partition) {
            return nextOffsets.getOrDefault(partition, ledger.nextOffset(partition));
        }

        ProducerState producer(PartitionId partition, long producerId) {
            Map<Long, ProducerState> staged = producers.get(partition);
            return staged != null && staged.containsKey(producerId) ? staged.get(producerId)
                    : ledger.producer(partition, producerId);
        }

        void admitted(PartitionId partition, ChunkAdmission.Admitted admitted) {
            nextOffsets.put(partition, admitted.nextOffset());
            producers.computeIfAbsent(partition, p -> new HashMap<>()).putAll(admitted.states());
        }
    }
}
