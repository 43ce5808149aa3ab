package io.strata.metadata.group;

import io.strata.metadata.KeyLayout;
import io.strata.metadata.codec.GroupCodec;
import io.strata.metadata.kv.KeyValue;
import io.strata.metadata.kv.KvEvent;
import io.strata.metadata.kv.KvGuard;
import io.strata.metadata.kv.KvOp;
import io.strata.metadata.kv.KvStore;
import io.strata.metadata.kv.KvWatchListener;
import io.strata.metadata.kv.TxnResult;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;

/**
 * {@link GroupStore} over a {@link KvStore}, in the key layout of {@link KeyLayout}. Ownership is a key
 * created only where none exists and bound to the owner's session lease, so two members never own one
 * partition and a vanished member's partitions free themselves. Commits compare every owner key they write
 * for. Thread-safe; holds no state.
 */
public final class KvGroupStore implements GroupStore {
    /** How often a change guarded by what was read is decided again after a concurrent change. */
    private static final int TRIES = 5;
    /**
     * A commit retries only while every partition is still the member's under the same epoch (the check comes
     * first each time), so more tries cost nothing when ownership is stable but keys keep moving.
     */
    private static final int COMMIT_TRIES = 20;
    private final KvStore kv;
    private final KeyLayout keys;
    private final Clock clock;

    public KvGroupStore(KvStore kv, KeyLayout keys, Clock clock) {
        this.kv = kv;
        this.keys = keys;
        this.clock = clock;
    }

    @Override
    public CompletableFuture<Long> grantHostLease(Duration ttl) {
        return kv.grantSessionLease(ttl);
    }

    @Override
    public CompletableFuture<Boolean> renewHostLease(long lease) {
        return kv.renewLease(lease);
    }

    @Override
    public CompletableFuture<GroupMember> join(String group, MemberSpec spec, long hostLease) {
        GroupNames.requireGroup(group);
        boolean chosen = !spec.memberId().isEmpty();
        String memberId = chosen ? spec.memberId() : memberId(spec.clientId());
        return kv.get(keys.group(group)).thenCompose(existing -> {
            long now = clock.millis();
            long created = existing.map(v -> GroupCodec.decodeGroupCreatedAt(v.key(), v.value())).orElse(now);
            GroupMember member = new GroupMember(memberId, spec.clientId(), spec.clientAddress(), spec.topics(),
                    hostLease, spec.sessionTimeout().toMillis(), spec.offsetReset(), now, 0, spec.protocol());
            String memberKey = keys.groupMember(group, memberId);
            // A chosen id may be taken: the join must not overwrite a live member (its leases stay with it).
            return kv.txn(chosen ? List.of(KvGuard.absent(memberKey)) : List.of(), List.of(
                            new KvOp.Put(keys.group(group), GroupCodec.encodeGroup(created, now)),
                            new KvOp.Put(memberKey, GroupCodec.encode(member), hostLease)))
                    .thenApply(r -> {
                        if (!r.succeeded()) {
                            throw new MemberIdTakenException(group, memberId);
                        }
                        return member.at(r.revision());
                    });
        });
    }

    /** A readable, unique id: the client's id (made key-safe) and 48 random bits. */
    private static String memberId(String clientId) {
        String safe = clientId.replaceAll("[^A-Za-z0-9._-]", "_");
        if (safe.isEmpty() || safe.equals(".") || safe.equals("..")) {
            safe = "consumer";
        }
        safe = safe.substring(0, Math.min(safe.length(), 200));
        return safe + "-" + String.format("%012x", ThreadLocalRandom.current().nextLong() & 0xffff_ffff_ffffL);
    }

    @Override
    public CompletableFuture<Optional<GroupMember>> adopt(String group, String memberId, long hostLease) {
        if (!GroupNames.validGroup(group) || !GroupNames.validMember(memberId)) {
            return CompletableFuture.completedFuture(Optional.empty());
        }
        return adopt(group, memberId, hostLease, TRIES);
    }

