package io.strata.client;

import io.strata.format.LogRecord;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Sends records in batches: a partition's records wait up to the linger for company, then go as record
 * batches the producer encodes and compresses itself (so a node stores them without compressing again),
 * together with the other partitions' ready batches, on one ProduceStream per ingest node with durable acks.
 * Every batch names its partition, chosen here (the key's murmur2 hash, or a sticky partition for records
 * without key), so each record's offset is known from its batch's base offset. Several requests are
 * pipelined per node ({@link ProducerConfig#maxInFlightRequests()}), and a partition's records are stored
 * in send order even across retries ({@link Sender} says how).
 *
 * <p>Idempotence (on by default): the producer takes an id from InitProducer and numbers each partition's
 * records, so a batch retried after a lost answer is stored once.
 *
 * <p>Thread-safe. It owns one thread, "strata-producer-N", which fires linger timers, compresses batches,
 * sends requests and settles their answers; record futures are completed on it, so callbacks on them should
 * not block. Made and closed by {@link StrataClient}, or closed earlier by its user.
 */
public final class Producer implements AutoCloseable {
    private static final AtomicInteger IDS = new AtomicInteger();

    private final PartitionCounts partitionCounts;
    private final ProducerConfig config;
    private final Duration deadline;
    private final RecordAccumulator accumulator;
    private final Semaphore buffer;
    private final ScheduledExecutorService thread;
    private final Sender sender;
    /** A transactional producer's transactions; null for any other producer. */
    private final ProducerTransaction txn;
    /** Tells the client that made this producer that it no longer needs closing. */
    private final java.util.function.Consumer<Producer> onClose;
    private volatile boolean closed;
    /** The settlement of the last pipelined commit (commitTransactionAsync): the next one's waits for it. */
    private CompletableFuture<Void> settledBefore = CompletableFuture.completedFuture(null);
    private java.util.concurrent.ExecutorService settler;
    /** Set while a wake-up of the sender is queued and has not started (see {@link #wakeSender}). */
    private final AtomicBoolean wakePending = new AtomicBoolean();

    Producer(NodeRouter router, Admin admin, ProducerConfig config, Duration deadline,
             java.util.function.Consumer<Producer> onClose) {
        this(router, admin, config, deadline, onClose, null);
    }

    /** @param txn a transactional producer's transactions (initialised already); null for any other producer */
    Producer(NodeRouter router, Admin admin, ProducerConfig config, Duration deadline,
             java.util.function.Consumer<Producer> onClose, ProducerTransaction txn) {
        this.txn = txn;
        this.partitionCounts = new PartitionCounts(admin);
        this.config = config;
        this.deadline = deadline;
        this.accumulator = new RecordAccumulator(config);
        this.buffer = new Semaphore(config.bufferBytes());
        this.onClose = onClose;
        String name = "strata-producer-" + IDS.incrementAndGet();
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
        this.sender = new Sender(thread, accumulator, router, partitionCounts, config, deadline, buffer, txn);
    }

    /**
     * Begins a transaction (a transactional producer only: {@link StrataClient#transactionalProducer}). Every
     * record sent until {@link #commitTransaction} or {@link #abortTransaction} belongs to it, whatever its topic
     * and partition: read-committed consumers see all of them once it commits, or none.
     */
    public void beginTransaction() {
        ProducerTransaction t = transactional();
        // At most one transaction's commit is out while the next is open (commitTransactionAsync); none when a
        // new producer epoch is owed, which would fence it.
        t.awaitPipelined(t.newEpochOwed ? 0 : 1, deadline);
        if (t.newEpochOwed) {
            t.awaitPipelined(0, deadline);
            takeNewEpoch(t); // the last attempt after a failed transaction did not get through
        }
        t.begin();
    }

    /** A new producer epoch for the transactional id, and sequences from 0 under it. */
    private void takeNewEpoch(ProducerTransaction t) {
        t.newEpochOwed = true;
        t.init();
        try {
            thread.submit(() -> sender.newProducerEpoch(t.producerId())).get(deadline.toMillis(),
                    TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            throw new StrataException(io.grpc.Status.Code.INTERNAL, "the producer's thread did not take the new "
                    + "producer epoch: " + e);
        }
        t.newEpochOwed = false;
    }

    /**
     * Sends what is buffered, waits for every record of the transaction to be stored, and commits it: its records
     * become visible to read-committed consumers, all at once. Fails (the transaction still open: abort it) when
     * a record of it failed; fails FAILED_PRECONDITION "producer fenced" when a newer producer of the transactional
     * id took over or the cluster aborted the transaction past its timeout (this producer is done: close it).
     */
    public void commitTransaction() {
        ProducerTransaction t = transactional();
        t.awaitPipelined(0, deadline); // a commit asked for after one still out waits for it, as it always has
        // Where the flush sends everything left in one request, that request carries the commit: no round trip
        // after it. Otherwise (or when its answer did not say committed) the commit is asked for on its own, which
        // answers a commit that went through as it stands.
        t.ending = true;
        try {
            sender.carryCommit();
            commitWaiting(t);
        } finally {
            t.ending = false;
        }
    }

    /**
     * Sends what is left of the open transaction, a request carrying its commit where the sender lets it, waits for
     * every record, and ends the transaction committed: by that request's answer, or by asking for the commit.
     */
    private void commitWaiting(ProducerTransaction t) {
        boolean carried;
        try {
            flush();
        } finally {
            carried = sender.endCarry();
        }
        t.end(true, carried);
    }

    /**
     * Commits the open transaction without waiting for the answer, so that the next one can begin at once: the
     * producer's transactions travel one behind the other, as an idempotent producer's batches do, and each node
     * stores one of them per block instead of one every other block (docs/transactions.md, "Pipelined
     * transactions"). Sends what is buffered; where everything the transaction has left goes in one request to one
     * node, that request carries the commit and this returns at once, else it waits as {@link #commitTransaction}
     * does. {@link #beginTransaction} then waits only while two commits are out.
     *
     * <p>The future completes when the transaction is committed: every record of it stored and the commit with
     * them. It fails when it was not committed (then nothing of it is read committed: the producer aborted it by its
     * epoch before answering) or when a record of it failed; and then the transaction begun after it fails too,
     * since it stood on this one: abort that one ({@link #abortTransaction}), then go on. Fails FAILED_PRECONDITION
     * "producer fenced" as {@link #commitTransaction} does. When the node's answer was lost and the cluster could
     * not be asked either, it fails UNAVAILABLE "whether the transaction committed is unknown": the producer's next
     * epoch fences it, after which it can be read back. Not with {@link #sendOffsetsToTransaction}, which waits for
     * every commit out.
     *
     * <p>The future completes on the producer's sending thread: a callback on it must not call the producer's
     * methods that wait (begin, commit, abort, flush, close); hand such work to a thread of your own.
     */
    public CompletableFuture<Void> commitTransactionAsync() {
        ProducerTransaction t = transactional();
        if (!t.begun()) {
            throw new IllegalStateException("no transaction is open: call beginTransaction first");
        }
        long sequence = t.sequence();
        LastRequest last;
        ProducerTransaction.Pipelined pipelined;
        t.ending = true;
        try {
            sender.carryCommit(true);
            try {
                last = sendLastRequest(sequence);
            } catch (InterruptedException e) {
                abandonCarry(sequence);
                Thread.currentThread().interrupt();
                throw new StrataException(io.grpc.Status.Code.CANCELLED, "interrupted while committing");
            } catch (StrataException e) {
                abandonCarry(sequence);
                throw e;
            }
            if (last.carried() == null || t.hasFailed()) {
                // Not one request to one node (or a record of it failed already): committed as commitTransaction
                // does it, waiting here.
                waitedFor(sequence);
                commitWaiting(t);
                return CompletableFuture.completedFuture(null);
            }
            sender.endCarry();
            pipelined = t.pipelined();
        } finally {
            t.ending = false;
        }
        CompletableFuture<Boolean> outcome = CompletableFuture.allOf(last.records().toArray(CompletableFuture[]::new))
                .thenCombine(last.carried(), (v, committed) -> committed);
        // Settled in the order they were sent: a transaction is decided only once the one it stood on is, so that an
        // abort by its epoch, when it has to be aborted, always finds it the producer's next one.
        CompletableFuture<Void> settled = settledBefore.handle((v, e) -> null).thenCompose(v -> outcome.handle(
                (committed, failure) -> {
                    if (failure == null && Boolean.TRUE.equals(committed)) {
                        settledAs(t, pipelined, null);
                        return CompletableFuture.<Void>completedFuture(null);
                    }
                    return settle(t, pipelined, failure);
                }).thenCompose(f -> f));
        settledBefore = settled;
        return settled;
    }

    /**
     * What the last send of a pipelined commit left: the futures of the transaction's records, and of the answer of
     * the request that carried its commit (null: no request carried it).
     */
    private record LastRequest(List<CompletableFuture<Void>> records, CompletableFuture<Boolean> carried) {
    }

    /** Sends what is buffered, on the producer's thread, the transaction's commit carried where one request can. */
    private LastRequest sendLastRequest(long sequence) throws InterruptedException {
        List<CompletableFuture<Void>> records = accumulator.beginFlush();
        try {
            return new LastRequest(records, thread.submit(() -> {
                sender.sendReady();
                return sender.carriedAnswer(sequence);
            }).get(deadline.toMillis(), TimeUnit.MILLISECONDS));
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new StrataException(io.grpc.Status.Code.INTERNAL, "the producer's thread did not send the "
                    + "transaction's last records: " + e);
        } finally {
            accumulator.endFlush();
            sender.carryCommit(false); // a request that carries it from now on is waited for
        }
    }

    /** The commit is carried no further, and one a request already carried is waited for after all. */
    private void abandonCarry(long sequence) {
        sender.endCarry();
        waitedFor(sequence);
    }

    /** The commit of transaction {@code sequence}, if a request carried it, is waited for after all. */
    private void waitedFor(long sequence) {
        try {
            thread.submit(() -> sender.waitedFor(sequence)).get(deadline.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            // the producer is closing: nothing of a later transaction will be sent
        }
    }

    /** A pipelined commit's outcome is known: the transaction and the sender learn it. */
    private void settledAs(ProducerTransaction t, ProducerTransaction.Pipelined p, StrataException failure) {
        t.pipelinedEnded(p, failure);
        try {
            thread.execute(() -> sender.commitSettled(p.sequence(), failure));
        } catch (RejectedExecutionException closed) {
            // the producer is closed: nothing of a later transaction waits to be sent
        }
    }

    /**
     * A pipelined commit not answered committed: settled on the producer's settling thread (it asks the cluster,
     * which the sender thread that answered must not wait for), by aborting the transaction by its epoch. An abort
     * that cannot reach the cluster is tried again, then reported as an unknown outcome: the transaction may still
     * land until the producer's next epoch, which it takes before its next transaction, fences it.
     */
    private CompletableFuture<Void> settle(ProducerTransaction t, ProducerTransaction.Pipelined p, Throwable failure) {
        Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
        StrataException answered = cause == null ? new StrataException(io.grpc.Status.Code.FAILED_PRECONDITION,
                "its request's answer did not say committed") : StrataException.from(cause);
        java.util.function.Supplier<Void> settling = () -> {
            StrataException why = answered;
            boolean unknown = false;
            for (int attempt = 0; ; attempt++) {
                try {
                    ProducerTransaction.Settled found = t.settle(p);
                    if (found == ProducerTransaction.Settled.COMMITTED) {
                        settledAs(t, p, null);
                        return null;
                    }
                    if (found == ProducerTransaction.Settled.UNKNOWN) {
                        unknown = true;
                        why = new StrataException(answered.code(), "whether the transaction committed is unknown: "
                                + answered.description() + ", and the transactional id's record has moved past it "
                                + "(a newer producer of the id, or a later transaction): read it back", answered.reason());
                    }
                    break;
                } catch (RuntimeException raw) {
                    StrataException e = StrataException.from(raw);
                    boolean unreachable = e.code() == io.grpc.Status.Code.UNAVAILABLE
                            || e.code() == io.grpc.Status.Code.DEADLINE_EXCEEDED;
                    if (unreachable && attempt < 2) {
                        sleepQuietly(200L << attempt);
                        continue;
                    }
                    unknown = unreachable;
                    why = unreachable ? new StrataException(io.grpc.Status.Code.UNAVAILABLE, "whether the transaction "
                            + "committed is unknown: " + answered.description() + ", and its abort could not reach the "
                            + "cluster (" + e.description() + "); the producer's next epoch, taken before its next "
                            + "transaction, fences it: read it back then") : e;
                    break;
                }
            }
            settledAs(t, p, why);
            throw new StrataException(why.code(), unknown ? why.description() : "the transaction was not committed ("
                    + why.description() + "); the transaction begun after it fails too: abort it", why.reason());
        };
        try {
            return CompletableFuture.supplyAsync(settling, settling());
        } catch (RejectedExecutionException closed) {
            StrataException why = new StrataException(io.grpc.Status.Code.UNAVAILABLE, "whether the transaction "
                    + "committed is unknown: " + answered.description() + ", and the producer was closed before it "
                    + "could ask the cluster", answered.reason());
            settledAs(t, p, why);
            return CompletableFuture.failedFuture(why);
        }
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The thread that settles pipelined commits not answered committed, one at a time; made on first use. */
    private synchronized java.util.concurrent.ExecutorService settling() {
        if (settler == null) {
            settler = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "strata-commit-settle");
                t.setDaemon(true);
                return t;
            });
        }
        return settler;
    }

    /**
     * Commits {@code consumer}'s group positions with the open transaction (Kafka's sendOffsetsToTransaction): the
     * offsets of the partitions given, as the next records the group reads there. Consume, transform and produce
     * inside a transaction, then commit it: the output and the input's positions are written together or not at
     * all, so each input record's output is stored exactly once across crashes. The consumer is a group member
     * (with auto-commit off and read-committed reads, to chain pipelines); the commit aborts the transaction
     * instead when the member lost a partition meanwhile (FAILED_PRECONDITION: its successor reads it again).
     */
    public void sendOffsetsToTransaction(Consumer consumer, java.util.Map<Integer, Long> offsets) {
        ProducerTransaction t = transactional();
        t.awaitPipelined(0, deadline); // the positions are added to a transaction begun on its own, after the last
        Consumer.TransactionPositions positions;
        try {
            positions = consumer.transactionPositions(offsets);
        } catch (IllegalStateException notOwned) {
            t.failed(new StrataException(io.grpc.Status.Code.FAILED_PRECONDITION, notOwned.getMessage()));
            throw notOwned;
        }
        t.addOffsets(positions);
    }

    /**
     * Sends what is buffered, waits for it, and aborts the transaction: none of its records is ever read committed.
     * Fails FAILED_PRECONDITION "the transaction was committed before the abort reached it" when a commit that
     * {@link #commitTransaction} reported as failed (its answer lost) went through after all.
     */
    public void abortTransaction() {
        ProducerTransaction t = transactional();
        t.awaitPipelined(0, deadline); // the commits out first: whether this one stood on them is known then
        t.ending = true;
        try {
            flush();
            if (t.end(false)) {
                // A batch of it failed: its sequences are broken. A new producer epoch numbers them from 0 again.
                takeNewEpoch(t);
            }
        } finally {
            t.ending = false;
        }
    }

    private ProducerTransaction transactional() {
        if (txn == null) {
            throw new IllegalStateException("not a transactional producer: make one with "
                    + "StrataClient.transactionalProducer");
        }
        return txn;
    }

    public CompletableFuture<RecordMetadata> send(String topic, Integer partition, byte[] key, byte[] value) {
        return send(topic, partition, key, value, List.of(), 0);
    }

    /**
     * Buffers one record. {@code partition} null: the key's partition, or for a null key a sticky one; the
     * first send to a topic without a partition blocks to learn the topic's partition count. Blocks while
     * {@link ProducerConfig#bufferBytes()} are taken. {@code timestampMs} 0: now.
     *
     * @return completes with where the record was stored, or fails with a {@link StrataException}
     *         (or IllegalArgumentException / IllegalStateException for a bad argument or a closed producer)
     */
    public CompletableFuture<RecordMetadata> send(String topic, Integer partition, byte[] key, byte[] value,
                                                  List<RecordHeader> headers, long timestampMs) {
        return send(topic, partition, key, value, headers, timestampMs, 0);
    }

    /**
     * Buffers one record for delayed delivery (docs/queues.md, "Delayed delivery"): it is stored now, durably, and
     * appended to its partition at {@code deliverAtMs} (epoch milliseconds, at most a year and a day ahead; a time
     * past means at once), when it gets its offset: the answer's offset is -1. No consumer sees it before. Keyed
     * as {@link #send}; an unkeyed record without a partition goes to a random one.
     */
    public CompletableFuture<RecordMetadata> sendDelayed(String topic, Integer partition, byte[] key, byte[] value,
                                                         List<RecordHeader> headers, long deliverAtMs) {
        if (deliverAtMs <= 0) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("a delivery time is epoch milliseconds, "
                    + "got " + deliverAtMs));
        }
        // Refused here rather than by the node, which would refuse the whole request and the records beside it.
        String problem = io.strata.format.DeliverAt.problem(deliverAtMs, System.currentTimeMillis());
        if (problem != null) {
            return CompletableFuture.failedFuture(new IllegalArgumentException(problem));
        }
        return send(topic, partition, key, value, headers, 0, deliverAtMs, null);
    }

    /**
     * Buffers one half message of producer group {@code group} (docs/transactions.md, "Half messages with
     * check-back"): stored now, durably, seen by no consumer until committed by its id ({@link RecordMetadata#halfId},
     * the answer's offset is -1), then appended to its partition; dropped when rolled back. Keyed as {@link #send};
     * an unkeyed one without a partition goes to a random one. {@link HalfProducer} sends these and answers checks.
     */
    public CompletableFuture<RecordMetadata> sendHalf(String topic, Integer partition, byte[] key, byte[] value,
                                                      List<RecordHeader> headers, String group) {
        String problem = io.strata.format.HalfMessages.groupProblem(group);
        if (problem != null) {
            return CompletableFuture.failedFuture(new IllegalArgumentException(problem));
        }
        return send(topic, partition, key, value, headers, 0, 0, group);
    }

    private CompletableFuture<RecordMetadata> send(String topic, Integer partition, byte[] key, byte[] value,
                                                   List<RecordHeader> headers, long timestampMs, long deliverAtMs) {
        return send(topic, partition, key, value, headers, timestampMs, deliverAtMs, null);
    }

    private CompletableFuture<RecordMetadata> send(String topic, Integer partition, byte[] key, byte[] value,
                                                   List<RecordHeader> headers, long timestampMs, long deliverAtMs,
                                                   String halfGroup) {
        CompletableFuture<RecordMetadata> result = new CompletableFuture<>();
        try {
            if (closed) {
                throw new IllegalStateException("the producer is closed");
            }
            if (txn != null && !txn.begun()) {
                throw new IllegalStateException("a transactional producer sends inside a transaction: call "
                        + "beginTransaction first");
            }
            if (txn != null && txn.ending) {
                // As Kafka's producer: a record sent while its transaction is committed or aborted is in neither.
                throw new IllegalStateException("the transaction is being committed or aborted: send in the next "
                        + "one, once it has ended");
            }
            if (txn != null && (deliverAtMs != 0 || halfGroup != null)) {
                throw new IllegalArgumentException("delayed records and half messages are not sent in transactions");
            }
            if (topic == null || topic.isEmpty() || timestampMs < 0
                    || (partition != null && (partition < 0 || partition >= io.strata.format.HalfMessages.HALF_BIT))) {
                throw new IllegalArgumentException("a record needs a topic, a partition >= 0 and a timestamp >= 0, got '"
                        + topic + "', " + partition + " and " + timestampMs);
            }
            List<io.strata.format.RecordHeader> recordHeaders = new java.util.ArrayList<>(headers.size() + 1);
            headers.forEach(h -> recordHeaders.add(new io.strata.format.RecordHeader(h.key(), h.value())));
            if (deliverAtMs > 0) {
                recordHeaders.add(io.strata.format.DeliverAt.header(deliverAtMs));
            }
            if (halfGroup != null) {
                recordHeaders.add(io.strata.format.HalfMessages.groupHeader(halfGroup));
            }
            LogRecord record = new LogRecord(key, Objects.requireNonNull(value, "value"), recordHeaders,
                    timestampMs == 0 ? System.currentTimeMillis() : timestampMs);
            int target;
            int partitionCount = 0;
            if (partition != null) {
                target = partition;
            } else {
                partitionCount = partitionCounts.of(topic);
                target = key != null ? KeyPartitioner.partition(key, partitionCount)
                        : deliverAtMs > 0 || halfGroup != null
                        ? java.util.concurrent.ThreadLocalRandom.current().nextInt(partitionCount)
                        : RecordAccumulator.STICKY;
            }
            if (deliverAtMs > 0) {
                // Its own queue, and its own sequences: the staging partition's (DeliverAt.STAGING_BIT).
                target |= io.strata.format.DeliverAt.STAGING_BIT;
            } else if (halfGroup != null) {
                target = io.strata.format.HalfMessages.log(target); // its own queue and sequences: the half log's
            }
            int size = record.encodedSizeUpperBound();
            if (size > config.maxRequestBytes()) {
                // Sent, it would make a message the node refuses before reading it, breaking the stream for
                // every request on it, again at every retry.
                throw new StrataException(io.grpc.Status.Code.INVALID_ARGUMENT, "a record of " + size
                        + " bytes is larger than a request may be (" + config.maxRequestBytes() + " bytes)");
            }
            // A record larger than the whole buffer takes all of it rather than waiting forever.
            int permits = Math.min(size, config.bufferBytes());
            buffer.acquire(permits);
            RecordAccumulator.Appended appended =
                    accumulator.append(topic, target, partitionCount, record, size, permits, result);
            boolean ready = appended.ready();
            ProducerBatch created = appended.created();
            if (created != null && !created.lingered) {
                try {
                    thread.schedule(() -> onLingerExpired(created), config.linger().toNanos(), TimeUnit.NANOSECONDS);
                } catch (RejectedExecutionException e) {
                    // Closed while this send was under way: the record is buffered already, so it goes now.
                    accumulator.lingerExpired(created);
                    ready = true;
                }
            }
            if (ready) {
                wakeSender();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            result.completeExceptionally(e);
        } catch (RuntimeException e) {
            result.completeExceptionally(e);
        }
        return result;
    }

    /**
     * Sends everything buffered now and waits until every record sent before this call is answered (its
     * future completed). Not to be called from a callback of a record's future, which would wait for itself.
     */
    public void flush() {
        List<CompletableFuture<Void>> pending = accumulator.beginFlush();
        try {
            wakeSender();
            CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).join();
        } finally {
            accumulator.endFlush();
        }
    }

    /** Refuses new records, waits until every buffered record is answered, and stops the sender thread. */
    @Override
    public void close() {
        closed = true;
        try {
            flush();
        } finally {
            if (txn != null) {
                try {
                    txn.awaitPipelined(0, deadline); // the commits still out are settled before the thread stops
                } catch (StrataException notSettled) {
                    // their futures fail on their own
                }
            }
            synchronized (this) {
                if (settler != null) {
                    settler.shutdown();
                }
            }
            try {
                thread.submit(sender::close).get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                // the streams are cut when the channel shuts down
            }
            thread.shutdownNow();
            onClose.accept(this);
        }
    }

    private void onLingerExpired(ProducerBatch batch) {
        accumulator.lingerExpired(batch);
        sender.sendReady();
    }

    /**
     * Asks the sender thread to send what is ready, once however many sends ask before it gets to it: at
     * full speed every send finds a ready batch waiting for room, and a task per send would bury the linger
     * timers under hundreds of thousands of redundant scans a second.
     */
    private void wakeSender() {
        if (!wakePending.compareAndSet(false, true)) {
            return;
        }
        try {
            thread.execute(() -> {
                wakePending.set(false);
                sender.sendReady();
            });
        } catch (RejectedExecutionException e) {
            // closed: close() flushed everything before stopping the thread
            wakePending.set(false);
        }
    }
}
