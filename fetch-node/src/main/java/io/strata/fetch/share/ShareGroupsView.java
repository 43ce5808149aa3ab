package io.strata.fetch.share;

import io.grpc.Status;
import io.strata.api.v1.ListShareGroupsResponse;
import io.strata.api.v1.ShareGroupDescription;
import io.strata.api.v1.ShareGroupListing;
import io.strata.api.v1.SharePartitionDescription;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.PartitionId;
import io.strata.metadata.PartitionOffsets;
import io.strata.metadata.Topic;
import io.strata.metadata.share.ShareStateStore;
import io.strata.queues.share.DeliveryState;
import io.strata.queues.share.SharePartition;
import io.strata.queues.share.SharePolicy;
import io.strata.queues.share.ShareStateCodec;
import io.strata.queues.share.StateRun;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Share groups as operators see them ({@code strata share-groups list|describe}): each partition's stored state
 * against the partition's committed end, read from the metadata store on any node; and their removal, by an
 * operator ({@code strata share-groups delete}) or once their topic is gone. Thread-safe.
 */
public final class ShareGroupsView {
    /** Rounds of read, decide, remove before a group whose state keeps moving is given up on. */
    private static final int DELETE_ROUNDS = 5;

    private final MetadataStore metadata;
    private final SharePolicy defaults;
    private final Clock clock;
    private final java.util.function.Consumer<String> deleted;
    private volatile long lastForgetMs;

    public ShareGroupsView(MetadataStore metadata, SharePolicy defaults, Clock clock) {
        this(metadata, defaults, clock, group -> { });
    }

    /** @param deleted told of each group this view deleted (this node's share handler drops what it holds) */
    public ShareGroupsView(MetadataStore metadata, SharePolicy defaults, Clock clock,
                           java.util.function.Consumer<String> deleted) {
        this.metadata = metadata;
        this.defaults = defaults;
        this.clock = clock;
        this.deleted = deleted;
    }

    public CompletableFuture<ListShareGroupsResponse> list() {
        return partitions("").thenApply(all -> {
            Map<String, List<SharePartitionDescription>> byGroup = new TreeMap<>();
            all.forEach(d -> byGroup.computeIfAbsent(d.group(), g -> new ArrayList<>()).add(d.description()));
            ListShareGroupsResponse.Builder b = ListShareGroupsResponse.newBuilder();
            byGroup.forEach((group, ps) -> {
                ShareGroupListing.Builder g = ShareGroupListing.newBuilder().setGroup(group).setPartitions(ps.size())
                        .setLag(ps.stream().mapToLong(SharePartitionDescription::getLag).sum())
                        .setAcquired(ps.stream().mapToLong(SharePartitionDescription::getAcquired).sum());
                Map<String, List<SharePartitionDescription>> byTopic = new TreeMap<>();
                ps.forEach(p -> byTopic.computeIfAbsent(p.getTopic(), t -> new ArrayList<>()).add(p));
                byTopic.forEach((topic, tps) -> g.addTopics(io.strata.api.v1.ShareTopicLag.newBuilder().setTopic(topic)
                        .setPartitions(tps.size()).setLag(tps.stream().mapToLong(SharePartitionDescription::getLag).sum())
                        .setAcquired(tps.stream().mapToLong(SharePartitionDescription::getAcquired).sum())));
                b.addGroups(g);
            });
            return b.build();
        });
    }

    public CompletableFuture<ShareGroupDescription> describe(String group) {
        try {
            io.strata.metadata.group.GroupSettings.checkName(group);
        } catch (IllegalArgumentException e) {
            return CompletableFuture.failedFuture(Status.INVALID_ARGUMENT.withDescription(e.getMessage())
                    .asRuntimeException());
        }
        return partitions(group).thenApply(all -> {
            if (all.isEmpty()) {
                throw Status.NOT_FOUND.withDescription("share group " + group + " has taken no records")
                        .asRuntimeException();
            }
            return ShareGroupDescription.newBuilder().setGroup(group).addAllPartitions(all.stream()
                    .map(Described::description).toList()).build();
        });
    }

    /**
     * Forgets the group's state of every partition. Without {@code force} refused while its members hold records
     * or archived records are owed their dead-letter copy (of topics that exist): those would be handed out
     * again, or never copied. A state that moves between the read and the removal is read and decided again.
     */
    public CompletableFuture<io.strata.api.v1.DeleteShareGroupResponse> delete(String group, boolean force) {
        try {
            io.strata.metadata.group.GroupSettings.checkName(group);
        } catch (IllegalArgumentException e) {
            return CompletableFuture.failedFuture(Status.INVALID_ARGUMENT.withDescription(e.getMessage())
                    .asRuntimeException());
        }
        // What this node holds of the group is forgotten whatever the outcome: a refusal found late leaves some
        // states gone, and forgetting costs a read.
        return metadata.lastTopicId().thenCompose(last -> metadata.listTopics().thenCompose(topics ->
                metadata.shares().list(group).thenCompose(stored -> {
                    if (stored.isEmpty()) {
                        throw Status.NOT_FOUND.withDescription("share group " + group + " has taken no records")
                                .asRuntimeException();
                    }
                    return removeRound(group, force, last, topics, stored, 0, 0);
                }))).whenComplete((answer, failure) -> deleted.accept(group));
    }