    private CompletableFuture<Optional<GroupMember>> adopt(String group, String memberId, long hostLease, int tries) {
        return read(group).thenCompose(snap -> {
            GroupMember m = snap.members().get(memberId);
            if (m == null || m.leaseId() == hostLease) {
                return CompletableFuture.completedFuture(Optional.ofNullable(m));
            }
            String memberKey = keys.groupMember(group, memberId);
            GroupMember moved = m.hostedBy(hostLease);
            List<List<PartitionOwner>> chunks = chunks(ownedBy(snap, memberId), kv.maxTxnOps() - 1);
            List<PartitionOwner> first = chunks.isEmpty() ? List.of() : chunks.get(0);
            List<KvGuard> guards = new ArrayList<>(List.of(new KvGuard(memberKey, m.revision())));
            List<KvOp> ops = new ArrayList<>(List.of(new KvOp.Put(memberKey, GroupCodec.encode(moved), hostLease)));
            rebind(group, first, hostLease, guards, ops);
            return kv.txn(guards, ops).thenCompose(r -> {
                if (!r.succeeded()) {
                    return tries > 1 ? adopt(group, memberId, hostLease, tries - 1) : CompletableFuture.failedFuture(
                            new io.strata.metadata.MetadataException("member " + memberId + " kept changing", true));
                }
                KvGuard adopted = new KvGuard(memberKey, r.revision());
                CompletableFuture<Void> rest = CompletableFuture.completedFuture(null);
                for (List<PartitionOwner> chunk : chunks.subList(Math.min(1, chunks.size()), chunks.size())) {
                    // An owner key that changed meanwhile (released) stays as it is: nothing to move.
                    List<KvGuard> g = new ArrayList<>(List.of(adopted));
                    List<KvOp> o = new ArrayList<>();
                    rebind(group, chunk, hostLease, g, o);
                    rest = rest.thenCompose(x -> kv.txn(g, o).handle((r2, e2) -> null)); // best effort: see above
                }
                return rest.thenApply(x -> Optional.of(moved.at(r.revision())));
            });
        });
    }

    /** Puts these owner keys again under {@code lease} (a put keeps the create revision: the epoch). */
    private void rebind(String group, List<PartitionOwner> owners, long lease, List<KvGuard> guards, List<KvOp> ops) {
        long now = clock.millis();
        for (PartitionOwner o : owners) {
            String key = keys.groupOwner(group, o.partition().topic(), o.partition().partition());
            guards.add(new KvGuard(key, o.revision()));
            ops.add(new KvOp.Put(key, GroupCodec.encodeOwner(o.memberId(), now), lease));
        }
    }

    private static List<PartitionOwner> ownedBy(GroupSnapshot snap, String memberId) {
        return snap.owners().values().stream().filter(o -> o.memberId().equals(memberId))
                .sorted(java.util.Comparator.comparing(PartitionOwner::partition)).toList();
    }

    @Override
    public CompletableFuture<Boolean> leave(String group, String memberId) {
        if (!GroupNames.validGroup(group) || !GroupNames.validMember(memberId)) {
            return CompletableFuture.completedFuture(false);
        }
        return remove(group, memberId, 0, TRIES);
    }

    @Override
    public CompletableFuture<Boolean> expire(String group, GroupMember hosted) {
        return remove(group, hosted.memberId(), hosted.revision(), TRIES);
    }

