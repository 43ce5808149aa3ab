package io.strata.kafka.fetch;

import io.strata.api.v1.FetchRequest;
import io.strata.api.v1.FetchResponse;
import io.strata.kafka.KafkaApi;
import io.strata.kafka.KafkaBackends;
import io.strata.kafka.KafkaErrors;
import io.strata.kafka.KafkaRequest;
import io.strata.kafka.cluster.Broker;
import io.strata.kafka.cluster.Brokers;
import io.strata.kafka.cluster.TopicIds;
import io.strata.metadata.CleanupPolicy;
import io.strata.metadata.Topic;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.MemoryRecords;
import org.apache.kafka.common.protocol.ApiMessage;

/**
 * Fetch, on the fetch role's reads. Every partition is read at once without waiting; when that finds fewer
 * than {@code min_bytes}, the partitions that found nothing are read again, each waiting for its next commit
 * up to what is left of {@code max_wait_ms}, and the answer goes as soon as enough has come or the wait is over.
 * {@code max_bytes} bounds the answer (at least one partition's records always go, as in Kafka), each
 * partition's share its own limit. A node without the fetch role names, per partition, the fetch node that owns
 * it as the preferred read replica (KIP-392): clients read there from then on; so does a fetch node of another
 * zone than the client's ({@code client.rack}, sent as the Fetch's rack id), when the client's zone has one.
 * Clients that ask for an incremental fetch session get one ({@link FetchSessions}).
 */
public final class FetchApi implements KafkaApi {
    private final KafkaBackends backends;
    private final Brokers brokers;
    private final TopicIds topicIds;
    private final Duration maxWait;
    private final FetchSessions sessions = new FetchSessions(MAX_SESSIONS);
    /** Incremental fetch sessions kept per node (Kafka's max.incremental.fetch.session.cache.slots). */
    static final int MAX_SESSIONS = 1000;

    public FetchApi(KafkaBackends backends, Brokers brokers, TopicIds topicIds, Duration maxWait) {
        this.backends = backends;
        this.brokers = brokers;
        this.topicIds = topicIds;
        this.maxWait = maxWait;
    }

    @Override
    public ApiKeys key() {
        return ApiKeys.FETCH;
    }

    @Override
    public short minVersion() {
        return 4;
    }


    /** One requested partition and what was read for it. */
    private static final class Read {
        final Topic topic;
        final FetchRequestData.FetchPartition asked;
        final FetchResponseData.PartitionData answer;
        volatile FetchResponse found;
        /** The most bytes its read may answer. */
        int budget = Integer.MAX_VALUE;
        /** {@code isolation.level=read_committed}: the node stops at the last stable offset, aborted records left out. */
        final boolean readCommitted;

        Read(Topic topic, FetchRequestData.FetchPartition asked, boolean readCommitted) {
            this.topic = topic;
            this.asked = asked;
            this.readCommitted = readCommitted;
            this.answer = new FetchResponseData.PartitionData().setPartitionIndex(asked.partition())
                    .setErrorCode(Errors.NONE.code()).setHighWatermark(-1).setLastStableOffset(-1)
                    .setLogStartOffset(-1).setPreferredReadReplica(-1).setRecords(MemoryRecords.EMPTY);
        }

        boolean open() {
            return answer.errorCode() == Errors.NONE.code() && answer.preferredReadReplica() < 0;
        }

        /** The bytes of the records found (an answer without records counts nothing towards min_bytes). */
        int bytes() {
            return found == null || found.getRecordsCount() == 0 ? 0 : found.getSerializedSize();
        }

        void fail(Errors error) {
            answer.setErrorCode(error.code());
        }
    }

    @Override
    public CompletableFuture<ApiMessage> handle(KafkaRequest request) {
        FetchRequestData data = ((org.apache.kafka.common.requests.FetchRequest) request.body()).data();
        FetchSessions.Opened opened = request.version() >= 7 ? sessions.open(data)
                : new FetchSessions.Opened(null, data.topics(), null, false);
        if (opened.error() != null) {
            return CompletableFuture.completedFuture(new FetchResponseData().setErrorCode(opened.error().code())
                    .setSessionId(0));
        }
        return read(request, data, opened.topics()).thenApply(response -> {
            response.setSessionId(opened.sessionId());
            sessions.answered(opened, response);
            return response;
        });
    }