    /**
     * Removes {@code states} as read. Those that moved meanwhile, and only those, are read and decided again: a
     * state created since the listing is a member reading on, which takes the group up again as a new one.
     */
    private CompletableFuture<io.strata.api.v1.DeleteShareGroupResponse> removeRound(
            String group, boolean force, long lastTopicId, List<Topic> topics, List<ShareStateStore.Named> states,
            int round, int removedBefore) {
        if (!force) {
            SharePartition.Outstanding owed = outstanding(lastTopicId, topics, states);
            if (!owed.isEmpty()) {
                throw Status.FAILED_PRECONDITION.withDescription(refusal(group, owed, removedBefore))
                        .asRuntimeException();
            }
        }
        return metadata.shares().delete(states).thenCompose(removed -> {
            int total = removedBefore + removed.size();
            java.util.Set<String> gone = removed.stream().map(ShareGroupsView::partitionOf)
                    .collect(Collectors.toSet());
            List<ShareStateStore.Named> moved = states.stream().filter(n -> !gone.contains(partitionOf(n))).toList();
            if (moved.isEmpty()) {
                return CompletableFuture.completedFuture(deleted(total));
            }
            if (round + 1 >= DELETE_ROUNDS) {
                throw Status.ABORTED.withDescription("share group " + group + " kept changing while it was deleted ("
                        + total + " partition states removed, " + moved.size() + " moved each time they were "
                        + "read): its members are still taking records; stop them and try again")
                        .asRuntimeException();
            }
            List<CompletableFuture<java.util.Optional<ShareStateStore.Named>>> again = moved.stream()
                    .map(n -> metadata.shares().load(n.group(), n.topicId(), n.partition())
                            .thenApply(found -> found.map(st -> new ShareStateStore.Named(n.group(), n.topicId(),
                                    n.partition(), st))))
                    .toList();
            return CompletableFuture.allOf(again.toArray(CompletableFuture[]::new)).thenCompose(x -> {
                List<ShareStateStore.Named> reread = again.stream().map(CompletableFuture::join)
                        .flatMap(java.util.Optional::stream).toList();
                return reread.isEmpty() ? CompletableFuture.completedFuture(deleted(total))
                        : removeRound(group, force, lastTopicId, topics, reread, round + 1, total);
            });
        });
    }

    private static String partitionOf(ShareStateStore.Named n) {
        return n.topicId() + "/" + n.partition();
    }

    /**
     * What members hold and copies owed, over the states of topics that exist: listed, or issued an id after
     * {@code lastTopicId} (read before the listing: created since).
     */
    private SharePartition.Outstanding outstanding(long lastTopicId, List<Topic> topics,
                                                   List<ShareStateStore.Named> stored) {
        java.util.Set<Long> live = topics.stream().map(Topic::topicId).collect(Collectors.toSet());
        long now = clock.millis();
        SharePartition.Outstanding owed = SharePartition.Outstanding.NONE;
        for (ShareStateStore.Named n : stored) {
            if (live.contains(n.topicId()) || n.topicId() > lastTopicId) {
                owed = owed.plus(ShareStateCodec.decode(n.stored().state(), defaults).outstanding(now));
            }
        }
        return owed;
    }

    private String refusal(String group, SharePartition.Outstanding owed, int removedBefore) {
        List<String> why = new ArrayList<>();
        if (owed.held() > 0) {
            why.add("its members hold " + owed.held() + " records (the last lock runs out in "
                    + Math.max(1, (owed.lockEndsMs() - clock.millis() + 999) / 1000) + " s)");
        }
        if (owed.deadLettering() > 0) {
            why.add(owed.deadLettering() + " archived records await their dead-letter copy");
        }
        return "share group " + group + " is in use: " + String.join(" and ", why)
                + (removedBefore > 0 ? " (found while it was deleted: " + removedBefore + " of its partition states "
                + "are removed)" : "") + "; stop its members and try again, or delete it with force";
    }

    private static io.strata.api.v1.DeleteShareGroupResponse deleted(int partitions) {
        return io.strata.api.v1.DeleteShareGroupResponse.newBuilder().setPartitions(partitions).build();
    }