    /**
     * Deletes the member's owner keys and then its member key, each transaction guarded by the member key (at
     * {@code expectedRevision} unless 0) and by the owner keys it deletes. An owner key taken for the member
     * while this runs is left behind; {@link #dropOrphans} removes it.
     */
    private CompletableFuture<Boolean> remove(String group, String memberId, long expectedRevision, int tries) {
        return read(group).thenCompose(snap -> {
            GroupMember m = snap.members().get(memberId);
            if (m == null || (expectedRevision != 0 && m.revision() != expectedRevision)) {
                return CompletableFuture.completedFuture(false);
            }
            String memberKey = keys.groupMember(group, memberId);
            KvGuard alive = new KvGuard(memberKey, m.revision());
            List<List<PartitionOwner>> chunks = chunks(ownedBy(snap, memberId), kv.maxTxnOps() - 1);
            CompletableFuture<Boolean> chain = CompletableFuture.completedFuture(true);
            for (int i = 0; i < chunks.size(); i++) {
                List<KvGuard> guards = new ArrayList<>(List.of(alive));
                List<KvOp> ops = new ArrayList<>();
                for (PartitionOwner o : chunks.get(i)) {
                    String key = keys.groupOwner(group, o.partition().topic(), o.partition().partition());
                    guards.add(new KvGuard(key, o.revision()));
                    ops.add(new KvOp.Delete(key));
                }
                if (i == chunks.size() - 1 && ops.size() < kv.maxTxnOps()) {
                    ops.add(new KvOp.Delete(memberKey));
                }
                chain = chain.thenCompose(ok -> !ok ? CompletableFuture.completedFuture(false)
                        : kv.txn(guards, ops).thenApply(TxnResult::succeeded));
            }
            boolean memberInLast = !chunks.isEmpty() && chunks.get(chunks.size() - 1).size() < kv.maxTxnOps();
            if (!memberInLast) {
                chain = chain.thenCompose(ok -> !ok ? CompletableFuture.completedFuture(false)
                        : kv.txn(List.of(alive), List.of(new KvOp.Delete(memberKey))).thenApply(TxnResult::succeeded));
            }
            return chain.thenCompose(done -> done || tries <= 1 ? CompletableFuture.completedFuture(done)
                    : remove(group, memberId, expectedRevision, tries - 1)); // changed meanwhile: decide again
        });
    }

    @Override
    public CompletableFuture<Integer> dropOrphans(GroupSnapshot snap) {
        List<CompletableFuture<Boolean>> drops = new ArrayList<>();
        for (PartitionOwner o : snap.owners().values()) {
            if (!snap.members().containsKey(o.memberId())) {
                String key = keys.groupOwner(snap.group(), o.partition().topic(), o.partition().partition());
                drops.add(kv.txn(List.of(new KvGuard(key, o.revision()),
                                KvGuard.absent(keys.groupMember(snap.group(), o.memberId()))),
                        List.of(new KvOp.Delete(key))).thenApply(TxnResult::succeeded));
            }
        }
        return CompletableFuture.allOf(drops.toArray(CompletableFuture[]::new))
                .thenApply(x -> (int) drops.stream().filter(CompletableFuture::join).count());
    }

    @Override
    public CompletableFuture<Optional<GroupMember>> member(String group, String memberId) {
        if (!GroupNames.validGroup(group) || !GroupNames.validMember(memberId)) {
            return CompletableFuture.completedFuture(Optional.empty());
        }
        return kv.get(keys.groupMember(group, memberId))
                .thenApply(v -> v.map(kv -> GroupCodec.decodeMember(kv.key(), kv.value()).at(kv.modRevision())));
    }

    @Override
    public CompletableFuture<GroupSnapshot> read(String group) {
        GroupNames.requireGroup(group);
        return kv.get(keys.group(group)).thenCompose(registration -> kv.range(keys.groupCoordinationPrefix(group))
                .thenApply(range -> snapshot(group, registration.orElse(null), range.entries(), range.revision())));
    }

