package io.strata.client;


import com.google.protobuf.UnsafeByteOperations;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.strata.api.v1.Acks;
import io.strata.api.v1.InitProducerRequest;
import io.strata.api.v1.PartitionAppend;
import io.strata.api.v1.ProduceRequest;
import io.strata.api.v1.ProduceResponse;
import io.strata.api.v1.TopicPartitionRecords;
import io.strata.client.RecordAccumulator.TopicPartition;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The sending half of a {@link Producer}: everything here runs on the producer's one thread, so none of its
 * state needs a lock. It keeps one ProduceStream per ingest node and pipelines up to
 * {@link ProducerConfig#maxInFlightRequests()} requests on it; the node admits a stream's requests in
 * order, so a partition's records are stored in the order they were sent however many of its requests
 * are out. A partition's requests all go to one node while any is out.
 *
 * <p>Failures: a batch that failed for a reason that may pass (the node or the store unavailable, a full
 * buffer, a broken stream) — or, for an idempotent producer, was refused for a gap left by such a batch —
 * is retried with back-off, with its sequence numbers, until its delivery timeout; while it is, its
 * partition sends nothing new, and its retries go one at a time in sequence order, so a retried batch can
 * never land after a later one. A batch that fails for good fails its records' futures; an idempotent
 * producer then takes a new producer id and numbers afresh (the failed batch left a gap), renumbering the
 * batches still waiting — except those that may already be stored (sent, no answer): they go again under
 * the id and sequences they were sent with, until the node answers them (stored, a duplicate, or refused
 * for a gap, which proves they were not stored and lets them be numbered again).
 *
 * <p>An idempotent producer keeps at most the node's sequence window (16 today) of a partition's batches in
 * flight: the node recognises a retry only among a producer's latest batches of a partition, so a batch
 * retried after a broken stream must still be among them, or it would be refused as stale.
 */
final class Sender {
    private final ScheduledExecutorService thread;
    private final RecordAccumulator accumulator;
    private final NodeRouter router;
    private final PartitionCounts topics;
    private final ProducerConfig config;
    private final Duration deadline;
    private final Semaphore buffer;
    private final Map<TopicPartition, PartitionState> partitions = new HashMap<>();
    private final Map<String, NodeStream> streams = new HashMap<>();
    private long producerId;
    /** A transactional producer's transactions; null for a producer that is idempotent only (or not even that). */
    private final ProducerTransaction txn;
    /** Batches of a partition the node recognises as retries (InitProducer says; 5 until it does). */
    private int sequenceWindow = DEFAULT_SEQUENCE_WINDOW;
    private long nextRequestId;

    /** A partition's sending state. */
    /** The sequence window of a node that does not state one. */
    private static final int DEFAULT_SEQUENCE_WINDOW = 5;

    private static final class PartitionState {
        int inFlight;
        String node;
        long nextSequence;
        /** Batches to send again, by the order they were drained in (their records' order). */
        final TreeMap<Long, ProducerBatch> retries = new TreeMap<>();
        /** The place the next batch drained takes among the partition's batches. */
        long drainOrder;
        /** Set when the producer id changed while batches of the old id were out: nothing new until they are back. */
        boolean draining;
    }

    /** @param carriesCommit the transaction (its sequence) whose commit the request carries; 0: none */
    private record Inflight(long requestId, List<ProducerBatch> batches, long sentAtNanos, long carriesCommit) {
    }

    /**
     * Set by a transactional producer's commit for its flush: the transaction (its {@link
     * ProducerTransaction#sequence}) whose last request may carry the commit; 0 when none.
     */
    private volatile long carryCommit;
    /** The transaction (its sequence) a request that carried its commit was last answered committed for; 0: none. */
    private volatile long carriedCommitted;
    /**
     * Requests that carried a transaction's commit, by the transaction's sequence, until the producer settles that
     * transaction's outcome ({@link #commitSettled}): the node each went to, and whether its answer said committed.
     * While one of an earlier transaction than the open one is unsettled, the open one's batches go only as one
     * request that carries its commit too, on that node's stream (the node chains it to the earlier one);
     * otherwise they wait for the earlier one to be settled.
     */
    private final TreeMap<Long, Carried> carried = new TreeMap<>();
    /** Batches of the open transaction drained while an earlier one's commit is out, to go once it is answered. */
    private final Map<String, List<ProducerBatch>> held = new LinkedHashMap<>();

    /**
     * @param pipelined whether the producer went on without waiting (settled by {@link #commitSettled})
     * @param chainable whether the node writes it in one write, and so chains the next transaction to it
     */
    private record Carried(String node, java.util.concurrent.CompletableFuture<Boolean> committed, boolean pipelined,
                           boolean chainable) {
    }

    /**
     * The transaction (its sequence) whose commit {@link Producer#commitTransactionAsync} is sending without
     * waiting, while it drains; 0 when none. A request carrying it stays among {@link #carried} until settled;
     * any other, until answered.
     */
    private volatile long carryPipelined;

    Sender(ScheduledExecutorService thread, RecordAccumulator accumulator, NodeRouter router, PartitionCounts topics,
           ProducerConfig config, Duration deadline, Semaphore buffer) {
        this(thread, accumulator, router, topics, config, deadline, buffer, null);
    }

    /** @param txn a transactional producer's transactions (its producer id comes from them); null: none */
    Sender(ScheduledExecutorService thread, RecordAccumulator accumulator, NodeRouter router, PartitionCounts topics,
           ProducerConfig config, Duration deadline, Semaphore buffer, ProducerTransaction txn) {
        this.txn = txn;
        if (txn != null) {
            producerId = txn.producerId();
            sequenceWindow = txn.sequenceWindow() > 0 ? txn.sequenceWindow() : DEFAULT_SEQUENCE_WINDOW;
        }
        this.thread = thread;
        this.accumulator = accumulator;
        this.router = router;
        this.topics = topics;
        this.config = config;
        this.deadline = deadline;
        this.buffer = buffer;
        thread.scheduleWithFixedDelay(this::expireStuckStreams, 1, 1, TimeUnit.SECONDS);
    }

    /** Sends what is due: retries first (one per partition at a time), then every ready batch that may go. */
    void sendReady() {
        long now = System.nanoTime();
        partitions.forEach((tp, state) -> {
            if (!state.retries.isEmpty() && state.inFlight == 0) {
                ProducerBatch first = state.retries.firstEntry().getValue();
                if (first.retryAtNanos - now <= 0) {
                    state.retries.pollFirstEntry();
                    sendOrFail(routeOf(tp, state), List.of(first), 0);
                } else {
                    thread.schedule(this::sendReady, first.retryAtNanos - now, TimeUnit.NANOSECONDS);
                }
            }
        });
        if (!held.isEmpty() && earlierCommitOut() == null) {
            // What waited for an earlier transaction's answer goes now, carrying its commit where it may.
            long all = carryCommit != 0 && held.size() == 1 && accumulator.isEmpty() ? carryCommit : 0;
            Map<String, List<ProducerBatch>> waiting = new LinkedHashMap<>(held);
            held.clear();
            waiting.forEach((node, toSend) -> sendOrFail(node, toSend, all));
        }
        while (true) {
            // Read before the drain: a commit asked for was asked after the transaction's last record was appended,
            // so a drain after it that leaves nothing behind holds everything the transaction has left to send.
            long committing = carryCommit;
            List<ProducerBatch> batches = accumulator.drainReady(this::room);
            if (batches.isEmpty()) {
                break;
            }
            Map<String, List<ProducerBatch>> byNode = new LinkedHashMap<>();
            for (ProducerBatch batch : batches) {
                TopicPartition tp = new TopicPartition(batch.topic, batch.partition);
                PartitionState state = state(tp);
                batch.retryKey = state.drainOrder++; // its place, should it have to go again
                if (txn != null && batch.txnSequence == 0) {
                    batch.txnSequence = txn.sequence();
                }
                byNode.computeIfAbsent(routeOf(tp, state), n -> new ArrayList<>()).add(batch);
            }
            // A transaction's commit may ride on a request only when it holds everything left to send (none of it
            // held back, either).
            long all = committing != 0 && byNode.size() == 1 && accumulator.isEmpty() && held.isEmpty() ? committing
                    : 0;
            Carried earlier = earlierCommitOut();
            if (earlier != null && (all == 0 || !earlier.chainable() || !byNode.containsKey(earlier.node())
                    || !carriesCommit(earlier.node(), all))) {
                // Sent now, they would find the earlier transaction not yet stored, and be refused.
                byNode.forEach((node, toSend) -> held.computeIfAbsent(node, n -> new ArrayList<>()).addAll(toSend));
                continue;
            }
            byNode.forEach((node, toSend) -> sendOrFail(node, toSend, all));
        }
    }

    /** A request carrying the commit of a transaction before the open one, not answered yet; null when none. */
    private Carried earlierCommitOut() {
        if (txn == null || carried.isEmpty()) {
            return null;
        }
        Map.Entry<Long, Carried> last = carried.lowerEntry(txn.sequence());
        return last == null ? null : last.getValue();
    }

    /**
     * The answer to the request that carried the commit of transaction {@code sequence}, while it is out or once it
     * went (true: committed); null when no request carried it. On the sender thread.
     */
    java.util.concurrent.CompletableFuture<Boolean> carriedAnswer(long sequence) {
        Carried c = carried.get(sequence);
        return c == null ? null : c.committed();
    }

    /**
     * The producer waits for the commit of transaction {@code sequence} after all (it did not go on without
     * waiting): a request that carried it is forgotten once answered, as any other. On the sender thread.
     */
    void waitedFor(long sequence) {
        Carried c = carried.get(sequence);
        if (c != null && c.committed().isDone()) {
            carried.remove(sequence);
        } else if (c != null) {
            carried.put(sequence, new Carried(c.node(), c.committed(), false, c.chainable())); // removed on answer
        }
    }

    /**
     * The producer settled the outcome of transaction {@code sequence}, whose commit a request carried: committed
     * ({@code failure} null), or not. Batches of later transactions held for it go now, or, when it did not commit
     * (they stood on it), fail. On the sender thread.
     */
    void commitSettled(long sequence, StrataException failure) {
        // Settled in order: nothing before it is left to settle (an entry there, which nothing would remove, would
        // hold the next transactions' batches for ever).
        carried.headMap(sequence, true).clear();
        if (failure != null && !held.isEmpty()) {
            StrataException cascade = new StrataException(failure.code(), "the transaction before this one is not "
                    + "known committed (" + failure.description() + "): this one, which stood on it, cannot commit",
                    failure.reason());
            List<ProducerBatch> waiting = new ArrayList<>();
            held.values().forEach(waiting::addAll);
            held.clear();
            waiting.forEach(b -> failed(b, cascade));
        }
        sendReady();
    }

    private PartitionState state(TopicPartition tp) {
        return partitions.computeIfAbsent(tp, k -> new PartitionState());
    }

    /**
     * How many new batches a partition may send now: none while it is retrying or its stream is full; an
     * idempotent producer's partition at most the node's sequence window, all in flight counted, so that
     * every batch it may have to retry is still among those the node recognises as retries.
     */
    private int room(TopicPartition tp) {
        PartitionState state = state(tp);
        if (!state.retries.isEmpty() || state.draining) {
            return 0;
        }
        if (carryCommit == 0 && earlierCommitOut() != null) {
            return 0; // the open transaction's batches wait for its commit, to go with it, or for the earlier answer
        }
        NodeStream stream = streams.get(routeOf(tp, state));
        if (stream != null && stream.inflight.size() >= config.maxInFlightRequests()) {
            return 0;
        }
        return config.idempotent() ? sequenceWindow - state.inFlight : Integer.MAX_VALUE;
    }

    /** The node a partition's requests go to: where its requests in flight went, else the router's choice. */
    private String routeOf(TopicPartition tp, PartitionState state) {
        if (state.inFlight > 0 && state.node != null) {
            return state.node;
        }
        try {
            return router.ingestNodeFor(topics.topic(tp.topic()).topicId(), tp.partition());
        } catch (RuntimeException e) {
            return router.home(); // the topic is unknown (gone?): the home node answers why
        }
    }

    private void sendOrFail(String node, List<ProducerBatch> batches, long all) {
        try {
            send(node, batches, all);
        } catch (NotSent e) {
            retryUnsent(node, batches, e.failure);
        } catch (RuntimeException e) {
            StrataException failure = StrataException.from(e);
            batches.forEach(b -> failed(b, failure));
        }
    }

    /** The batches never left: a node that did not answer InitProducer (killed, say) is skipped for a while. */
    private static final class NotSent extends RuntimeException {
        final StrataException failure;

        NotSent(StrataException failure) {
            super(failure.getMessage(), failure, false, false);
            this.failure = failure;
        }
    }

    private void retryUnsent(String node, List<ProducerBatch> batches, StrataException failure) {
        // Nothing was sent: a node that refused or did not answer in time is avoided for a while, and even a
        // timeout is safe to retry (InitProducer only hands out an id).
        boolean retryable = Transient.retriesWrite(failure);
        if (failure.code() == Status.Code.UNAVAILABLE || failure.code() == Status.Code.DEADLINE_EXCEEDED) {
            router.markDown(node); // the next route avoids it
        }
        long now = System.nanoTime();
        long backoffMs = 50;
        for (ProducerBatch batch : batches) {
            if (batch.deadlineNanos == 0) {
                batch.deadlineNanos = now + config.deliveryTimeout().toNanos();
            }
            if (!retryable || now - batch.deadlineNanos >= 0) {
                failed(batch, failure);
                continue;
            }
            backoffMs = queueRetry(state(new TopicPartition(batch.topic, batch.partition)), batch, now);
        }
        thread.schedule(this::sendReady, backoffMs, TimeUnit.MILLISECONDS);
    }

    /**
     * A transactional producer's commit is to ride on its transaction's last request (ProduceRequest
     * commit_transaction) where one request holds all that is left; {@link #endCarry} says whether it did.
     */
    void carryCommit() {
        carryCommit = txn == null ? 0 : txn.sequence();
    }

    /**
     * As {@link #carryCommit}, for a producer that goes on without waiting if the commit rides on a request now
     * ({@code pipelined}), or waits as {@link #carryCommit} has it otherwise (false, once the drain is over).
     */
    void carryCommit(boolean pipelined) {
        carryCommit();
        carryPipelined = pipelined ? carryCommit : 0;
    }

    /** Ends {@link #carryCommit}: whether a request that carried the commit was answered committed. */
    boolean endCarry() {
        long asked = carryCommit;
        carryCommit = 0;
        return asked != 0 && carriedCommitted == asked;
    }

    /**
     * Whether this request, holding everything of the transaction left to send once its commit was asked for
     * ({@code all}), may carry the commit: nothing else of it in flight or waiting to be retried, and no batch of
     * it failed.
     */
    private boolean carriesCommit(String node, long all) {
        // The transaction drained for may have ended meanwhile, and the batches be the next one's.
        if (all == 0 || txn == null || txn.sequence() != all || txn.hasFailed() || !held.isEmpty()) {
            return false;
        }
        for (NodeStream stream : streams.values()) {
            for (Inflight out : stream.inflight) {
                // Only the requests that carried the commits of earlier transactions, on this stream: the node
                // chains this one to them (docs/transactions.md, "Pipelined transactions").
                if (out.carriesCommit() == 0 || out.carriesCommit() >= all || !stream.node.equals(node)) {
                    return false;
                }
            }
        }
        for (PartitionState state : partitions.values()) {
            if (!state.retries.isEmpty()) {
                return false;
            }
        }
        return true;
    }

    private void send(String node, List<ProducerBatch> batches, long all) {
        ProduceRequest.Builder request = ProduceRequest.newBuilder().setAcks(Acks.ACKS_DURABLE)
                .setRequestId(++nextRequestId);
        long requestProducerId = producerId;
        ProducerBatch first = batches.get(0);
        if (config.idempotent() && batches.size() == 1 && first.mayBeStored && first.producerId != producerId) {
            // A retry that may be stored under an earlier producer id goes again under that id and its
            // sequences (retries travel alone): renumbered, it would be stored twice if the first try was.
            requestProducerId = first.producerId;
        } else if (config.idempotent()) {
            if (producerId == 0) {
                try {
                    var answer = router.producerBlockingStub(node)
                            .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS)
                            .initProducer(InitProducerRequest.getDefaultInstance());
                    producerId = answer.getProducerId();
                    sequenceWindow = answer.getSequenceWindow() > 0 ? answer.getSequenceWindow()
                            : DEFAULT_SEQUENCE_WINDOW;
                } catch (RuntimeException e) {
                    throw new NotSent(StrataException.from(e));
                }
            }
            requestProducerId = producerId;
        }
        if (txn != null) {
            // Every partition is in the transaction before its first record of it is stored: the request adds
            // those it writes to (the node adds them first), once the transaction's epoch is known.
            try {
                txn.ensureAdded(batches.stream().map(b -> new TopicPartition(b.topic, b.partition)).toList());
            } catch (RuntimeException e) {
                throw new NotSent(StrataException.from(e));
            }
            request.setProducerEpoch(txn.txnEpoch()).setTransactionalId(txn.transactionalId()).setAddPartitions(true);
        }
        boolean commit = carriesCommit(node, all);
        request.setCommitTransaction(commit);
        if (txn != null && !commit) {
            txn.sentApart(); // a request of it without the commit: the node will not write it in one write
        }
        if (config.idempotent()) {
            request.setProducerId(requestProducerId);
            if (requestProducerId != producerId) {
                // Nothing of the new id may go out for this partition before this batch of the old one is back.
                state(new TopicPartition(first.topic, first.partition)).draining = true;
            }
        }
        for (ProducerBatch batch : batches) {
            TopicPartition tp = new TopicPartition(batch.topic, batch.partition);
            PartitionState state = state(tp);
            if (batch.deadlineNanos == 0) {
                batch.deadlineNanos = System.nanoTime() + config.deliveryTimeout().toNanos();
            }
            TopicPartitionRecords.Builder entry = TopicPartitionRecords.newBuilder().setTopic(batch.topic)
                    .setPartition(batch.target()).setDelayed(batch.delayed()).setHalf(batch.half())
                    .setBatch(UnsafeByteOperations.unsafeWrap(batch.encoded(config.compressionLevel())));
            if (config.idempotent()) {
                if (batch.sequence < 0 || batch.producerId != requestProducerId) {
                    batch.sequence = state.nextSequence;
                    batch.producerId = requestProducerId;
                    state.nextSequence += batch.recordCount();
                }
                entry.setBaseSequence(batch.sequence);
                batch.mayBeStored = true;
            }
            request.addEntries(entry);
            state.inFlight++;
            state.node = node;
        }
        NodeStream stream = streams.computeIfAbsent(node, NodeStream::new);
        stream.inflight.add(new Inflight(request.getRequestId(), batches, System.nanoTime(), commit ? all : 0));
        if (commit) {
            carried.put(all, new Carried(node, new java.util.concurrent.CompletableFuture<>(), all == carryPipelined,
                    txn.chainable((int) batches.stream().map(b -> new TopicPartition(b.topic, b.partition))
                            .distinct().count())));
        }
        stream.requests.onNext(request.build());
    }

    /** A node's answer to the oldest request on its stream. */
    private void answered(NodeStream stream, ProduceResponse response) {
        Inflight request = stream.inflight.poll();
        if (request == null || request.requestId() != response.getRequestId()) {
            if (request != null) {
                stream.inflight.addFirst(request); // answered with the others, as the broken stream's
            }
            broken(stream, new StrataException(Status.Code.INTERNAL, "the node answered request "
                    + response.getRequestId() + " out of order"));
            return;
        }
        if (request.carriesCommit() != 0 && response.getTransactionCommitted()) {
            carriedCommitted = request.carriesCommit(); // before its batches settle: the flush waiting on them sees it
        }
        Carried carriedBy = request.carriesCommit() == 0 ? null : carried.get(request.carriesCommit());
        if (response.hasError()) {
            StrataException failure = StrataException.of(response.getError());
            if (failure.code() == Status.Code.UNAVAILABLE) {
                router.markDown(stream.node);
            }
            request.batches().forEach(b -> settle(b, null, failure));
        } else {
            Map<Integer, PartitionAppend> byEntry = new HashMap<>();
            response.getAppendsList().forEach(a -> byEntry.put(a.getEntryIndex(), a));
            for (int i = 0; i < request.batches().size(); i++) {
                ProducerBatch batch = request.batches().get(i);
                PartitionAppend append = byEntry.get(i);
                if (append == null || append.getPartition() != batch.target()
                        || append.getDelayed() != batch.delayed() || append.getHalf() != batch.half()
                        || (batch.half() && append.getTopicId() <= 0 && !append.hasError())
                        || append.getRecordCount() != batch.recordCount()) {
                    settle(batch, null, new StrataException(Status.Code.INTERNAL, "the node's answer does not account "
                            + "for the " + batch.recordCount() + " records sent to " + batch.topic + "/" + batch.partition));
                } else if (append.hasError()) {
                    settle(batch, null, StrataException.of(append.getError()));
                } else {
                    batch.topicId = append.getTopicId();
                    settle(batch, append.getBaseOffset(), null);
                }
            }
        }
        if (carriedBy != null) {
            carriedBy.committed().complete(!response.hasError() && response.getTransactionCommitted());
            if (!carriedBy.pipelined()) {
                carried.remove(request.carriesCommit()); // its producer waited for this answer
            }
        }
        sendReady();
    }

    /** The stream failed: every request on it is answered with the failure (they may or may not be stored). */
    private void broken(NodeStream stream, Throwable cause) {
        if (streams.get(stream.node) == stream) {
            streams.remove(stream.node);
        }
        StrataException failure = StrataException.from(cause);
        if (failure.code() == Status.Code.UNAVAILABLE) {
            router.markDown(stream.node);
        }
        stream.cancel("failed: " + failure.description());
        for (Inflight request = stream.inflight.poll(); request != null; request = stream.inflight.poll()) {
            request.batches().forEach(b -> settle(b, null, failure));
            Carried carriedBy = request.carriesCommit() == 0 ? null : carried.get(request.carriesCommit());
            if (carriedBy != null) {
                carriedBy.committed().complete(false); // unknown: the producer settles it by asking the cluster
                if (!carriedBy.pipelined()) {
                    carried.remove(request.carriesCommit());
                }
            }
        }
        sendReady();
    }

    /** One batch's request came back: stored at {@code baseOffset}, or failed with {@code failure}. */
    private void settle(ProducerBatch batch, Long baseOffset, StrataException failure) {
        PartitionState state = state(new TopicPartition(batch.topic, batch.partition));
        state.inFlight--;
        if (state.inFlight == 0) {
            state.draining = false;
        }
        if (failure == null) {
            done(batch);
            batch.complete(baseOffset, batch.topicId);
            return;
        }
        if (failure.code() == Status.Code.NOT_FOUND) {
            topics.forget(batch.topic);
        }
        Carried pipelinedBy = txn == null || batch.txnSequence == 0 ? null : carried.get(batch.txnSequence);
        if (txn != null && batch.txnSequence != 0 && (batch.txnSequence != txn.sequence() || !txn.begun()
                || (pipelinedBy != null && pipelinedBy.pipelined()))) {
            // Its transaction went with its commit without waiting (pipelined): sent again, it could go under the
            // next one's epoch. The producer settles that transaction's outcome by its epoch instead.
            if (batch.txnSequence == txn.sequence() && txn.begun()) {
                txn.failed(failure); // still open here: its commit waits, and cannot commit
            }
            done(batch);
            batch.fail(failure);
            return;
        }
        if (txn != null && Refusals.endsTransaction(failure)) {
            // Fenced by a newer producer, or the transaction is over: no retry can store it.
            batch.mayBeStored = false;
            failed(batch, failure);
            return;
        }
        boolean gap = config.idempotent() && failure.code() == Status.Code.FAILED_PRECONDITION;
        boolean unknownProducer = config.idempotent() && failure.code() == Status.Code.ABORTED;
        if (gap || unknownProducer) {
            batch.mayBeStored = false; // a gap, or a producer the node keeps no state of: nothing of it is stored
        }
        if (unknownProducer) {
            // The partition keeps no state of the producer (it was idle past the node's expiry): start afresh,
            // this batch numbered again for the new id, unless an earlier attempt of it may be stored, which
            // can no longer be checked (failed, rather than perhaps stored twice).
            if (batch.storedByAnEarlierAttempt) {
                failed(batch, failure);
                return;
            }
            if (batch.producerId == producerId) {
                restartIdempotence();
            }
        } else if (!gap && failure.code() != Status.Code.ALREADY_EXISTS) {
            batch.storedByAnEarlierAttempt |= batch.mayBeStored;
        }
        if (config.idempotent() && failure.code() == Status.Code.ALREADY_EXISTS) {
            // Stored, too long ago for the node to know its offsets: the sequences stay as they are.
            done(batch);
            batch.fail(failure);
            return;
        }
        boolean retryable = Transient.retriesWrite(failure) || gap; // unreachable nodes are UNAVAILABLE
        if (txn != null && unknownProducer) {
            // The partition forgot the producer (idle past the node's expiry): a transaction's sequences cannot go
            // on there. It fails, to be aborted; the producer takes a new epoch, numbering from 0 again.
            failed(batch, failure);
            return;
        }
        if (txn != null && gap && batch.attempts > 0) {
            // A transaction keeps its producer id and epoch: a gap its own retry meets is not one to fill.
            failed(batch, failure);
            return;
        }
        if (gap && batch.attempts > 0 && batch.producerId == producerId) {
            // A retry, sent alone and first in its partition, still meets a gap: the gap is not one of ours to
            // fill. Start afresh under a new id, this batch first. (Under an earlier id a gap is expected:
            // the batch that failed for good left it; the batch is simply numbered again for the new id.)
            restartIdempotence();
        }
        long now = System.nanoTime();
        if (retryable && now - batch.deadlineNanos < 0) {
            queueRetry(state, batch, now);
            return;
        }
        failed(batch, failure);
    }

    /**
     * Puts a batch among its partition's retries, due after a back-off that grows with its attempts; answers
     * the back-off in milliseconds. A batch's place is the one it took when it was drained: its records'
     * order among the partition's, whether it failed before leaving (no producer id yet) or after, and
     * whatever producer id or sequence it carries now (sequences restart with each new id, so they cannot be
     * the keys). Keyed by the order of first failure instead, a batch that failed before leaving and one
     * drained later that failed after leaving could swap places.
     */
    private long queueRetry(PartitionState state, ProducerBatch batch, long now) {
        batch.attempts++;
        long backoffMs = Math.min(2_000, 50L << Math.min(batch.attempts, 6));
        batch.retryAtNanos = now + TimeUnit.MILLISECONDS.toNanos(backoffMs);
        state.retries.put(batch.retryKey, batch);
        return backoffMs;
    }

    /** A batch fails for good. An idempotent producer starts afresh: its sequences now have a gap. */
    private void failed(ProducerBatch batch, StrataException failure) {
        if (txn != null) {
            txn.failed(failure);
        }
        done(batch);
        batch.fail(failure);
        if (config.idempotent()) {
            restartIdempotence();
        }
    }

    /**
     * A new producer id on next send, sequences from 0. Waiting retries keep their order and are numbered
     * again for the new id when sent; a partition with batches of the old id out sends nothing new until
     * they are back, so nothing of the new id can overtake them.
     */
    private void restartIdempotence() {
        if (txn != null) {
            // A transaction keeps its producer id and epoch: a broken sequence leaves abort as the way out.
            txn.failed(new StrataException(Status.Code.FAILED_PRECONDITION, "the transaction's sequence of records "
                    + "was broken by a batch that failed"));
            return;
        }
        producerId = 0;
        partitions.values().forEach(s -> {
            s.nextSequence = 0;
            s.draining = s.inFlight > 0;
        });
    }

    /**
     * A transactional producer's new producer epoch: each partition's sequences start again from 0 (nothing of the
     * last transaction is in flight).
     */
    void newProducerEpoch(long producerId) {
        this.producerId = producerId;
        partitions.values().forEach(s -> s.nextSequence = 0);
    }

    private void done(ProducerBatch batch) {
        accumulator.completed(batch);
        buffer.release(batch.permits);
    }

    /** A stream whose oldest request is older than the deadline is cut: the node is stuck or gone. */
    private void expireStuckStreams() {
        long limit = deadline.toNanos() + TimeUnit.SECONDS.toNanos(5);
        long now = System.nanoTime();
        for (NodeStream stream : List.copyOf(streams.values())) {
            Inflight oldest = stream.inflight.peek();
            if (oldest != null && now - oldest.sentAtNanos() > limit) {
                broken(stream, new StrataException(Status.Code.DEADLINE_EXCEEDED,
                        "no answer from " + stream.node + " within " + deadline.toMillis() + " ms"));
            }
        }
    }

    /** Ends every stream (nothing is in flight when the producer closes after its flush). */
    void close() {
        streams.values().forEach(s -> s.requests.onCompleted());
        streams.clear();
    }

    /** One ProduceStream to a node: requests out, answers in order; its callbacks hop to the sender thread. */
    private final class NodeStream implements ClientResponseObserver<ProduceRequest, ProduceResponse> {
        final String node;
        final ArrayDeque<Inflight> inflight = new ArrayDeque<>();
        ClientCallStreamObserver<ProduceRequest> requests;

        NodeStream(String node) {
            this.node = node;
            router.producerStub(node).produceStream(this);
        }

        @Override
        public void beforeStart(ClientCallStreamObserver<ProduceRequest> requestStream) {
            this.requests = requestStream;
        }

        @Override
        public void onNext(ProduceResponse response) {
            onSender(() -> answered(this, response));
        }

        @Override
        public void onError(Throwable t) {
            onSender(() -> broken(this, t));
        }

        @Override
        public void onCompleted() {
            onSender(() -> {
                if (!inflight.isEmpty()) {
                    broken(this, new StrataException(Status.Code.UNAVAILABLE, "the node ended the stream"));
                }
            });
        }

        private void onSender(Runnable task) {
            try {
                thread.execute(task);
            } catch (java.util.concurrent.RejectedExecutionException closed) {
                // the producer is closed: nothing was in flight any more
            }
        }

        void cancel(String why) {
            requests.cancel(why, null);
        }
    }
}
