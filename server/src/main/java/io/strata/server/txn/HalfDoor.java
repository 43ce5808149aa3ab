package io.strata.server.txn;

import io.grpc.Status;
import io.strata.api.v1.EndHalfRequest;
import io.strata.api.v1.HalfDescription;
import io.strata.api.v1.HalfStatus;
import io.strata.api.v1.ListHalfRequest;
import io.strata.api.v1.ListHalfResponse;
import io.strata.format.HalfMessages;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.PartitionId;
import io.strata.metadata.PartitionOffsets;
import io.strata.metadata.Topic;
import io.strata.metadata.half.HalfStore;
import io.strata.metadata.security.AclOperation;
import io.strata.security.Need;
import io.strata.transactions.half.HalfDecisions;
import io.strata.transactions.half.HalfScan;
import io.strata.transactions.half.HalfState;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;

/**
 * The door of half messages on every node (docs/transactions.md, "Half messages with check-back"): a producer's (or
 * an operator's) commit or rollback by id, written with one compare-and-set from pending, so each half message is
 * decided once; and the listing. The node that owns the partition carries the decision out ({@code HalfWorker}).
 * Thread-safe.
 */
public final class HalfDoor {
    private static final int ATTEMPTS = 5;

    private final MetadataStore metadata;
    private final HalfStore store;

    public HalfDoor(MetadataStore metadata) {
        this.metadata = metadata;
        this.store = metadata.halves();
    }

    /**
     * Commits or rolls back; {@code may} says what the caller may do (produce on the message's topic is needed).
     * A caller who may not is told so in words that do not name the topic, and a half message whose topic is gone
     * gets the same answer unless the caller may describe the cluster: ids count up, so telling the two apart (or
     * naming the topic) would let anyone list every topic's name by trying ids.
     */
    public CompletableFuture<HalfDescription> end(EndHalfRequest request, Predicate<Need> may, String by) {
        HalfMessages.Id id;
        try {
            id = HalfMessages.Id.parse(request.getId());
        } catch (IllegalArgumentException e) {
            return CompletableFuture.failedFuture(Status.INVALID_ARGUMENT.withDescription(e.getMessage())
                    .asRuntimeException());
        }
        return topicOf(id.topicId()).thenCompose(found -> {
            if (found.isEmpty() ? !may.test(Need.cluster(AclOperation.DESCRIBE))
                    : !may.test(Need.topic(AclOperation.PRODUCE, found.get().name()))) {
                throw Status.PERMISSION_DENIED.withDescription("the caller may not decide half message " + id
                        + " (produce on its topic is needed)").asRuntimeException();
            }
            Topic topic = found.orElseThrow(() -> Status.NOT_FOUND.withDescription("no half message " + id
                    + ": its topic is gone").asRuntimeException());
            if (id.partition() >= topic.partitions()) {
                throw Status.NOT_FOUND.withDescription("no half message " + id + ": topic '" + topic.name()
                        + "' has " + topic.partitions() + " partitions").asRuntimeException();
            }
            return attempt(topic, id, request.getCommit(), by, 0);
        });
    }

    private CompletableFuture<HalfDescription> attempt(Topic topic, HalfMessages.Id id, boolean commit, String by,
                                                       int attempt) {
        PartitionId p = topic.partition(id.partition());
        // The scan first, the state after it: a scan step gives states in the same write as it moves, so a scan
        // read past the offset means the state (if the message is not settled long ago) is there to read.
        CompletableFuture<Optional<HalfStore.Stored>> scan = store.scan(p);
        CompletableFuture<Optional<HalfStore.Stored>> message = scan.thenCompose(s -> store.message(p, id.offset()));
        CompletableFuture<PartitionOffsets> log = metadata.offsets(p.half());
        return CompletableFuture.allOf(scan, message, log).thenCompose(v -> {
            if (id.offset() >= log.join().nextOffset()) {
                throw Status.NOT_FOUND.withDescription("no half message " + id + " in topic '" + topic.name() + "'")
                        .asRuntimeException();
            }
            Optional<HalfStore.Stored> s = scan.join();
            long scanned = s.map(x -> HalfScan.decode(x.value()).scanned()).orElse(0L);
            Optional<HalfStore.Stored> m = message.join();
            HalfState current = m.map(x -> HalfState.decode(x.value())).orElse(null);
            HalfDecisions.Outcome outcome = HalfDecisions.decide(current, id.offset() < scanned, commit, by);
            if (outcome.refused()) {
                throw Status.FAILED_PRECONDITION.withDescription("half message " + id + " is " + outcome.refusal())
                        .asRuntimeException();
            }
            if (outcome.write() == null) {
                return CompletableFuture.completedFuture(describe(topic.name(), id, current));
            }
            // A state written ahead of the scan is guarded by the scan still being where it was read: behind it.
            long scanGuard = current == null ? s.map(HalfStore.Stored::revision).orElse(0L) : -1;
            long messageGuard = m.map(HalfStore.Stored::revision).orElse(0L);
            return store.apply(p, scanGuard, null, List.of(new HalfStore.Change(id.offset(), outcome.write().encode(),
                    messageGuard))).thenCompose(applied -> {
                        if (applied.isPresent()) {
                            return CompletableFuture.completedFuture(describe(topic.name(), id, outcome.write()));
                        }
                        if (attempt + 1 >= ATTEMPTS) {
                            throw Status.ABORTED.withDescription("half message " + id + " kept changing; try again")
                                    .asRuntimeException();
                        }
                        return attempt(topic, id, commit, by, attempt + 1);
                    });
        });
    }

    /** The half messages not yet settled, and those settled lately; of one topic when {@code request} names one. */
    public CompletableFuture<ListHalfResponse> list(ListHalfRequest request) {
        return metadata.listTopics().thenCombine(store.messages(), (topics, messages) -> {
            Map<Long, Topic> byId = new HashMap<>();
            topics.forEach(t -> byId.put(t.topicId(), t));
            ListHalfResponse.Builder answer = ListHalfResponse.newBuilder();
            for (HalfStore.Message m : messages) {
                Topic t = byId.get(m.partition().topicId());
                if (t == null || (!request.getTopic().isEmpty() && !request.getTopic().equals(t.name()))) {
                    continue;
                }
                answer.addMessages(describe(t.name(), new HalfMessages.Id(t.topicId(), m.partition().partition(),
                        m.offset()), HalfState.decode(m.stored().value())));
            }
            return answer.build();
        });
    }

    private CompletableFuture<Optional<Topic>> topicOf(long topicId) {
        return metadata.listTopics().thenApply(all -> all.stream().filter(t -> t.topicId() == topicId).findFirst());
    }

    static HalfDescription describe(String topic, HalfMessages.Id id, HalfState state) {
        HalfStatus status = switch (state.status()) {
            case PENDING -> HalfStatus.HALF_STATUS_PENDING;
            case COMMIT -> HalfStatus.HALF_STATUS_COMMITTED;
            case ROLLBACK -> HalfStatus.HALF_STATUS_ROLLED_BACK;
            case DELIVERED -> HalfStatus.HALF_STATUS_DELIVERED;
            case DROPPED -> HalfStatus.HALF_STATUS_DROPPED;
        };
        return HalfDescription.newBuilder().setId(id.toString()).setTopic(topic).setPartition(id.partition())
                .setStatus(status).setProducerGroup(state.group()).setChecks(state.checks())
                .setNextCheckMs(state.status() == HalfState.Status.PENDING ? state.nextCheckMs() : 0)
                .setDecidedBy(state.decidedBy()).setSentMs(state.sentAtMs()).build();
    }
}