    /** Reads {@code asked} (the request's partitions, or its session's) into a full answer. */
    private CompletableFuture<FetchResponseData> read(KafkaRequest request, FetchRequestData data,
                                                      List<FetchRequestData.FetchTopic> asked) {
        List<CompletableFuture<Optional<Topic>>> lookups = new ArrayList<>();
        for (FetchRequestData.FetchTopic t : asked) {
            lookups.add(topicIds.resolve(t.topic(), t.topicId(), t.partitions().stream()
                    .mapToInt(FetchRequestData.FetchPartition::partition).max().orElse(-1), backends.topics()));
        }
        return CompletableFuture.allOf(lookups.toArray(CompletableFuture[]::new)).thenCompose(v -> {
            FetchResponseData response = new FetchResponseData().setErrorCode(Errors.NONE.code()).setSessionId(0);
            String rack = data.rackId() != null && !data.rackId().isEmpty() ? data.rackId()
                    : Brokers.rackOfClientId(request.header().clientId());
            List<Read> reads = new ArrayList<>();
            int i = 0;
            for (FetchRequestData.FetchTopic t : asked) {
                Optional<Topic> topic = lookups.get(i++).join();
                FetchResponseData.FetchableTopicResponse topicAnswer = new FetchResponseData.FetchableTopicResponse()
                        .setTopic(t.topic()).setTopicId(t.topicId());
                response.responses().add(topicAnswer);
                for (FetchRequestData.FetchPartition p : t.partitions()) {
                    Read read = new Read(topic.orElse(null), p, data.isolationLevel() == 1);
                    topicAnswer.partitions().add(read.answer);
                    if (topic.isEmpty() || p.partition() < 0 || p.partition() >= topic.get().partitions()) {
                        read.fail(t.topic() == null || t.topic().isEmpty() ? Errors.UNKNOWN_TOPIC_ID
                                : Errors.UNKNOWN_TOPIC_OR_PARTITION);
                    } else {
                        // A node without the fetch role, or a fetch node of another zone than the client's, names
                        // the fetch node the client should read from (KIP-392; clients of version 11 and later).
                        Broker reader = brokers.reader(topic.get().topicId(), p.partition(), rack);
                        boolean elsewhere = reader != null && reader.id() != brokers.self().id()
                                && (backends.fetch() == null || (rack != null && rack.equals(reader.rack())
                                && !rack.equals(brokers.self().rack())));
                        if (elsewhere && request.version() >= 11) {
                            read.answer.setPreferredReadReplica(reader.id());
                        } else if (backends.fetch() == null) {
                            read.fail(Errors.NOT_LEADER_OR_FOLLOWER);
                        } else {
                            reads.add(read);
                        }
                    }
                }
            }
            long waitMs = Math.min(Math.max(0, data.maxWaitMs()), maxWait.toMillis());
            long budget = data.maxBytes() > 0 ? data.maxBytes() : Integer.MAX_VALUE;
            List<Read> read = new ArrayList<>();
            return readInRounds(new java.util.ArrayDeque<>(reads), budget, read).thenCompose(none -> {
                reads.retainAll(read);
                long found = reads.stream().mapToLong(Read::bytes).sum();
                List<Read> empty = reads.stream().filter(r -> r.open() && r.found != null
                        && r.found.getRecordsCount() == 0).toList();
                if (found >= Math.max(1, data.minBytes()) || waitMs == 0 || empty.isEmpty()) {
                    return CompletableFuture.completedFuture(null);
                }
                return waitForAny(empty, waitMs, Math.max(1, data.minBytes()) - found);
            }).thenApply(none -> {
                fill(reads, data.maxBytes() > 0 ? data.maxBytes() : Integer.MAX_VALUE);
                return response;
            });
        });
    }

