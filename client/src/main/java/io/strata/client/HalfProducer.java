package io.strata.client;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.strata.api.v1.CheckBackAnswer;
import io.strata.api.v1.CheckBackRequest;
import io.strata.api.v1.HalfCheck;
import io.strata.api.v1.HalfDecision;
import io.strata.api.v1.TransactionServiceGrpc;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A producer of half messages in a producer group (docs/transactions.md, "Half messages with check-back"), as
 * RocketMQ's transactional producer: {@link #send} stores a half message no consumer sees, the application runs its
 * local transaction, then {@link #commit} or {@link #rollback} by the message's id. A half message left undecided
 * (its producer died, or lost the answer) is asked about: the cluster sends a check to a live producer of the same
 * group, whose {@link CheckBackListener} answers from the application's own records. The producer keeps one
 * check-back stream open to a node of the cluster, opened again at another when it breaks.
 *
 * <p>Thread-safe. Closing it closes its producer and its stream.
 */
public final class HalfProducer implements AutoCloseable {
    private static final long REOPEN_MS = 1_000;

    private final String group;
    private final Producer producer;
    private final Transactions transactions;
    private final NodeRouter router;
    private final CheckBackListener listener;
    private final ScheduledExecutorService thread;
    private StreamObserver<CheckBackRequest> stream; // guarded by this
    private volatile boolean closed;
    private volatile StrataException refused;

    HalfProducer(String group, Producer producer, Transactions transactions, NodeRouter router,
                 CheckBackListener listener) {
        String problem = io.strata.format.HalfMessages.groupProblem(group);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        this.group = group;
        this.producer = producer;
        this.transactions = transactions;
        this.router = router;
        this.listener = listener;
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "strata-check-back-" + group);
            t.setDaemon(true);
            return t;
        });
        if (listener != null) {
            thread.execute(this::open);
        }
    }

    public String group() {
        return group;
    }

    /**
     * Why the cluster refused this producer's check-back stream (it may not produce as the group, say), if it did:
     * it is then never asked, and its group's undecided half messages are checked with other producers only.
     */
    public java.util.Optional<StrataException> checkBackRefused() {
        return java.util.Optional.ofNullable(refused);
    }

    /**
     * Sends a half message; completes with its id once it is stored (durable), or fails as {@link Producer#send}
     * does. {@code partition} null: the key's partition, or a random one for a null key.
     */
    public CompletableFuture<String> send(String topic, Integer partition, byte[] key, byte[] value,
                                          List<RecordHeader> headers) {
        return producer.sendHalf(topic, partition, key, value, headers, group).thenApply(RecordMetadata::halfId);
    }

    /** Commits a half message: it is appended to its partition (soon after, by the node that owns it). */
    public Transactions.HalfMessage commit(String id) {
        return transactions.endHalf(id, true);
    }

    /** Rolls a half message back: no consumer ever sees it. */
    public Transactions.HalfMessage rollback(String id) {
        return transactions.endHalf(id, false);
    }

    /** Opens the check-back stream at the home node; a broken one is opened again a second later. */
    private void open() {
        if (closed) {
            return;
        }
        String node = router.home();
        StreamObserver<CheckBackRequest> requests;
        try {
            requests = TransactionServiceGrpc.newStub(router.channelTo(node)).checkBack(new StreamObserver<>() {
                @Override
                public void onNext(HalfCheck check) {
                    thread.execute(() -> answer(check));
                }

                @Override
                public void onError(Throwable t) {
                    Status.Code code = Status.fromThrowable(t).getCode();
                    if (code == Status.Code.UNAVAILABLE) {
                        router.markDown(node);
                    }
                    if (code == Status.Code.PERMISSION_DENIED || code == Status.Code.UNAUTHENTICATED
                            || code == Status.Code.INVALID_ARGUMENT) {
                        refused = StrataException.from(t); // asking again would be refused again
                        return;
                    }
                    reopenLater();
                }

                @Override
                public void onCompleted() {
                    reopenLater();
                }
            });
        } catch (RuntimeException e) {
            reopenLater();
            return;
        }
        synchronized (this) {
            stream = requests;
            requests.onNext(CheckBackRequest.newBuilder().setProducerGroup(group).build());
        }
    }

    private void reopenLater() {
        synchronized (this) {
            stream = null;
        }
        if (!closed) {
            try {
                thread.schedule(this::open, REOPEN_MS, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException stopping) {
                // closed
            }
        }
    }

    private void answer(HalfCheck check) {
        CheckBackListener.Decision decision;
        try {
            List<RecordHeader> headers = check.getRecord().getHeadersList().stream()
                    .map(h -> new RecordHeader(h.getKey(), h.getValue().toByteArray())).toList();
            decision = listener.check(new CheckBackListener.Check(check.getId(), check.getTopic(), check.getPartition(),
                    check.getRecord().hasKey() ? check.getRecord().getKey().toByteArray() : null,
                    check.getRecord().getValue().toByteArray(), headers, check.getChecks()));
        } catch (RuntimeException e) {
            decision = CheckBackListener.Decision.UNKNOWN; // asked again at the next check
        }
        HalfDecision answer = switch (decision == null ? CheckBackListener.Decision.UNKNOWN : decision) {
            case COMMIT -> HalfDecision.HALF_DECISION_COMMIT;
            case ROLLBACK -> HalfDecision.HALF_DECISION_ROLLBACK;
            case UNKNOWN -> HalfDecision.HALF_DECISION_UNKNOWN;
        };
        synchronized (this) {
            if (stream != null) {
                try {
                    stream.onNext(CheckBackRequest.newBuilder().setAnswer(CheckBackAnswer.newBuilder()
                            .setCheckId(check.getCheckId()).setDecision(answer)).build());
                } catch (RuntimeException e) {
                    // the stream broke meanwhile: the check is asked again later
                }
            }
        }
    }

    /** Sends what is buffered, ends the check-back stream and closes the producer. */
    @Override
    public void close() {
        closed = true;
        try {
            producer.flush();
        } finally {
            synchronized (this) {
                if (stream != null) {
                    try {
                        stream.onCompleted();
                    } catch (RuntimeException ignored) {
                        // already broken
                    }
                    stream = null;
                }
            }
            thread.shutdownNow();
            producer.close();
        }
    }
}
