package io.strata.metadata;

/**
 * Where Strata's metadata lives under the cluster's root (see docs/architecture.md, "Metadata layout").
 * Shards and sequences are zero-padded so that key order is numeric order: a prefix range over
 * {@code index/} reads every shard's entries in commit order.
 *
 * <pre>
 * {root}/cluster                    ClusterValue      once
 * {root}/topic-ids                  CounterValue      per topic created
 * {root}/producer-ids               CounterValue      per idempotent producer started
 * {root}/topics/{name}              TopicValue        per topic
 * {root}/topic-deletions            CounterValue      per topic deleted (the last deleted id; commits guard it)
 * {root}/heads/{shard}              ShardHeadValue    per shard: its next index sequence (after a 2-byte mark)
 * {root}/index/{shard}/{sequence}   IndexEntryValue   per (shard, committed block), and per segment
 * {root}/index/{shard}/state        ShardStateValue   per shard compaction changed: its sequences, log starts
 * {root}/nodes/{node id}            NodeValue         per live node, bound to its lease
 * {root}/gc/{object key}            GcMarkerValue     per object found unreferenced, until deleted and old
 * {root}/gc-markers-dropped         empty             once: rewritten with every removal of markers (commits guard it)
 * {root}/compaction/locks/{name}    LockValue         per piece of compaction work held, bound to a lease
 * {root}/compaction/history         RevisionSample    once: the revision history is compacted up to
 * {root}/compaction/passes/{owner}   CompactionPassValue per compaction worker: its last pass, for the console
 * {root}/groups/{group}             GroupValue        per consumer group, from its first join until deleted
 * {root}/group/{group}/members/{id} MemberValue       per live member, bound to its session lease
 * {root}/group/{group}/owners/{topic}/{partition}  OwnerValue  per owned partition, bound to the owner's lease
 * {root}/group/{group}/target       TargetValue       per group with members: the assignment it moves to
 * {root}/group-offsets/{group}/{topic}/{partition}  OffsetValue  per committed partition
 * {root}/security/users/{name}      UserValue         per user who signs in with a password
 * {root}/security/acls/{id}         AclValue          per access rule (the id is derived from the rule)
 * {root}/security/mode              "required"        once a node with authentication required ran
 * {root}/share/{group}/{topic id}/{partition}  share state  per partition a share group took records of
 * {root}/group-settings/{group}     GroupSettingsValue  per group an operator altered (dead-letter topic, ...)
 * {root}/delay/{topic id}/{partition}  delay state  per partition delayed records were produced to
 * {root}/txn/state/{transactional id}  transaction record  per transactional id a producer was initialised with
 * {root}/txn/aborted/{topic id}/{partition}/{producer id}-{txn epoch}  start offset  per aborted transaction and
 *                                   partition it may have written to, until its records are gone
 * {root}/txn/open/{producer id}-{txn epoch}  empty  per open transaction: the shard commit takes its batches only
 *                                   while it is there
 * {root}/half/{topic id}/{partition}/{offset}  half message state  per half message from when it is decided or
 *                                   found in its half log until ten minutes after it is delivered or dropped
 * {root}/half-scan/{topic id}/{partition}  half scan  per partition half messages were sent to
 * {root}/half-producers/{group}/{node id}  empty  per node with a live check-back stream of the producer group,
 *                                   under a lease of the node's
 * </pre>
 *
 * A group's coordination keys (members, owners, target) share one prefix that one watch follows; committed
 * offsets live apart, so the stream of commits never wakes the members' coordination.
 */
public final class KeyLayout {
    /**
     * Index entries written by compaction take sequences from here up (never reached by commits, which count
     * from 0 by one per block), so the two writers never need each other's counter.
     */
    public static final long COMPACTION_SEQUENCE_BASE = 1L << 62;
    private static final String STATE = "state";

    private final String root;

    /** {@code root} such as "/strata"; a trailing slash is ignored, and "" puts keys at the top. */
    public KeyLayout(String root) {
        if (root == null || root.contains("//")) {
            throw new IllegalArgumentException("invalid metadata root '" + root + "'");
        }
        this.root = root.endsWith("/") ? root.substring(0, root.length() - 1) : root;
    }

    public String root() {
        return root;
    }

    public String cluster() {
        return root + "/cluster";
    }

    public String topicIds() {
        return root + "/topic-ids";
    }

    public String producerIds() {
        return root + "/producer-ids";
    }

