package io.strata.fetch.share;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.strata.api.v1.Header;
import io.strata.api.v1.ShareAck;
import io.strata.api.v1.ShareAckResult;
import io.strata.api.v1.ShareAcknowledgeRequest;
import io.strata.api.v1.ShareAcknowledgeResponse;
import io.strata.api.v1.ShareFetchRequest;
import io.strata.api.v1.ShareFetchResponse;
import io.strata.api.v1.SharedRecord;
import io.strata.fetch.grpc.FetchHandler;
import io.strata.fetch.index.IndexView;
import io.strata.format.RecordHeader;
import io.strata.metadata.PartitionId;
import io.strata.metadata.share.ShareStateStore;
import io.strata.queues.share.SharePartition;
import io.strata.queues.share.SharePolicy;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Share groups on the fetch path (docs/queues.md): hands members records they acquire, and takes their answers.
 * Decisions are {@link SharePartition}'s, stored by {@link SharePartitions} before anyone hears of them; the
 * records themselves are read as any fetch reads them. A share group starts at each partition's log start (a
 * queue's backlog is its work). Thread-safe.
 */
public final class ShareHandler {
    static final int DEFAULT_MAX_RECORDS = 500;
    static final int MAX_RECORDS = 10_000;
    static final long MAX_WAIT_MS = 30_000;
    /** How often a fetch that found nothing looks again while it may wait (in memory: no store is read). */
    private static final long RECHECK_MS = 100;

    private final FetchHandler fetch;
    private final IndexView index;
    private final SharePartitions partitions;
    private final Clock clock;
    private final ScheduledExecutorService timer;
    /** Where each group's next fetch starts among the partitions, so that every partition gets its turn. */
    private final AtomicInteger rotation = new AtomicInteger();

    public ShareHandler(FetchHandler fetch, IndexView index, ShareStateStore store, SharePolicy policy, Clock clock,
                        ScheduledExecutorService timer) {
        this.fetch = fetch;
        this.index = index;
        this.partitions = new SharePartitions(store, policy);
        this.clock = clock;
        this.timer = timer;
    }

    public CompletableFuture<ShareFetchResponse> shareFetch(ShareFetchRequest request) {
        try {
            check(request.getGroup(), request.getMemberId());
            if (request.getMaxRecords() < 0 || request.getMaxRecords() > MAX_RECORDS || request.getMaxWaitMs() < 0) {
                throw Status.INVALID_ARGUMENT.withDescription("max_records is 0 to " + MAX_RECORDS
                        + " and max_wait_ms not negative").asRuntimeException();
            }
        } catch (RuntimeException bad) {
            return CompletableFuture.failedFuture(bad);
        }
        int max = request.getMaxRecords() == 0 ? DEFAULT_MAX_RECORDS : request.getMaxRecords();
        long deadline = clock.millis() + Math.min(request.getMaxWaitMs(), MAX_WAIT_MS);
        return allPartitions(request.getTopic(), request.getPartitionsList())
                .thenCompose(pids -> fetchUntil(request, pids, max, deadline));
    }