    /**
     * Removes every group's states of topics deleted since (nothing reads them again: a topic created under the
     * same name gets a new id); answers how many. Ids are never reused, so an id at most the last one issued,
     * read before the topics are listed, that is not listed was deleted for good.
     */
    public CompletableFuture<Integer> forgetDeletedTopics() {
        lastForgetMs = clock.millis();
        return metadata.lastTopicId().thenCompose(last -> metadata.listTopics().thenCompose(topics ->
                metadata.shares().list("").thenCompose(stored -> {
                    java.util.Set<Long> live = topics.stream().map(Topic::topicId).collect(Collectors.toSet());
                    List<ShareStateStore.Named> gone = stored.stream()
                            .filter(n -> n.topicId() <= last && !live.contains(n.topicId())).toList();
                    return gone.isEmpty() ? CompletableFuture.completedFuture(0)
                            : metadata.shares().delete(gone).thenApply(List::size);
                })));
    }

    /** {@link #forgetDeletedTopics} when it last ran more than {@code interval} ago (or never); else nothing. */
    public CompletableFuture<Integer> forgetDeletedTopicsEvery(java.time.Duration interval) {
        long last = lastForgetMs;
        return last != 0 && clock.millis() - last < interval.toMillis() ? CompletableFuture.completedFuture(0)
                : forgetDeletedTopics();
    }

    private record Described(String group, SharePartitionDescription description) {
    }

    /** The stored partitions of the group (every group when empty), of topics that still exist, in order. */
    private CompletableFuture<List<Described>> partitions(String group) {
        CompletableFuture<Map<String, io.strata.metadata.group.GroupSettings>> settings = metadata.groupSettings().all();
        return metadata.listTopics().thenCompose(topics -> metadata.shares().list(group).thenCompose(stored -> {
            Map<Long, Topic> byId = topics.stream().collect(Collectors.toMap(Topic::topicId, Function.identity(),
                    (a, b) -> a));
            List<ShareStateStore.Named> live = stored.stream().filter(n -> byId.containsKey(n.topicId())).toList();
            List<PartitionId> ids = live.stream().map(n -> new PartitionId(n.topicId(), n.partition())).toList();
            return metadata.offsets(ids).thenCombine(settings, (offsets, locks) -> {
                List<Described> out = new ArrayList<>();
                long now = clock.millis();
                for (int i = 0; i < live.size(); i++) {
                    ShareStateStore.Named n = live.get(i);
                    var own = locks.get(n.group());
                    long lockMs = own != null && own.lockMs() > 0 ? own.lockMs() : defaults.lockMs();
                    out.add(new Described(n.group(), describe(byId.get(n.topicId()).name(), n, offsets.get(i), lockMs,
                            now)));
                }
                out.sort(Comparator.comparing(Described::group)
                        .thenComparing(d -> d.description().getTopic())
                        .thenComparingInt(d -> d.description().getPartition()));
                return out;
            });
        }));
    }

    private SharePartitionDescription describe(String topic, ShareStateStore.Named n, PartitionOffsets offsets,
                                               long lockMs, long now) {
        SharePartition state = ShareStateCodec.decode(n.stored().state(), defaults);
        long acquired = 0;
        long available = 0;
        long deadLettering = 0;
        long doneInWindow = 0;
        long oldestAcquiredAt = Long.MAX_VALUE;
        // Retention may have moved the log's start past the group's: what lies before it is gone, not owed.
        long start = Math.max(state.start(), offsets.logStartOffset());
        for (StateRun r : state.runs()) {
            long count = r.last() < start ? 0 : r.last() - Math.max(r.first(), start) + 1;
            if (count == 0) {
                continue;
            }
            switch (r.state()) {
                case ACQUIRED -> {
                    acquired += count;
                    // When it was taken: its lock's end less the lock it was given (the group's, as set now).
                    oldestAcquiredAt = Math.min(oldestAcquiredAt, r.untilMs() - lockMs);
                }
                case AVAILABLE -> available += count;
                case DEAD_LETTERING -> deadLettering += count;
                default -> doneInWindow += r.state() == DeliveryState.ACKNOWLEDGED
                        || r.state() == DeliveryState.ARCHIVED ? count : 0;
            }
        }
        long lag = Math.max(0, offsets.nextOffset() - start - doneInWindow);
        return SharePartitionDescription.newBuilder().setTopic(topic).setPartition(n.partition())
                .setStartOffset(start).setWindowEnd(Math.max(state.end(), start)).setLogEnd(offsets.nextOffset())
                .setAcquired(acquired).setAvailable(available).setDeadLettering(deadLettering).setLag(lag)
                .setOldestAcquiredAgeMs(oldestAcquiredAt == Long.MAX_VALUE ? 0 : Math.max(0, now - oldestAcquiredAt))
                .build();
    }
}