    /** Rewritten by every topic deletion: a commit guards it, so it never lands in a topic deleted meanwhile. */
    public String topicDeletions() {
        return root + "/topic-deletions";
    }

    public String topicsPrefix() {
        return root + "/topics/";
    }

    public String topic(String name) {
        return topicsPrefix() + name;
    }

    public String head(int shard) {
        return root + "/heads/" + pad(shard, 5);
    }

    public String indexPrefix() {
        return root + "/index/";
    }

    public String indexShardPrefix(int shard) {
        return indexPrefix() + pad(shard, 5) + "/";
    }

    public String indexEntry(int shard, long sequence) {
        return indexShardPrefix(shard) + pad(sequence, 19);
    }

    /** The shard's compaction state: under the shard's index prefix, so one range read and one watch see both. */
    public String indexState(int shard) {
        return indexShardPrefix(shard) + STATE;
    }

    /** The shard of a compaction state key, or -1 for a key that is not one. */
    public int parseIndexState(String key) {
        if (!key.startsWith(indexPrefix()) || !key.endsWith("/" + STATE)) {
            return -1;
        }
        String shard = key.substring(indexPrefix().length(), key.length() - STATE.length() - 1);
        try {
            return shard.length() == 5 ? Integer.parseInt(shard) : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    public String gcPrefix() {
        return root + "/gc/";
    }

    /**
     * Rewritten in every transaction that removes garbage markers: a commit that read a marker absent guards this
     * key too, since a marker removed after its object was deleted is absent again.
     */
    public String gcMarkersDropped() {
        return root + "/gc-markers-dropped";
    }

    public String gcMarker(String objectKey) {
        return gcPrefix() + objectKey;
    }

    public String lock(String name) {
        return root + "/compaction/locks/" + name;
    }

    public String compactionPassPrefix() {
        return root + "/compaction/passes/";
    }

    public String compactionPass(String owner) {
        return compactionPassPrefix() + owner;
    }

    public String shardSizesPrefix() {
        return root + "/compaction/sizes/";
    }

    public String shardSizes(int shard) {
        return shardSizesPrefix() + String.format("%05d", shard);
    }

    public String historySample() {
        return root + "/compaction/history";
    }

    /** The (shard, sequence) of an index entry key, or null for a key that is not one. */
    public long[] parseIndexEntry(String key) {
        if (!key.startsWith(indexPrefix())) {
            return null;
        }
        String rest = key.substring(indexPrefix().length());
        int slash = rest.indexOf('/');
        if (slash <= 0) {
            return null;
        }
        try {
            return new long[] {Integer.parseInt(rest.substring(0, slash)), Long.parseLong(rest.substring(slash + 1))};
        } catch (NumberFormatException e) {
            return null;
        }
    }

    public String nodesPrefix() {
        return root + "/nodes/";
    }

    public String node(String nodeId) {
        return nodesPrefix() + nodeId;
    }

    public String groupsPrefix() {
        return root + "/groups/";
    }

    public String group(String group) {
        return groupsPrefix() + group;
    }

    /** Everything one watch of a group's coordination follows. */
    public String groupCoordinationPrefix(String group) {
        return allGroupsCoordinationPrefix() + group + "/";
    }

    /** Every group's coordination keys, for one read of them all. */
    public String allGroupsCoordinationPrefix() {
        return root + "/group/";
    }

    public String groupMembersPrefix(String group) {
        return groupCoordinationPrefix(group) + "members/";
    }

    public String groupMember(String group, String memberId) {
        return groupMembersPrefix(group) + memberId;
    }

    public String groupOwnersPrefix(String group) {
        return groupCoordinationPrefix(group) + "owners/";
    }

    public String groupOwner(String group, String topic, int partition) {
        return groupOwnersPrefix(group) + topic + "/" + pad(partition, 5);
    }

    public String groupTarget(String group) {
        return groupCoordinationPrefix(group) + "target";
    }

    public String groupOffsetsPrefix(String group) {
        return allGroupOffsetsPrefix() + group + "/";
    }

    public String allGroupOffsetsPrefix() {
        return root + "/group-offsets/";
    }

    public String groupOffset(String group, String topic, int partition) {
        return groupOffsetsPrefix(group) + topic + "/" + pad(partition, 5);
    }

    /** Users and ACLs: one prefix, so a node follows them with one watch. */
    public String securityPrefix() {
        return root + "/security/";
    }

    public String usersPrefix() {
        return securityPrefix() + "users/";
    }

    public String user(String name) {
        return usersPrefix() + name;
    }

    /** Present once a node with authentication required has run: nodes without it then refuse to start. */
    public String securityMode() {
        return securityPrefix() + "mode";
    }

    public String aclsPrefix() {
        return securityPrefix() + "acls/";
    }

    public String acl(String id) {
        return aclsPrefix() + id;
    }

    /** The key producer ids are bound to their principals with ({@link io.strata.metadata.security.ProducerIdBinding}). */
    public String producerKey() {
        return securityPrefix() + "producer-key";
    }

    public String quotasPrefix() {
        return securityPrefix() + "quotas/";
    }

    /** The entity URL-encoded: a principal may hold '/' (a certificate's name). */
    public String quota(String entity) {
        return quotasPrefix() + java.net.URLEncoder.encode(entity, java.nio.charset.StandardCharsets.UTF_8);
    }

    /** What an operator set for a group: its dead-letter topic, deliveries, lock and back-off. */
    public String groupSettings(String group) {
        return groupSettingsPrefix() + group;
    }

    public String groupSettingsPrefix() {
        return root + "/group-settings/";
    }

    /** Where every share group's state lies. */
    public String shareStateRoot() {
        return root + "/share/";
    }

    /** Where a share group keeps its partitions' state (the queues module's encoding). */
    public String shareStatePrefix(String group) {
        return root + "/share/" + group + "/";
    }

    public String shareState(String group, long topicId, int partition) {
        return shareStatePrefix(group) + topicId + "/" + partition;
    }

    /** Where half messages' states live (the transactions module's encoding), one per half message. */
    public String halfStates() {
        return root + "/half/";
    }

    public String halfStates(long topicId, int partition) {
        return halfStates() + topicId + "/" + partition + "/";
    }

    /** Zero-padded, so the keys of a partition sort by offset. */
    public String halfState(long topicId, int partition, long offset) {
        return halfStates(topicId, partition) + String.format("%019d", offset);
    }

    public String halfScans() {
        return root + "/half-scan/";
    }

    public String halfScan(long topicId, int partition) {
        return halfScans() + topicId + "/" + partition;
    }

    public String halfProducers(String group) {
        return root + "/half-producers/" + group + "/";
    }

    /** Where delayed records' states live (the queues module's encoding), one per target partition. */
    public String delayStateRoot() {
        return root + "/delay/";
    }

    public String delayState(long topicId, int partition) {
        return delayStateRoot() + topicId + "/" + partition;
    }

    /** Where everything of transactions lies: the records and the aborted marks, one watch for both. */
    public String transactionRoot() {
        return root + "/txn/";
    }

    public String transactionStates() {
        return transactionRoot() + "state/";
    }

    public String transactionState(String transactionalId) {
        return transactionStates() + transactionalId;
    }

    public String abortedTransactions() {
        return transactionRoot() + "aborted/";
    }

    public String abortedTransactions(long topicId, int partition) {
        return abortedTransactions() + topicId + "/" + partition + "/";
    }

    public String abortedTransaction(long topicId, int partition, long producerId, long txnEpoch) {
        return abortedTransactions(topicId, partition) + producerId + "-" + txnEpoch;
    }

    /**
     * Present exactly while the transaction is open (written and removed with its record): a commit stores a
     * transactional batch only under a guard that this key is still there.
     */
    public String openTransaction(long producerId, long txnEpoch) {
        return transactionRoot() + "open/" + producerId + "-" + txnEpoch;
    }

    /** What each node's clients used of their quotas lately: one key per node, under the node's own lease. */
    public String quotaUsagePrefix() {
        return root + "/quota-usage/";
    }

    public String quotaUsage(String nodeId) {
        return quotaUsagePrefix() + nodeId;
    }

    /** "{topic}/{partition}" at the end of an owner or offset key, after {@code prefix}; null if it is not one. */
    public static io.strata.metadata.group.TopicPartition parseTopicPartition(String key, String prefix) {
        if (!key.startsWith(prefix)) {
            return null;
        }
        String rest = key.substring(prefix.length());
        int slash = rest.lastIndexOf('/');
        if (slash <= 0) {
            return null;
        }
        try {
            return new io.strata.metadata.group.TopicPartition(rest.substring(0, slash),
                    Integer.parseInt(rest.substring(slash + 1)));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static String pad(long value, int width) {
        String digits = Long.toString(value);
        return "0".repeat(Math.max(0, width - digits.length())) + digits;
    }
}
