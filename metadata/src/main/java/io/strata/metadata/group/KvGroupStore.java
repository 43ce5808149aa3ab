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
    /** A commit's partition takes one guard and up to two ops (its offset, its release). */
    private final KvStore kv;
    private final KeyLayout keys;
    private final Clock clock;

    public KvGroupStore(KvStore kv, KeyLayout keys, Clock clock) {
        this.kv = kv;
        this.keys = keys;
        this.clock = clock;
    }

    @Override
    public CompletableFuture<GroupMember> join(String group, MemberSpec spec) {
        GroupNames.requireGroup(group);
        String memberId = memberId(spec.clientId());
        return kv.grantSessionLease(spec.sessionTimeout()).thenCompose(lease -> kv.get(keys.group(group))
                .thenCompose(existing -> {
                    long now = clock.millis();
                    long created = existing.map(v -> GroupCodec.decodeGroupCreatedAt(v.key(), v.value())).orElse(now);
                    GroupMember member = new GroupMember(memberId, spec.clientId(), spec.clientAddress(), spec.topics(),
                            lease, spec.sessionTimeout().toMillis(), spec.offsetReset(), now);
                    return kv.txn(List.of(), List.of(
                                    new KvOp.Put(keys.group(group), GroupCodec.encodeGroup(created, now)),
                                    new KvOp.Put(keys.groupMember(group, memberId), GroupCodec.encode(member), lease)))
                            .thenApply(r -> member);
                })
                .whenComplete((m, e) -> {
                    if (e != null) {
                        kv.revokeLease(lease); // nothing joined: do not leave a lease to expire on its own
                    }
                }));
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
    public CompletableFuture<Boolean> heartbeat(String group, String memberId) {
        return member(group, memberId).thenCompose(m -> m.isEmpty() ? CompletableFuture.completedFuture(false)
                : kv.renewLease(m.get().leaseId()));
    }

    @Override
    public CompletableFuture<Boolean> leave(String group, String memberId) {
        return member(group, memberId).thenCompose(m -> m.isEmpty() ? CompletableFuture.completedFuture(false)
                : kv.revokeLease(m.get().leaseId()).thenApply(x -> true));
    }

    @Override
    public CompletableFuture<Boolean> renew(GroupMember member) {
        return kv.renewLease(member.leaseId());
    }

    @Override
    public CompletableFuture<Optional<GroupMember>> member(String group, String memberId) {
        if (!GroupNames.validGroup(group) || !GroupNames.validMember(memberId)) {
            return CompletableFuture.completedFuture(Optional.empty());
        }
        return kv.get(keys.groupMember(group, memberId))
                .thenApply(v -> v.map(kv -> GroupCodec.decodeMember(kv.key(), kv.value())));
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
                GroupMember m = GroupCodec.decodeMember(v.key(), v.value());
                members.put(m.memberId(), m);
            } else if (v.key().startsWith(ownersPrefix)) {
                TopicPartition p = KeyLayout.parseTopicPartition(v.key(), ownersPrefix);
                if (p != null) {
                    owners.put(p, new PartitionOwner(p, GroupCodec.decodeOwner(v.key(), v.value()), v.modRevision()));
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
    public AutoCloseable watch(String group, long afterRevision, GroupListener listener) {
        GroupNames.requireGroup(group);
        return kv.watch(keys.groupCoordinationPrefix(group), afterRevision, new KvWatchListener() {
            @Override
            public void onEvents(List<KvEvent> events) {
                listener.onChange(events.get(events.size() - 1).revision());
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
            Map<TopicPartition, Long> taken = new java.util.concurrent.ConcurrentHashMap<>();
            CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
            for (List<TopicPartition> chunk : chunks(new ArrayList<>(new TreeSet<>(partitions)), kv.maxTxnOps() - 1)) {
                // All at once in the usual case; one at a time when some were taken meanwhile.
                chain = chain.thenCompose(x -> take(group, member, alive, chunk).thenCompose(revision -> {
                    if (revision > 0) {
                        chunk.forEach(p -> taken.put(p, revision));
                        return CompletableFuture.completedFuture(null);
                    }
                    CompletableFuture<Void> single = CompletableFuture.completedFuture(null);
                    for (TopicPartition p : chunk) {
                        single = single.thenCompose(y -> take(group, member, alive, List.of(p))
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
            Map<TopicPartition, KeyValue> owners = new HashMap<>();
            Set<TopicPartition> notOwned = new TreeSet<>();
            for (TopicPartition p : touched) {
                KeyValue owner = found.get(keys.groupOwner(group, p.topic(), p.partition()));
                if (owner == null || !memberId.equals(GroupCodec.decodeOwner(owner.key(), owner.value()))) {
                    notOwned.add(p);
                } else {
                    owners.put(p, owner);
                }
            }
            if (!notOwned.isEmpty()) {
                return CompletableFuture.completedFuture(new CommitOutcome.NotOwner(notOwned));
            }
            return write(group, memberId, offsets, release, owners);
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
    public CompletableFuture<List<String>> listGroups() {
        String prefix = keys.groupsPrefix();
        return kv.range(prefix).thenApply(range -> range.entries().stream()
                .map(v -> v.key().substring(prefix.length())).filter(GroupNames::validGroup).toList());
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
                ended = kv.range(keys.groupMembersPrefix(group)).thenCompose(members -> CompletableFuture.allOf(
                        members.entries().stream().map(v -> kv.revokeLease(v.lease())).toArray(CompletableFuture[]::new)));
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