    @Override
    public CompletableFuture<Map<String, GroupSnapshot>> readAll() {
        String prefix = keys.allGroupsCoordinationPrefix();
        return kv.range(keys.groupsPrefix()).thenCompose(registrations -> kv.range(prefix).thenApply(range -> {
            Map<String, List<KeyValue>> byGroup = new TreeMap<>();
            for (KeyValue v : range.entries()) {
                int slash = v.key().indexOf('/', prefix.length());
                if (slash > prefix.length()) {
                    byGroup.computeIfAbsent(v.key().substring(prefix.length(), slash), g -> new ArrayList<>()).add(v);
                }
            }
            Map<String, GroupSnapshot> out = new TreeMap<>();
            for (KeyValue r : registrations.entries()) {
                String group = r.key().substring(keys.groupsPrefix().length());
                if (GroupNames.validGroup(group)) {
                    out.put(group, snapshot(group, r, byGroup.getOrDefault(group, List.of()), range.revision()));
                }
            }
            return out;
        }));
    }

    private GroupSnapshot snapshot(String group, KeyValue registration, List<KeyValue> entries, long revision) {
        Map<String, GroupMember> members = new TreeMap<>();
        Map<TopicPartition, PartitionOwner> owners = new HashMap<>();
        TargetAssignment target = TargetAssignment.EMPTY;
        long targetRevision = 0;
        String membersPrefix = keys.groupMembersPrefix(group);
        String ownersPrefix = keys.groupOwnersPrefix(group);
        for (KeyValue v : entries) {
            if (v.key().startsWith(membersPrefix)) {
                GroupMember m = GroupCodec.decodeMember(v.key(), v.value()).at(v.modRevision());
                members.put(m.memberId(), m);
            } else if (v.key().startsWith(ownersPrefix)) {
                TopicPartition p = KeyLayout.parseTopicPartition(v.key(), ownersPrefix);
                if (p != null) {
                    owners.put(p, new PartitionOwner(p, GroupCodec.decodeOwner(v.key(), v.value()), v.createRevision(),
                            v.modRevision()));
                }
            } else if (v.key().equals(keys.groupTarget(group))) {
                target = GroupCodec.decodeTarget(v.key(), v.value());
                targetRevision = v.modRevision();
            }
        }
        return new GroupSnapshot(group, registration != null, members, owners, target, targetRevision,
                registration == null ? 0L : registration.modRevision(), revision);
    }

    @Override
    public AutoCloseable watchAll(long afterRevision, GroupListener listener) {
        String prefix = keys.allGroupsCoordinationPrefix();
        return kv.watch(prefix, afterRevision, new KvWatchListener() {
            @Override
            public void onEvents(List<KvEvent> events) {
                Map<String, Long> last = new java.util.LinkedHashMap<>(); // one call per group and batch
                for (KvEvent e : events) {
                    int slash = e.key().indexOf('/', prefix.length());
                    if (slash > prefix.length()) {
                        String group = e.key().substring(prefix.length(), slash);
                        last.put(group, e.revision());
                        String members = keys.groupMembersPrefix(group);
                        if (e.key().startsWith(members)) {
                            listener.onMember(group, e.key().substring(members.length()),
                                    e.type() == KvEvent.Type.PUT ? GroupCodec.decodeMember(e.key(), e.value()).leaseId() : 0,
                                    e.revision());
                        }
                    }
                }
                last.forEach(listener::onChange);
            }

            @Override
            public void onBroken(Throwable cause) {
                listener.onBroken(cause);
            }
        });
    }

    @Override
    public CompletableFuture<Boolean> publishTarget(String group, TargetAssignment target, long expectedModRevision) {
        return kv.txn(List.of(new KvGuard(keys.groupTarget(group), expectedModRevision)),
                        List.of(new KvOp.Put(keys.groupTarget(group), GroupCodec.encode(target, clock.millis()))))
                .thenApply(TxnResult::succeeded);
    }

