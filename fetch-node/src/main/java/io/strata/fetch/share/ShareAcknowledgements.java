package io.strata.fetch.share;

import io.grpc.Status;
import io.strata.api.v1.ShareAck;
import io.strata.api.v1.ShareAckResult;
import io.strata.api.v1.ShareAcknowledgeRequest;
import io.strata.api.v1.ShareAcknowledgeResponse;
import io.strata.fetch.grpc.FetchHandler;
import io.strata.fetch.index.IndexView;
import io.strata.queues.share.SharePartition;
import io.strata.queues.share.SharePolicy;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Members' answers to the records they hold ({@code ShareService.ShareAcknowledge}): one decision per partition,
 * its acks in order, stored before the member hears of it; an offset not held as this node last stored the state
 * is asked of the store before it is answered as not held. Thread-safe.
 */
final class ShareAcknowledgements {
    /** The most offsets one ack may name. */
    static final long MAX_ACK_RANGE = 1_000_000;

    private final FetchHandler fetch;
    private final IndexView index;
    private final SharePartitions partitions;
    private final GroupPolicies policies;
    private final Clock clock;

    ShareAcknowledgements(FetchHandler fetch, IndexView index, SharePartitions partitions, GroupPolicies policies,
                          Clock clock) {
        this.fetch = fetch;
        this.index = index;
        this.partitions = partitions;
        this.policies = policies;
        this.clock = clock;
    }

    CompletableFuture<ShareAcknowledgeResponse> acknowledge(ShareAcknowledgeRequest request) {
        try {
            ShareHandler.check(request.getGroup(), request.getMemberId());
            for (ShareAck ack : request.getAcksList()) {
                if (ack.getLastOffset() < ack.getFirstOffset() || ack.getFirstOffset() < 0
                        || ack.getLastOffset() - ack.getFirstOffset() >= MAX_ACK_RANGE || ack.getDeliveryCount() < 0
                        || ack.getAnswer() == io.strata.api.v1.ShareAnswer.SHARE_ANSWER_UNSPECIFIED
                        || ack.getAnswer() == io.strata.api.v1.ShareAnswer.UNRECOGNIZED) {
                    throw Status.INVALID_ARGUMENT.withDescription("an ack names offsets first <= last (at most "
                            + MAX_ACK_RANGE + " of them), an answer (ACCEPT, RELEASE, REJECT or GIVE_BACK) and"
                            + " a delivery count of 0 or more")
                            .asRuntimeException();
                }
            }
        } catch (RuntimeException bad) {
            return CompletableFuture.failedFuture(bad);
        }
        // One decision per partition, its acks in order; the results in the request's order.
        Map<Integer, List<Integer>> byPartition = new LinkedHashMap<>();
        for (int i = 0; i < request.getAcksCount(); i++) {
            byPartition.computeIfAbsent(request.getAcks(i).getPartition(), p -> new ArrayList<>()).add(i);
        }
        ShareAckResult[] results = new ShareAckResult[request.getAcksCount()];
        List<CompletableFuture<Void>> decided = new ArrayList<>();
        for (Map.Entry<Integer, List<Integer>> e : byPartition.entrySet()) {
            decided.add(policies.of(request.getGroup()).thenCompose(group -> fetch.resolve(request.getTopic(),
                    e.getKey()).thenCompose(pid -> {
                SharePolicy policy = group.policy();
                SharePartitions.Key key = new SharePartitions.Key(request.getGroup(), request.getTopic(), pid.topicId(),
                        pid.partition());
                long now = clock.millis();
                // Each attempt counts afresh (a decision taken again after another node's write must not count
                // twice); the reload's count adds to the first's, as it answers only what the first could not.
                java.util.function.Function<SharePartition, Answered> decide = state -> {
                    long[] applied = new long[request.getAcksCount()];
                    boolean anyNotHeld = false;
                    for (int i : e.getValue()) {
                        ShareAck ack = request.getAcks(i);
                        SharePartition.AnswerOutcome o = state.answer(request.getMemberId(), ack.getFirstOffset(),
                                ack.getLastOffset(), ack.getDeliveryCount(), answer(ack.getAnswer()),
                                ack.getDelayMs(), ack.getNote(), now);
                        applied[i] = o.applied();
                        anyNotHeld |= o.notHeld() > 0;
                    }
                    return new Answered(applied, anyNotHeld);
                };
                // Offsets not held as this node last stored the state may be held as another node stored it (the
                // member acquired them there): ask the store before answering that they were not.
                return index.load(pid).thenCompose(v -> partitions.apply(key, policy,
                        () -> index.partition(pid).logStartOffset(), decide)).thenCompose(first -> !first.anyNotHeld()
                        ? CompletableFuture.completedFuture(first)
                        : partitions.apply(key, policy, () -> index.partition(pid).logStartOffset(), decide, true)
                                .thenApply(again -> first.plus(again)))
                        .thenAccept(answered -> {
                            for (int i : e.getValue()) {
                                ShareAck ack = request.getAcks(i);
                                long named = ack.getLastOffset() - ack.getFirstOffset() + 1;
                                long applied = answered.applied()[i];
                                results[i] = ShareAckResult.newBuilder().setApplied(applied)
                                        .setNotHeld(Math.max(0, named - applied)).build();
                            }
                        });
            })).thenApply(x -> null));
        }
        return CompletableFuture.allOf(decided.toArray(CompletableFuture[]::new))
                .thenApply(v -> ShareAcknowledgeResponse.newBuilder().addAllResults(List.of(results)).build());
    }

    /** What one decision on a partition's acks applied, per ack of the request, and whether any offset was not held. */
    private record Answered(long[] applied, boolean anyNotHeld) {
        Answered plus(Answered again) {
            long[] sum = applied.clone();
            for (int i = 0; i < sum.length; i++) {
                sum[i] += again.applied[i];
            }
            return new Answered(sum, again.anyNotHeld);
        }
    }

    private static SharePartition.Answer answer(io.strata.api.v1.ShareAnswer a) {
        return switch (a) {
            case SHARE_ANSWER_ACCEPT -> SharePartition.Answer.ACCEPT;
            case SHARE_ANSWER_RELEASE -> SharePartition.Answer.RELEASE;
            case SHARE_ANSWER_GIVE_BACK -> SharePartition.Answer.GIVE_BACK;
            default -> SharePartition.Answer.REJECT;
        };
    }
}