    /** The partitions asked for (each checked), or every partition of the topic. */
    private CompletableFuture<List<PartitionId>> allPartitions(String topic, List<Integer> asked) {
        if (!asked.isEmpty()) {
            List<CompletableFuture<PartitionId>> each = asked.stream().distinct().map(p -> fetch.resolve(topic, p)).toList();
            return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new))
                    .thenApply(v -> each.stream().map(CompletableFuture::join).toList());
        }
        return fetch.partitionCount(topic).thenCompose(count -> {
            List<CompletableFuture<PartitionId>> each = new ArrayList<>();
            for (int p = 0; p < count; p++) {
                each.add(fetch.resolve(topic, p));
            }
            return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new))
                    .thenApply(v -> each.stream().map(CompletableFuture::join).toList());
        });
    }

    private CompletableFuture<ShareFetchResponse> fetchUntil(ShareFetchRequest request, List<PartitionId> pids, int max,
                                                             long deadline) {
        int from = Math.floorMod(rotation.getAndIncrement(), pids.size());
        List<PartitionId> order = new ArrayList<>(pids.subList(from, pids.size()));
        order.addAll(pids.subList(0, from));
        return acquireFrom(request, order, 0, max, new ArrayList<>()).thenCompose(records -> {
            long now = clock.millis();
            if (!records.isEmpty() || now >= deadline) {
                return CompletableFuture.completedFuture(ShareFetchResponse.newBuilder().addAllRecords(records)
                        .setLockMs(partitions.policy().lockMs()).build());
            }
            CompletableFuture<ShareFetchResponse> later = new CompletableFuture<>();
            timer.schedule(() -> fetchUntil(request, pids, max, deadline).whenComplete((r, e) -> {
                if (e != null) {
                    later.completeExceptionally(e);
                } else {
                    later.complete(r);
                }
            }), Math.min(RECHECK_MS, deadline - now), TimeUnit.MILLISECONDS);
            return later;
        });
    }

    /** Acquires from the partitions in order until {@code max} records are taken; reads what was acquired. */
    private CompletableFuture<List<SharedRecord>> acquireFrom(ShareFetchRequest request, List<PartitionId> order, int i,
                                                             int left, List<SharedRecord> out) {
        if (i >= order.size() || left <= 0) {
            return CompletableFuture.completedFuture(out);
        }
        PartitionId pid = order.get(i);
        SharePartitions.Key key = new SharePartitions.Key(request.getGroup(), pid.topicId(), pid.partition());
        return index.load(pid).thenCompose(v -> {
            long logStart = index.partition(pid).logStartOffset();
            long logEnd = index.partition(pid).endOffset();
            long now = clock.millis();
            return partitions.apply(key, () -> logStart, state -> {
                state.logStartMoved(logStart);
                return state.acquire(request.getMemberId(), left, logEnd, now);
            });
        }).thenCompose(acquired -> read(request, pid, key, acquired)).thenCompose(records -> {
            out.addAll(records);
            return acquireFrom(request, order, i + 1, left - records.size(), out);
        });
    }

    /**
     * The records of what was acquired. Offsets with no record (key compaction removed it) are accepted at once
     * for the member: there is nothing to deliver.
     */
    private CompletableFuture<List<SharedRecord>> read(ShareFetchRequest request, PartitionId pid,
                                                       SharePartitions.Key key, List<SharePartition.Acquired> acquired) {
        if (acquired.isEmpty()) {
            return CompletableFuture.completedFuture(List.of());
        }
        List<CompletableFuture<List<FetchHandler.OffsetRecord>>> reads = acquired.stream()
                .map(a -> fetch.recordsBetween(pid, a.first(), a.last())).toList();
        return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).thenCompose(v -> {
            List<SharedRecord> out = new ArrayList<>();
            List<long[]> missing = new ArrayList<>();
            for (int k = 0; k < acquired.size(); k++) {
                SharePartition.Acquired a = acquired.get(k);
                long expected = a.first();
                for (FetchHandler.OffsetRecord r : reads.get(k).join()) {
                    if (r.offset() > expected) {
                        missing.add(new long[] {expected, r.offset() - 1});
                    }
                    out.add(shared(pid.partition(), r, a.deliveries()));
                    expected = r.offset() + 1;
                }
                if (expected <= a.last()) {
                    missing.add(new long[] {expected, a.last()});
                }
            }
            if (missing.isEmpty()) {
                return CompletableFuture.completedFuture(out);
            }
            long now = clock.millis();
            return partitions.apply(key, () -> 0, state -> {
                missing.forEach(m -> state.answer(request.getMemberId(), m[0], m[1], SharePartition.Answer.ACCEPT, -1,
                        null, now));
                return out;
            });
        });
    }

    public CompletableFuture<ShareAcknowledgeResponse> shareAcknowledge(ShareAcknowledgeRequest request) {
        try {
            check(request.getGroup(), request.getMemberId());
            for (ShareAck ack : request.getAcksList()) {
                if (ack.getLastOffset() < ack.getFirstOffset() || ack.getFirstOffset() < 0
                        || ack.getAnswer() == io.strata.api.v1.ShareAnswer.SHARE_ANSWER_UNSPECIFIED
                        || ack.getAnswer() == io.strata.api.v1.ShareAnswer.UNRECOGNIZED) {
                    throw Status.INVALID_ARGUMENT.withDescription("an ack names offsets first <= last and an answer "
                            + "(ACCEPT, RELEASE or REJECT)").asRuntimeException();
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
            decided.add(fetch.resolve(request.getTopic(), e.getKey()).thenCompose(pid -> {
                SharePartitions.Key key = new SharePartitions.Key(request.getGroup(), pid.topicId(), pid.partition());
                long now = clock.millis();
                return index.load(pid).thenCompose(v -> partitions.apply(key,
                        () -> index.partition(pid).logStartOffset(), state -> {
                            for (int i : e.getValue()) {
                                ShareAck ack = request.getAcks(i);
                                SharePartition.AnswerOutcome o = state.answer(request.getMemberId(), ack.getFirstOffset(),
                                        ack.getLastOffset(), answer(ack.getAnswer()), ack.getDelayMs(), ack.getNote(), now);
                                results[i] = ShareAckResult.newBuilder().setApplied(o.applied())
                                        .setNotHeld(o.notHeld()).build();
                            }
                            return null;
                        }));
            }).thenApply(x -> null));
        }
        return CompletableFuture.allOf(decided.toArray(CompletableFuture[]::new))
                .thenApply(v -> ShareAcknowledgeResponse.newBuilder().addAllResults(List.of(results)).build());
    }

    private static SharePartition.Answer answer(io.strata.api.v1.ShareAnswer a) {
        return switch (a) {
            case SHARE_ANSWER_ACCEPT -> SharePartition.Answer.ACCEPT;
            case SHARE_ANSWER_RELEASE -> SharePartition.Answer.RELEASE;
            default -> SharePartition.Answer.REJECT;
        };
    }

    private static void check(String group, String member) {
        if (group.isEmpty() || group.length() > 249) {
            throw Status.INVALID_ARGUMENT.withDescription("a share group is named by 1 to 249 characters")
                    .asRuntimeException();
        }
        if (member.isEmpty() || member.length() > 128) {
            throw Status.INVALID_ARGUMENT.withDescription("member_id is 1 to 128 characters, the same on every request")
                    .asRuntimeException();
        }
    }

    private static SharedRecord shared(int partition, FetchHandler.OffsetRecord r, int deliveries) {
        SharedRecord.Builder b = SharedRecord.newBuilder().setPartition(partition).setOffset(r.offset())
                .setDeliveryCount(deliveries).setTimestampMs(r.record().timestampMs())
                .setValue(ByteString.copyFrom(r.record().value()));
        if (r.record().key() != null) {
            b.setKey(ByteString.copyFrom(r.record().key()));
        }
        for (RecordHeader h : r.record().headers()) {
            b.addHeaders(Header.newBuilder().setKey(h.key()).setValue(ByteString.copyFrom(h.value())));
        }
        return b.build();
    }
}