    @Override
    public CompletableFuture<Map<TopicPartition, Long>> acquire(String group, GroupMember member,
                                                          Collection<TopicPartition> partitions) {
        String memberKey = keys.groupMember(group, member.memberId());
        return kv.get(memberKey).thenCompose(found -> {
            if (found.isEmpty() || partitions.isEmpty()) {
                return CompletableFuture.completedFuture(Map.<TopicPartition, Long>of());
            }
            KvGuard alive = new KvGuard(memberKey, found.get().modRevision());
            // The lease of the member as read now: an adoption since the caller's snapshot moved it.
            GroupMember current = GroupCodec.decodeMember(memberKey, found.get().value());
            Map<TopicPartition, Long> taken = new java.util.concurrent.ConcurrentHashMap<>();
            CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
            for (List<TopicPartition> chunk : chunks(new ArrayList<>(new TreeSet<>(partitions)), kv.maxTxnOps() - 1)) {
                // All at once in the usual case; one at a time when some were taken meanwhile.
                chain = chain.thenCompose(x -> take(group, current, alive, chunk).thenCompose(revision -> {
                    if (revision > 0) {
                        chunk.forEach(p -> taken.put(p, revision));
                        return CompletableFuture.completedFuture(null);
                    }
                    CompletableFuture<Void> single = CompletableFuture.completedFuture(null);
                    for (TopicPartition p : chunk) {
                        single = single.thenCompose(y -> take(group, current, alive, List.of(p))
                                .thenAccept(one -> {
                                    if (one > 0) {
                                        taken.put(p, one);
                                    }
                                }));
                    }
                    return single;
                }));
            }
            return chain.thenApply(x -> Map.copyOf(taken));
        });
    }

    /** The revision the owner keys were created at, or 0 when one of them was taken (or the session gone). */
    private CompletableFuture<Long> take(String group, GroupMember member, KvGuard alive, List<TopicPartition> ps) {
        List<KvGuard> guards = new ArrayList<>();
        guards.add(alive);
        List<KvOp> ops = new ArrayList<>();
        byte[] value = GroupCodec.encodeOwner(member.memberId(), clock.millis());
        for (TopicPartition p : ps) {
            String key = keys.groupOwner(group, p.topic(), p.partition());
            guards.add(KvGuard.absent(key));
            ops.add(new KvOp.Put(key, value, member.leaseId()));
        }
        return kv.txn(guards, ops).thenApply(r -> r.succeeded() ? r.revision() : 0L);
    }

    @Override
    public CompletableFuture<CommitOutcome> commit(String group, String memberId, List<OffsetCommit> offsets,
                                                   Set<TopicPartition> release) {
        return commit(group, memberId, offsets, release, COMMIT_TRIES);
    }

    /**
     * A guard that fails after the ownership check passed means an owner key changed in between: released or
     * taken (the next check refuses), or only moved to another node's lease by an adoption (the next check
     * passes, as the member and the epoch are the same). Decided again, a few times.
     */
    private CompletableFuture<CommitOutcome> commit(String group, String memberId, List<OffsetCommit> offsets,
                                                    Set<TopicPartition> release, int tries) {
        Set<TopicPartition> touched = new LinkedHashSet<>();
        offsets.forEach(c -> touched.add(c.partition()));
        touched.addAll(release);
        if (!GroupNames.validGroup(group) || !GroupNames.validMember(memberId)) {
            return CompletableFuture.completedFuture(new CommitOutcome.UnknownMember());
        }
        // The member's key is read with the owner keys: one round trip for both.
        String memberKey = keys.groupMember(group, memberId);
        return read(group, touched, memberKey).thenCompose(found -> {
            if (!found.containsKey(memberKey)) {
                return CompletableFuture.completedFuture(new CommitOutcome.UnknownMember());
            }
            Map<TopicPartition, Long> epochs = new HashMap<>();
            offsets.forEach(c -> epochs.put(c.partition(), c.epoch()));
            Map<TopicPartition, KeyValue> owners = new HashMap<>();
            Set<TopicPartition> notOwned = new TreeSet<>();
            for (TopicPartition p : touched) {
                KeyValue owner = found.get(keys.groupOwner(group, p.topic(), p.partition()));
                long epoch = epochs.getOrDefault(p, 0L);
                if (owner == null || !memberId.equals(GroupCodec.decodeOwner(owner.key(), owner.value()))
                        || (epoch != 0 && epoch != owner.createRevision())) {
                    notOwned.add(p);
                } else {
                    owners.put(p, owner);
                }
            }
            if (!notOwned.isEmpty()) {
                return CompletableFuture.completedFuture(new CommitOutcome.NotOwner(notOwned));
            }
            return write(group, memberId, offsets, release, owners).thenCompose(outcome ->
                    outcome instanceof CommitOutcome.NotOwner && tries > 1
                            ? commit(group, memberId, offsets, release, tries - 1)
                            : CompletableFuture.completedFuture(outcome));
        });
    }

