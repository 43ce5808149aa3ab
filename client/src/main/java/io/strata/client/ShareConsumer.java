package io.strata.client;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import io.grpc.CallOptions;
import io.grpc.stub.ClientCalls;
import io.strata.api.v1.Header;
import io.strata.api.v1.ShareAck;
import io.strata.api.v1.ShareAcknowledgeRequest;
import io.strata.api.v1.ShareAcknowledgeResponse;
import io.strata.api.v1.ShareAnswer;
import io.strata.api.v1.ShareFetchRequest;
import io.strata.api.v1.ShareFetchResponse;
import io.strata.api.v1.ShareServiceGrpc;
import io.strata.api.v1.SharedRecord;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A member of a share group (docs/queues.md): takes records of every partition of a topic, each acquired for
 * it alone until it answers: {@link #accept}, {@link #release}, {@link #reject}. Answers are sent with the next
 * {@link #poll} or {@link #acknowledge} and are durable once that returns; a record not answered before its
 * lock runs out (the member died, or took too long) goes to another member. Any number of members share a
 * topic, however few its partitions. Not thread-safe: one thread polls and answers, as with {@link Consumer}.
 */
public final class ShareConsumer implements AutoCloseable {
    private final String topic;
    private final String group;
    private final NodeRouter router;
    /** A record's key, value and headers from the answer (NodeRouter.answerBytes). */
    private final java.util.function.Function<com.google.protobuf.ByteString, byte[]> bytes;
    private final Admin admin;
    private final Duration deadline;
    private final String memberId = UUID.randomUUID().toString();
    /** Records a poll asks each fetch node for, at most. */
    public static final int MAX_RECORDS_PER_FETCH = 500;

    private final int maxRecords;
    /**
     * A fetch out for this member: the node asked, the partitions it asked for, when its answer was due (sent
     * plus the wait asked for), the answer (records it acquires are this member's even if answered late).
     */
    private record Asked(String node, List<Integer> partitions, long dueAtNanos,
                         ListenableFuture<ShareFetchResponse> answer) {
    }

    /** Partition → the fetch out for it: a partition is in one fetch at a time. */
    private final Map<Integer, Asked> inflight = new HashMap<>();
    private final LinkedBlockingQueue<Asked> completed = new LinkedBlockingQueue<>();
    /** Which node each partition is asked of next, and when, while its fetches fail. */
    private final FetchRetries retries;
    /** The same for the answers, by the first partition a call carries. */
    private final FetchRetries answerRetries;
    /** A fetch's failure in a poll that took records too: thrown by the next poll. */
    private StrataException deferred;
    /** Answers not yet sent, by partition, in order. */
    private final Map<Integer, List<ShareAck>> answers = new LinkedHashMap<>();
    /** A record this member holds, by partition, offset and the delivery it holds it in. */
    private record Held(int partition, long offset, int deliveries) {
        static Held of(SharedRecord r) {
            return new Held(r.getPartition(), r.getOffset(), r.getDeliveryCount());
        }
    }

    /** What this member holds and has not answered: given back when it closes. */
    private final Set<Held> held = new LinkedHashSet<>();
    private long topicId = -1;
    private int partitions;
    private boolean closed;

    /** The consumer's filter (tags, expression), or null: every record. */
    private final io.strata.api.v1.RecordFilter filter;

    ShareConsumer(String topic, String group, NodeRouter router, Admin admin, Duration deadline, int maxRecords,
                  io.strata.api.v1.RecordFilter filter) {
        if (group == null || group.isEmpty()) {
            throw new IllegalArgumentException("a share group has a name");
        }
        this.filter = filter;
        this.topic = topic;
        this.group = group;
        this.router = router;
        this.bytes = router.answerBytes();
        this.admin = admin;
        this.deadline = deadline;
        this.maxRecords = maxRecords;
        this.retries = new FetchRetries(router, deadline);
        this.answerRetries = new FetchRetries(router, deadline);
    }

    public String memberId() {
        return memberId;
    }

    public String group() {
        return group;
    }

    /**
     * Sends the answers given so far, then waits up to {@code timeout} for records this member acquired. Empty
     * when none came in time.
     *
     * <p>A fetch node that cannot take records now (unreachable, starting, stopping, timing out, failing on its
     * side: {@link Transient}) has its partitions asked of the next node in their ranking, then again, spaced
     * out, as a {@link Consumer}'s fetches are ({@link FetchRetries}); the poll fails only once a partition has
     * had no answer for the client's deadline.
     *
     * @throws StrataException when an answer could not be stored, a fetch failed other than so, or a partition's
     *                         fetch nodes could not serve it for the client's deadline; a failure in a poll that
     *                         also took records is thrown by the next poll, once it sent the answers given
     */
    public List<ShareRecord> poll(Duration timeout) {
        requireOpen();
        acknowledge();
        if (deferred != null) {
            StrataException failure = deferred;
            deferred = null;
            throw failure;
        }
        shape();
        long until = System.nanoTime() + timeout.toNanos();
        List<ShareRecord> out = new ArrayList<>();
        StrataException failure = null;
        while (true) {
            long now = System.nanoTime();
            long waitMs = Math.max(0, Math.min(TimeUnit.NANOSECONDS.toMillis(until - now), 30_000));
            long wakeAt = until;
            // Each partition not asked yet goes to its node now, in one fetch per node, whatever else is out there.
            Map<String, List<Integer>> byNode = new LinkedHashMap<>();
            for (int p = 0; p < partitions; p++) {
                Long retryAt = retries.retryAtNanos(p, now);
                if (retryAt != null) {
                    wakeAt = Math.min(wakeAt, retryAt);
                } else if (!inflight.containsKey(p)) {
                    byNode.computeIfAbsent(retries.nodeFor(topicId, p), n -> new ArrayList<>()).add(p);
                }
            }
            byNode.forEach((node, mine) -> send(node, mine, waitMs, now));
            List<Asked> done = new ArrayList<>();
            try {
                Asked first = completed.poll(Math.max(0, wakeAt - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (first != null) {
                    done.add(first);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            completed.drainTo(done);
            for (Asked asked : done) {
                failure = take(asked, out, failure);
            }
            if (!out.isEmpty() || failure != null || System.nanoTime() - until >= 0) {
                break;
            }
        }
        if (failure != null) {
            if (out.isEmpty()) {
                throw failure;
            }
            deferred = failure;
        }
        return out;
    }

    /** Asks {@code node} for records of {@code mine}; the answer is taken in by this poll or a later one. */
    private void send(String node, List<Integer> mine, long waitMs, long sentNanos) {
        ShareFetchRequest.Builder request = ShareFetchRequest.newBuilder().setGroup(group).setTopic(topic)
                .setMemberId(memberId).addAllPartitions(mine).setMaxRecords(maxRecords).setMaxWaitMs((int) waitMs);
        if (filter != null) {
            request.setFilter(filter);
        }
        ListenableFuture<ShareFetchResponse> answer = ClientCalls.futureUnaryCall(router.channelTo(node)
                .newCall(ShareServiceGrpc.getShareFetchMethod(), CallOptions.DEFAULT.withDeadlineAfter(
                        deadline.toMillis() + waitMs, TimeUnit.MILLISECONDS)), request.build());
        Asked asked = new Asked(node, List.copyOf(mine), sentNanos + TimeUnit.MILLISECONDS.toNanos(waitMs), answer);
        mine.forEach(p -> inflight.put(p, asked));
        answer.addListener(() -> completed.add(asked), MoreExecutors.directExecutor());
    }

    /**
     * Takes in a fetch that came back: its records into {@code out}, held by this member; a failure asked again
     * ({@link FetchRetries}) or returned, the first one winning.
     */
    private StrataException take(Asked asked, List<ShareRecord> out, StrataException failure) {
        asked.partitions().forEach(inflight::remove);
        try {
            for (SharedRecord r : com.google.common.util.concurrent.Futures.getDone(asked.answer()).getRecordsList()) {
                out.add(toRecord(r));
                held.add(Held.of(r));
            }
            asked.partitions().forEach(retries::forget);
            return failure;
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.CancellationException e) {
            StrataException f = StrataException.from(e.getCause() != null ? e.getCause() : e);
            if (!Transient.is(f)) {
                asked.partitions().forEach(retries::forget);
                return failure == null ? f : failure;
            }
            for (int p : asked.partitions()) {
                try {
                    retries.failed(p, asked.node(), asked.dueAtNanos(), f);
                } catch (StrataException tooLong) {
                    failure = failure == null ? tooLong : failure;
                }
            }
            return failure;
        }
    }

    /** Done: the record is never delivered to the group again (once the answer is sent). */
    public void accept(ShareRecord record) {
        answer(record, ShareAnswer.SHARE_ANSWER_ACCEPT, -1, "");
    }

    /** Gives the record back to be delivered again after the group's back-off. */
    public void release(ShareRecord record) {
        answer(record, ShareAnswer.SHARE_ANSWER_RELEASE, -1, "");
    }

    /**
     * Gives the record back after the group's back-off, as {@link #release(ShareRecord)}, with what went wrong:
     * kept, with the record, for its dead-letter copy should this have been its last delivery.
     */
    public void release(ShareRecord record, String error) {
        answer(record, ShareAnswer.SHARE_ANSWER_RELEASE, -1, error == null ? "" : error);
    }

    /** Gives the record back to be delivered again after {@code delay} (zero: at once). */
    public void release(ShareRecord record, Duration delay) {
        answer(record, ShareAnswer.SHARE_ANSWER_RELEASE, Math.max(0, delay.toMillis()), "");
    }

    /** The record cannot be processed: it is archived (dead-lettered, where the group has a topic for it). */
    public void reject(ShareRecord record, String reason) {
        answer(record, ShareAnswer.SHARE_ANSWER_REJECT, -1, reason == null ? "" : reason);
    }

    private void answer(ShareRecord record, ShareAnswer answer, long delayMs, String note) {
        requireOpen();
        if (!held.remove(new Held(record.partition(), record.offset(), record.deliveryCount()))) {
            throw new IllegalStateException("record " + record.partition() + "@" + record.offset() + " (delivery "
                    + record.deliveryCount() + ") is not held by this member, or was answered already");
        }
        List<ShareAck> acks = answers.computeIfAbsent(record.partition(), p -> new ArrayList<>());
        if (!acks.isEmpty()) {
            ShareAck last = acks.get(acks.size() - 1);
            if (last.getAnswer() == answer && last.getDelayMs() == delayMs && last.getNote().equals(note)
                    && last.getDeliveryCount() == record.deliveryCount() && last.getLastOffset() + 1 == record.offset()
                    && !maybeStored.contains(last)) {
                acks.set(acks.size() - 1, last.toBuilder().setLastOffset(record.offset()).build());
                return;
            }
        }
        acks.add(ShareAck.newBuilder().setPartition(record.partition()).setFirstOffset(record.offset())
                .setLastOffset(record.offset()).setDeliveryCount(record.deliveryCount()).setAnswer(answer)
                .setDelayMs(delayMs).setNote(note).build());
    }

    /**
     * Sends the answers given so far and waits until they are stored. Answers to records whose lock ran out
     * before they arrived are not applied (another member may have them): {@link #notHeldLately} counts them.
     *
     * @throws StrataException when no node stored them for the client's deadline, or one refused them as any
     *                         node would; they stay given, and go with the next poll, acknowledge or close
     */
    public void acknowledge() {
        if (answers.isEmpty()) {
            return;
        }
        shape();
        Map<String, List<ShareAck>> byNode = new LinkedHashMap<>();
        answers.forEach((partition, acks) -> byNode.computeIfAbsent(retries.nodeFor(topicId, partition),
                n -> new ArrayList<>()).addAll(acks));
        for (Map.Entry<String, List<ShareAck>> e : byNode.entrySet()) {
            ShareAcknowledgeRequest request = ShareAcknowledgeRequest.newBuilder().setGroup(group).setTopic(topic)
                    .setMemberId(memberId).addAllAcks(e.getValue()).build();
            ShareAcknowledgeResponse response = sendAnswers(e.getKey(), request);
            for (int i = 0; i < response.getResultsCount() && i < request.getAcksCount(); i++) {
                if (!maybeStored.contains(request.getAcks(i))) {
                    notHeld += response.getResults(i).getNotHeld();
                }
            }
            request.getAcksList().forEach(maybeStored::remove);
            e.getValue().forEach(a -> answers.remove(a.getPartition()));
        }
    }

    private long notHeld;
    /**
     * Answers carried by a call that failed after it may have reached a node: found not held when sent again, they
     * may be this member's own, stored then, so they are not counted in {@link #notHeldLately}. An answer given
     * later is never merged into one of them.
     */
    private final Set<ShareAck> maybeStored = new java.util.HashSet<>();

    /**
     * Answered records whose lock had run out first (their answers were not applied): since the consumer opened.
     * Answers sent again after a call that may have stored them are left out: they would count the member's own.
     */
    public long notHeldLately() {
        return notHeld;
    }

    /**
     * Sends the answers to {@code node} and, while nodes cannot store them now (a {@link Transient} failure), to
     * the next node in the first partition's ranking, then again with pauses, as a fetch is asked again
     * ({@link FetchRetries}): the call fails once it has had no answer for the client's deadline, or at once on
     * a failure any node would give. Asking again is safe whatever the failed call did: stored already, its
     * answers find the records not held (not counted then in {@link #notHeldLately}); each names the delivery it
     * answers, so none applies to a later delivery of a record to this member (a release with no back-off hands it
     * back at once). Answers of a call that failed stay given and go with the next poll, acknowledge or close.
     */
    private ShareAcknowledgeResponse sendAnswers(String node, ShareAcknowledgeRequest request) {
        return answerRetries.call(topicId, request.getAcks(0).getPartition(), node, to -> {
            try {
                return ShareServiceGrpc.newBlockingStub(router.channelTo(to))
                        .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS).shareAcknowledge(request);
            } catch (io.grpc.StatusRuntimeException e) {
                StrataException f = StrataException.from(e);
                // A call over several partitions may have stored some before it failed at another.
                if (Transient.is(f) && !f.neverSent()) {
                    maybeStored.addAll(request.getAcksList());
                }
                throw f;
            }
        });
    }

    /**
     * Stops the fetches still out, takes in those that came back, gives back what this member holds and did not
     * answer (delivered to others at once, this delivery not counted) along with the answers given, and stops. A
     * fetch stopped here that the node had already answered leaves its records locked until their lock runs out.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        try {
            // Stopped before anything is given back: a fetch still out on the partition would take it again.
            for (Asked asked : new LinkedHashSet<>(inflight.values())) {
                ListenableFuture<ShareFetchResponse> answer = asked.answer();
                if (!answer.cancel(true) && !answer.isCancelled()) { // it came back first
                    try {
                        com.google.common.util.concurrent.Futures.getDone(answer).getRecordsList()
                                .forEach(r -> held.add(Held.of(r)));
                    } catch (java.util.concurrent.ExecutionException ignored) {
                        // nothing was handed out
                    }
                }
            }
            inflight.clear();
            for (Held h : List.copyOf(held)) {
                answer(new ShareRecord(topic, h.partition(), h.offset(), h.deliveries(), 0, null, new byte[0], List.of()),
                        ShareAnswer.SHARE_ANSWER_GIVE_BACK, -1, "");
            }
            acknowledge();
        } finally {
            closed = true;
            inflight.clear();
        }
    }

    private void shape() {
        if (topicId < 0) {
            TopicInfo info = admin.topic(topic);
            topicId = info.topicId();
            partitions = info.partitions();
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("this share consumer is closed");
        }
    }

    private ShareRecord toRecord(SharedRecord r) {
        List<RecordHeader> headers = new ArrayList<>(r.getHeadersCount());
        for (Header h : r.getHeadersList()) {
            headers.add(new RecordHeader(h.getKey(), bytes.apply(h.getValue())));
        }
        return new ShareRecord(topic, r.getPartition(), r.getOffset(), r.getDeliveryCount(), r.getTimestampMs(),
                r.hasKey() ? bytes.apply(r.getKey()) : null, bytes.apply(r.getValue()), headers);
    }
}