    /**
     * Reads the partitions in rounds, each round as many as what is left of {@code budget} could hold at their
     * own limits, and what a round found (not what it could have) taken from the budget: a request never holds
     * much more than {@code max_bytes}, and partitions with nothing new cost nothing, so every partition is read
     * unless the ones before it really filled the answer. Partitions left unread are asked for again.
     */
    private CompletableFuture<Void> readInRounds(java.util.ArrayDeque<Read> pending, long budget, List<Read> read) {
        if (pending.isEmpty() || (budget <= 0 && !read.isEmpty())) {
            return CompletableFuture.completedFuture(null);
        }
        List<Read> round = new ArrayList<>();
        long planned = 0;
        while (!pending.isEmpty()) {
            Read r = pending.peekFirst();
            long limit = r.asked.partitionMaxBytes() > 0 ? r.asked.partitionMaxBytes() : Integer.MAX_VALUE;
            long share = Math.min(limit, budget - planned);
            if (share <= 0 && !(round.isEmpty() && read.isEmpty())) {
                break;
            }
            pending.pollFirst();
            r.budget = (int) Math.max(1, Math.min(Integer.MAX_VALUE - 1, share));
            planned += Math.max(0, share);
            round.add(r);
        }
        return readAll(round, 0).thenCompose(v -> {
            read.addAll(round);
            long used = round.stream().mapToLong(Read::bytes).sum();
            return readInRounds(pending, budget - used, read);
        });
    }

    private CompletableFuture<Void> readAll(List<Read> reads, long waitMs) {
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (Read r : reads) {
            all.add(read(r, waitMs).thenAccept(found -> r.found = found));
        }
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new));
    }

    /** Reads the partition; a failure sets its error and answers null (the others go on). */
    private CompletableFuture<FetchResponse> read(Read r, long waitMs) {
        FetchRequest strata = FetchRequest.newBuilder().setTopic(r.topic.name()).setPartition(r.asked.partition())
                .setOffset(r.asked.fetchOffset()).setMaxBytes(r.budget == Integer.MAX_VALUE ? 0 : r.budget)
                .setMaxWaitMs((int) waitMs).setIsolationLevel(r.readCommitted
                        ? io.strata.api.v1.IsolationLevel.ISOLATION_LEVEL_READ_COMMITTED
                        : io.strata.api.v1.IsolationLevel.ISOLATION_LEVEL_READ_UNCOMMITTED).build();
        CompletableFuture<FetchResponse> answer;
        try {
            answer = backends.fetch().fetch(strata);
        } catch (RuntimeException e) {
            answer = CompletableFuture.failedFuture(e);
        }
        return answer.handle((found, failure) -> {
            if (failure != null) {
                if (r.found == null) {
                    r.fail(KafkaErrors.forRead(failure));
                }
                return r.found; // a failed second read keeps what the first found
            }
            return found;
        });
    }

    /** Long-polls the partitions that found nothing; completes once {@code wanted} bytes came or all ended. */
    private CompletableFuture<Void> waitForAny(List<Read> empty, long waitMs, long wanted) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        AtomicInteger left = new AtomicInteger(empty.size());
        AtomicLong came = new AtomicLong();
        for (Read r : empty) {
            read(r, waitMs).whenComplete((found, failure) -> {
                if (found != null && found.getRecordsCount() > 0 && !done.isDone()) {
                    synchronized (r) {
                        r.found = found;
                    }
                    if (came.addAndGet(found.getSerializedSize()) >= wanted) {
                        done.complete(null);
                    }
                }
                if (left.decrementAndGet() == 0) {
                    done.complete(null);
                }
            });
        }
        return done;
    }

    private static void fill(List<Read> reads, int maxBytes) {
        long total = 0;
        for (Read r : reads) {
            FetchResponse found;
            synchronized (r) {
                found = r.found;
            }
            if (found == null || !r.open()) {
                continue;
            }
            // Aborted records are left out on the node, so no aborted transactions are listed: the consumer gets
            // records of committed transactions and of none, as plain batches.
            r.answer.setHighWatermark(found.getEndOffset()).setLastStableOffset(found.getLastStableOffset())
                    .setLogStartOffset(found.getLogStartOffset());
            if (found.getRecordsCount() == 0) {
                if (found.getNextOffset() > r.asked.fetchOffset()) {
                    r.answer.setRecords(KafkaRecords.gap(r.asked.fetchOffset(), found.getNextOffset()));
                }
                continue;
            }
            if (total > 0 && total + found.getSerializedSize() > maxBytes) {
                continue;
            }
            total += found.getSerializedSize();
            boolean compacted = r.topic.cleanupPolicy() != CleanupPolicy.DELETE;
            r.answer.setRecords(KafkaRecords.of(found.getRecordsList(), compacted));
        }
    }

}