    /** The owner keys of these partitions and {@code extra} that exist, by key, in as few reads as the limits allow. */
    private CompletableFuture<Map<String, KeyValue>> read(String group, Collection<TopicPartition> ps, String extra) {
        List<String> wanted = new ArrayList<>();
        wanted.add(extra);
        ps.forEach(p -> wanted.add(keys.groupOwner(group, p.topic(), p.partition())));
        Map<String, KeyValue> found = new java.util.concurrent.ConcurrentHashMap<>();
        List<CompletableFuture<Void>> reads = new ArrayList<>();
        for (List<String> chunk : chunks(wanted, kv.maxTxnOps())) {
            reads.add(kv.getAll(chunk).thenAccept(r -> r.entries().forEach(v -> found.put(v.key(), v))));
        }
        return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).thenApply(x -> found);
    }

    private CompletableFuture<CommitOutcome> write(String group, String memberId, List<OffsetCommit> offsets,
                                                   Set<TopicPartition> release, Map<TopicPartition, KeyValue> owners) {
        Map<TopicPartition, OffsetCommit> byPartition = new TreeMap<>();
        offsets.forEach(c -> byPartition.put(c.partition(), c));
        List<TopicPartition> order = new ArrayList<>(new TreeSet<>(owners.keySet()));
        long now = clock.millis();
        CompletableFuture<Set<TopicPartition>> chain = CompletableFuture.completedFuture(new TreeSet<>());
        for (List<TopicPartition> chunk : chunks(order, kv.maxTxnOps() / 2)) {
            chain = chain.thenCompose(lost -> {
                if (!lost.isEmpty()) {
                    return CompletableFuture.completedFuture(lost);
                }
                List<KvGuard> guards = new ArrayList<>();
                List<KvOp> ops = new ArrayList<>();
                for (TopicPartition p : chunk) {
                    KeyValue owner = owners.get(p);
                    guards.add(new KvGuard(owner.key(), owner.modRevision()));
                    OffsetCommit c = byPartition.get(p);
                    if (c != null) {
                        ops.add(new KvOp.Put(keys.groupOffset(group, p.topic(), p.partition()),
                                GroupCodec.encode(c, now, memberId)));
                    }
                }
                for (TopicPartition p : chunk) {
                    if (release.contains(p)) {
                        ops.add(new KvOp.Delete(owners.get(p).key()));
                    }
                }
                return kv.txn(guards, ops).thenApply(r -> r.succeeded() ? lost : new TreeSet<>(chunk));
            });
        }
        return chain.thenApply(lost -> lost.isEmpty() ? new CommitOutcome.Committed()
                : new CommitOutcome.NotOwner(Set.copyOf(lost)));
    }

    @Override
    public CompletableFuture<Map<TopicPartition, CommittedOffset>> committed(String group) {
        String prefix = keys.groupOffsetsPrefix(group);
        return kv.range(prefix).thenApply(range -> {
            Map<TopicPartition, CommittedOffset> out = new TreeMap<>();
            for (KeyValue v : range.entries()) {
                TopicPartition p = KeyLayout.parseTopicPartition(v.key(), prefix);
                if (p != null) {
                    out.put(p, GroupCodec.decodeOffset(v.key(), p, v.value()));
                }
            }
            return out;
        });
    }

    @Override
    public CompletableFuture<Map<String, Map<TopicPartition, CommittedOffset>>> committedAll() {
        String prefix = keys.allGroupOffsetsPrefix();
        return kv.range(prefix).thenApply(range -> {
            Map<String, Map<TopicPartition, CommittedOffset>> out = new TreeMap<>();
            for (KeyValue v : range.entries()) {
                int slash = v.key().indexOf('/', prefix.length());
                if (slash <= prefix.length()) {
                    continue;
                }
                String group = v.key().substring(prefix.length(), slash);
                TopicPartition p = KeyLayout.parseTopicPartition(v.key(), keys.groupOffsetsPrefix(group));
                if (p != null) {
                    out.computeIfAbsent(group, g -> new TreeMap<>()).put(p, GroupCodec.decodeOffset(v.key(), p, v.value()));
                }
            }
            return out;
        });
    }

    @Override
    public CompletableFuture<Void> resetOffsets(String group, Collection<OffsetCommit> offsets, boolean force) {
        return resetOffsets(group, List.copyOf(offsets), force, 5);
    }

    private CompletableFuture<Void> resetOffsets(String group, List<OffsetCommit> offsets, boolean force, int tries) {
        return guardedByQuietGroup(group, force).thenCompose(registration -> {
            long now = clock.millis();
            List<KvOp> ops = offsets.stream().<KvOp>map(c -> new KvOp.Put(
                    keys.groupOffset(group, c.partition().topic(), c.partition().partition()),
                    GroupCodec.encode(c, now, ""))).toList();
            return applyGuarded(registration, ops).thenCompose(ok -> {
                if (ok || tries <= 1) {
                    return ok ? CompletableFuture.completedFuture(null) : CompletableFuture.failedFuture(
                            new io.strata.metadata.MetadataException("group '" + group
                                    + "' kept changing during the reset; try again", true));
                }
                return resetOffsets(group, offsets, force, tries - 1); // a member joined meanwhile: decide again
            });
        });
    }

    @Override
    public CompletableFuture<Set<TopicPartition>> deleteOffsets(String group, Collection<TopicPartition> partitions) {
        return deleteOffsets(group, List.copyOf(partitions), TRIES);
    }

    private CompletableFuture<Set<TopicPartition>> deleteOffsets(String group, List<TopicPartition> partitions,
                                                                 int tries) {
        GroupNames.requireGroup(group);
        return kv.get(keys.group(group)).thenCompose(registration -> {
            if (registration.isEmpty()) {
                return CompletableFuture.failedFuture(new UnknownGroupException(group));
            }
            return read(group).thenCompose(snap -> {
                if (snap.members().values().stream().anyMatch(m -> m.topics().isEmpty())) {
                    // A live member whose subscription is not known (not a consumer: Kafka Connect, say): what
                    // it reads cannot be told apart, so nothing is deleted while it lives (Kafka: NON_EMPTY_GROUP).
                    return CompletableFuture.failedFuture(new GroupActiveException(group, snap.members().size()));
                }
                Set<String> subscribed = new java.util.HashSet<>();
                snap.members().values().forEach(m -> subscribed.addAll(m.topics()));
                Set<TopicPartition> kept = new java.util.TreeSet<>();
                List<KvOp> ops = new ArrayList<>();
                for (TopicPartition p : partitions) {
                    if (subscribed.contains(p.topic())) {
                        kept.add(p);
                    } else {
                        ops.add(new KvOp.Delete(keys.groupOffset(group, p.topic(), p.partition())));
                    }
                }
                // Guarded by the registration, which every join rewrites: a member that joined after the read
                // (and may subscribe to these topics) makes this decide again.
                return applyGuarded(new KvGuard(keys.group(group), registration.get().modRevision()), ops)
                        .thenCompose(ok -> ok ? CompletableFuture.completedFuture(kept) : tries > 1
                                ? deleteOffsets(group, partitions, tries - 1)
                                : CompletableFuture.failedFuture(new io.strata.metadata.MetadataException(
                                        "group '" + group + "' kept changing; try again", true)));
            });
        });
    }

    @Override
    public CompletableFuture<Void> commitWithoutMembers(String group, Collection<OffsetCommit> offsets) {
        GroupNames.requireGroup(group);
        return kv.get(keys.group(group)).thenCompose(registration -> {
            if (registration.isPresent()) {
                return resetOffsets(group, offsets, false);
            }
            long now = clock.millis();
            // Created only if still absent: a join meanwhile wrote it, and the reset below then sees its member.
            return kv.txn(List.of(new KvGuard(keys.group(group), 0)),
                            List.of(new KvOp.Put(keys.group(group), GroupCodec.encodeGroup(now, now))))
                    .thenCompose(r -> resetOffsets(group, offsets, false));
        });
    }

    /**
     * The group's registration, once it is known to have no live members (or {@code force}); fails with
     * {@link UnknownGroupException} or {@link GroupActiveException}. A join rewrites the registration, so a
     * change guarded by it fails when a member joined after this read.
     */
    private CompletableFuture<KvGuard> guardedByQuietGroup(String group, boolean force) {
        GroupNames.requireGroup(group);
        return kv.get(keys.group(group)).thenCompose(registration -> {
            if (registration.isEmpty()) {
                return CompletableFuture.failedFuture(new UnknownGroupException(group));
            }
            return kv.range(keys.groupMembersPrefix(group)).thenCompose(members -> {
                if (!members.entries().isEmpty() && !force) {
                    return CompletableFuture.failedFuture(new GroupActiveException(group, members.entries().size()));
                }
                return CompletableFuture.completedFuture(
                        new KvGuard(keys.group(group), registration.get().modRevision()));
            });
        });
    }

    /** Applies {@code ops} in as many transactions as the limits need, each guarded; false if a guard failed. */
    private CompletableFuture<Boolean> applyGuarded(KvGuard guard, List<KvOp> ops) {
        CompletableFuture<Boolean> chain = CompletableFuture.completedFuture(true);
        for (List<KvOp> chunk : chunks(ops, kv.maxTxnOps())) {
            chain = chain.thenCompose(ok -> !ok ? CompletableFuture.completedFuture(false)
                    : kv.txn(List.of(guard), chunk).thenApply(TxnResult::succeeded));
        }
        return chain;
    }

    @Override
    public CompletableFuture<Boolean> delete(String group, boolean force) {
        GroupNames.requireGroup(group);
        return kv.get(keys.group(group)).thenCompose(registration -> {
            if (registration.isEmpty()) {
                return CompletableFuture.completedFuture(false);
            }
            CompletableFuture<Void> ended = CompletableFuture.completedFuture(null);
            if (force) {
                ended = read(group).thenCompose(snap -> CompletableFuture.allOf(snap.members().keySet().stream()
                        .map(id -> leave(group, id)).toArray(CompletableFuture[]::new)));
            }
            return ended.thenCompose(x -> guardedByQuietGroup(group, false)).thenCompose(guard ->
                    kv.range(keys.groupOffsetsPrefix(group)).thenCompose(offsets -> {
                        List<KvOp> ops = new ArrayList<>();
                        offsets.entries().forEach(v -> ops.add(new KvOp.Delete(v.key())));
                        ops.add(new KvOp.Delete(keys.groupTarget(group)));
                        ops.add(new KvOp.Delete(keys.group(group))); // last: a half-deleted group is still listed
                        return applyGuarded(guard, ops);
                    })).thenCompose(ok -> ok ? CompletableFuture.completedFuture(true)
                    : CompletableFuture.failedFuture(new GroupActiveException(group, 1)));
        });
    }

    private static <T> List<List<T>> chunks(List<T> items, int size) {
        List<List<T>> out = new ArrayList<>();
        for (int i = 0; i < items.size(); i += size) {
            out.add(items.subList(i, Math.min(items.size(), i + size)));
        }
        return out;
    }
}
