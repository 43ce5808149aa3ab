package io.strata.metadata;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Strata's metadata: topics, shard heads (next offsets), block index entries, live nodes.
 * Thread-safe. Every method answers with a future that always completes within the store's timeouts,
 * failing with a {@link MetadataException} rather than throwing.
 *
 * <p>Writes per committed block grow with the number of metadata shards the block touches, never with
 * its partition count: one head and one index entry per shard (see docs/architecture.md).
 */
public interface MetadataStore extends AutoCloseable {

    /** Cluster identity and the fixed shard count. */
    ClusterInfo cluster();

    /** The shard a partition belongs to: stable for the life of the cluster. */
    int shardOf(PartitionId partition);

    /**
     * Whether this store holds the shard's ledger already: reading ends there costs the entries since it was last
     * brought up to date (read whole only if compaction merged those away meanwhile), while a shard not held is read
     * whole (and held from then on). For readers that may wait for a shard (the console's
     * charts), so that a node does not build every shard's ledger at once for them.
     */
    boolean holdsLedger(int shard);

    /** Creates a topic with a fresh id. Fails with {@link TopicExistsException}. */
    CompletableFuture<Topic> createTopic(TopicConfig config);

    CompletableFuture<Optional<Topic>> getTopic(String name);

    /** All topics, by name. */
    CompletableFuture<List<Topic>> listTopics();

    /** The highest topic id handed out so far (0 when none): every topic created later has a higher one. */
    CompletableFuture<Long> lastTopicId();

    /** Changes a live topic's settings; empty when there is no such topic. */
    CompletableFuture<Optional<Topic>> alterTopic(String name, TopicChange change);

    /** Answers false when there was no such topic. The topic's data is left for compaction to delete. */
    CompletableFuture<Boolean> deleteTopic(String name);

    /** A partition's committed bounds (0, 0 for a partition nothing was committed to). */
    CompletableFuture<PartitionOffsets> offsets(PartitionId partition);

    /** Several partitions' bounds, in the order asked, reading each shard head once. */
    CompletableFuture<List<PartitionOffsets>> offsets(List<PartitionId> partitions);

    /**
     * Assigns offsets to an uploaded block's chunks and indexes them: per touched shard, compare the head,
     * put the advanced head and the shard's index entry. Idempotent producers' batches are checked against
     * the producer state in the heads: a retry of a stored batch gets the original's offsets and is skipped,
     * a batch out of sequence is refused and skipped. Retries on conflict with other writers (re-reading the
     * heads, never re-uploading); splits into several transactions when one would pass the store's limits.
     * Answer i belongs to chunk i. Fails with {@link CommitOutcomeUnknownException} when the outcome is unknown.
     */
    CompletableFuture<List<ChunkCommit>> commitBlock(BlockCommit commit);

    /**
     * Commits blocks uploaded one after the other as {@link #commitBlock} would one at a time, in their order (a
     * later block's batches are checked against the earlier ones' as if those were already committed), but as
     * many of them as the store's limits allow in one transaction: blocks that waited behind a slow upload cost
     * one round trip instead of one each. Commits the longest first run of {@code commits} that fits, at least
     * one block, and answers for those: answer i belongs to block i; the caller commits the rest next. A failure
     * is that of every block in the run, as of {@link #commitBlock}.
     */
    CompletableFuture<List<List<ChunkCommit>>> commitBlocks(List<BlockCommit> commits);

    /** A producer id never issued before, for an idempotent producer. */
    CompletableFuture<Long> allocateProducerId();

    /** The highest producer id issued so far (0 when none). */
    CompletableFuture<Long> lastProducerId();

    /**
     * The idempotent and transactional producers each partition's commits know, as the next commit would check
     * them (those idle past the state expiry may still be among them until commits drop them), by producer id:
     * what Kafka's DescribeProducers shows. Each shard is read once for its partitions (its head and, unless this
     * store holds the shard's producers already, the shard and its producer snapshot, kept for this answer only),
     * and fails alone: one future per partition, those of one shard the same.
     */
    Map<PartitionId, CompletableFuture<List<ProducerState>>> producers(java.util.Collection<PartitionId> partitions);

    /** Counters of this store instance since it was opened. */
    MetadataStats stats();

    /** The bytes the store takes (etcd's backend database, held against its quota; the embedded store's files). */
    CompletableFuture<Long> sizeBytes();

    /**
     * Lets commits read the producer snapshots compaction writes to the object store, needed to rebuild a
     * shard's producer state once compaction merged the entries that carried it away; producers idle longer
     * than {@code stateExpiry} are dropped from memory. Until called, such a rebuild fails (a store used for
     * commits is given its node's object store at start).
     */
    void useProducerSnapshots(ProducerSnapshotReader reader, java.time.Duration stateExpiry);

    /** Every index entry of every shard, with the revision it was read at. */
    CompletableFuture<IndexSnapshot> readIndex();

    /** The index entries of one shard (all its partitions), with the revision they were read at. */
    CompletableFuture<IndexSnapshot> readIndex(int shard);

    /** The store's current revision: a watch from it sees every change made after this call. */
    CompletableFuture<Long> revision();

    /** Index changes after {@code afterRevision}, until the returned handle is closed. */
    AutoCloseable watchIndex(long afterRevision, IndexListener listener);

    /** What the compaction job reads and changes (shard snapshots, guarded swaps, locks, garbage markers). */
    CompactionStore compaction();

    /** Consumer groups: members, partition leases, targets and committed offsets. */
    io.strata.metadata.group.GroupStore groups();

    /** Users and ACLs. */
    io.strata.metadata.security.SecurityStore security();

    /** A new handle on what nodes used of their clients' quotas; the caller closes it (withdrawing its figures). */
    io.strata.metadata.security.QuotaUsageStore quotaUsage();

    /** Share groups' partition states (docs/queues.md). */
    io.strata.metadata.share.ShareStateStore shares();

    /** Groups' settings as operators set them (dead-letter topic, deliveries, lock, back-off). */
    io.strata.metadata.group.GroupSettingsStore groupSettings();

    /** Where partitions' delayed records are tracked (docs/queues.md, "Delayed delivery"). */
    io.strata.metadata.delay.DelayStateStore delays();

    /** Where half messages are decided, and which nodes hold producers' check-back streams. */
    io.strata.metadata.half.HalfStore halves();

    /** Transactional ids' records and aborted transactions' marks (docs/transactions.md). */
    io.strata.metadata.txn.TransactionStore transactions();

    /** Registers a live node until the handle is closed or the node stops renewing it for {@code ttl}. */
    CompletableFuture<AutoCloseable> registerNode(NodeInfo node, Duration ttl);

    /** The live nodes, by id. */
    CompletableFuture<List<NodeInfo>> listNodes();

    @Override
    void close();
}
