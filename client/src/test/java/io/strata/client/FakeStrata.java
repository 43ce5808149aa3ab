package io.strata.client;

import com.google.protobuf.ByteString;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import io.strata.api.v1.AdminServiceGrpc;
import io.strata.api.v1.ConsumedRecord;
import io.strata.api.v1.CreateTopicRequest;
import io.strata.api.v1.DeleteTopicRequest;
import io.strata.api.v1.DeleteTopicResponse;
import io.strata.api.v1.DescribeTopicRequest;
import io.strata.api.v1.FetchChunksResponse;
import io.strata.api.v1.FetchRequest;
import io.strata.api.v1.RawChunk;
import io.strata.api.v1.FetchResponse;
import io.strata.api.v1.FetchServiceGrpc;
import io.strata.api.v1.ListOffsetsRequest;
import io.strata.api.v1.ListOffsetsResponse;
import io.strata.api.v1.ListTopicsRequest;
import io.strata.api.v1.ListTopicsResponse;
import io.strata.api.v1.OffsetSpec;
import io.strata.api.v1.PartitionAppend;
import io.strata.api.v1.PartitionDescription;
import io.strata.api.v1.ProduceRequest;
import io.strata.api.v1.ProduceResponse;
import io.strata.api.v1.ProducerServiceGrpc;
import io.strata.api.v1.Record;
import io.strata.api.v1.TopicDescription;
import io.strata.api.v1.TopicPartitionRecords;
import io.strata.format.BatchBuilder;
import io.strata.format.BatchCodec;
import io.strata.format.BlockFormat;
import io.strata.format.LogRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An in-process stand-in for a Strata node with just enough behaviour to exercise the client: topics in
 * memory, each partition a list of records, a long-polling Fetch, and hooks to fail or hold Produce calls.
 * It is not the server's logic and proves nothing about it. Thread-safe (one monitor).
 */
public final class FakeStrata implements AutoCloseable {
    private final String name = "fake-strata-" + UUID.randomUUID();
    private final Server server;
    /** A TCP listener on {@link #tcpPort}, while {@link #listen()} is in force; null otherwise. */
    private Server tcp;
    private int tcpPort;
    /**
     * Calls of these full method names ("strata.v1.FetchService/FetchChunks") are answered UNAVAILABLE, as a
     * node without the role they need answers them.
     */
    public final java.util.Set<String> refused = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** Full method names this node answers with the status given, as one that cannot serve them now. */
    public final Map<String, Status> failsWith = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<String, FakeTopic> topics = new LinkedHashMap<>();
    private long nextTopicId = 1;

    /** Every Produce request received, failed ones included, in arrival order. */
    public final List<ProduceRequest> produceRequests = new CopyOnWriteArrayList<>();
    /** Every Fetch request received. */
    public final List<FetchRequest> fetchRequests = new CopyOnWriteArrayList<>();
    public final AtomicInteger describeCalls = new AtomicInteger();
    /** Statuses the next Produce requests fail with, in order; {@code Status.OK} lets one succeed. */
    public final Deque<Status> produceFailures = new ArrayDeque<>();
    /** The node's share service: share fetches and acknowledgements, failing on demand. */
    public final FakeShares shares = new FakeShares(this);
    /** The node's group service: one member at a time, its joins held and its session ended on demand. */
    public final FakeGroups groups = new FakeGroups(this);
    /** Statuses the next Fetch and FetchChunks calls fail with, in order (a node restarting or failing, say). */
    public final Deque<Status> fetchFailures = new java.util.concurrent.ConcurrentLinkedDeque<>();
    /** Statuses the next InitProducer calls fail with, in order (a node that is gone, say). */
    public final Deque<Status> initProducerFailures = new java.util.concurrent.ConcurrentLinkedDeque<>();
    /** When set, Produce calls wait for it before storing anything. */
    public volatile CountDownLatch produceGate;
    /**
     * When set, the next ProduceStream stores what it is sent but answers nothing, and breaks (UNAVAILABLE)
     * 300 ms after its first request: answers lost in a broken connection.
     */
    public volatile boolean nextStreamLosesAnswers;
    /**
     * The next produce request is stored, then the node forgets every producer (as after its expiry) and the
     * stream breaks before the answer.
     */
    public final java.util.concurrent.atomic.AtomicBoolean nextRequestStoredThenProducersForgotten =
            new java.util.concurrent.atomic.AtomicBoolean();
    /** The most batches of one (producer, partition) that were ever stored and not yet answered at once. */
    public final AtomicInteger mostUnansweredBatches = new AtomicInteger();
    /**
     * While set, the TCP listener's call executor refuses work, as a stopping node's does (Vert.x's gRPC server
     * takes its event loops' contexts away before its calls end): the frames of streams open on it, and of new
     * ones, are answered with an HTTP/2 RST_STREAM INTERNAL_ERROR.
     */
    public volatile boolean callsRefusedByTransport;
    /** Call events the executor refused while {@link #callsRefusedByTransport} was set. */
    public final AtomicInteger refusedByTransport = new AtomicInteger();
    private final java.util.concurrent.ExecutorService callThreads = java.util.concurrent.Executors.newCachedThreadPool(
            r -> {
                Thread t = new Thread(r, "fake-strata-call");
                t.setDaemon(true);
                return t;
            });
    /** Streams broken by {@link #nextStreamLosesAnswers}. */
    public final AtomicInteger brokenStreams = new AtomicInteger();
    private final Map<String, Integer> unanswered = new java.util.HashMap<>();
    /** Idempotent producers' state, as a node keeps it: by "producer/topic/partition". */
    private final Map<String, ProducerState> producerStates = new java.util.HashMap<>();

    /** The node's window: a producer's last {@link #WINDOW} batches of a partition are recognised as retries. */
    static final int WINDOW = 5;

    private record Recent(long baseSequence, int count, long baseOffset) {
    }

    private static final class ProducerState {
        long lastSequence = -1;
        final ArrayDeque<Recent> recent = new ArrayDeque<>();
    }

    private static final class FakeTopic {
        final TopicDescription description;
        final List<List<ConsumedRecord>> partitions = new ArrayList<>();
        final long[] logStart;

        FakeTopic(TopicDescription description) {
            this.description = description;
            for (int i = 0; i < description.getPartitions(); i++) {
                partitions.add(new ArrayList<>());
            }
            this.logStart = new long[description.getPartitions()];
        }

        long end(int partition) {
            return partitions.get(partition).size();
        }
    }

    public FakeStrata() {
        try {
            server = services(InProcessServerBuilder.forName(name)).build().start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private <B extends io.grpc.ServerBuilder<B>> B services(B builder) {
        io.grpc.ServerInterceptor refuse = new io.grpc.ServerInterceptor() {
            @Override
            public <Q, R> io.grpc.ServerCall.Listener<Q> interceptCall(io.grpc.ServerCall<Q, R> call,
                    io.grpc.Metadata headers, io.grpc.ServerCallHandler<Q, R> next) {
                if (refused.contains(call.getMethodDescriptor().getFullMethodName())) {
                    call.close(Status.UNAVAILABLE.withDescription("this node does not run the role"),
                            new io.grpc.Metadata());
                    return new io.grpc.ServerCall.Listener<>() {
                    };
                }
                Status failure = failsWith.get(call.getMethodDescriptor().getFullMethodName());
                if (failure != null) {
                    call.close(failure, new io.grpc.Metadata());
                    return new io.grpc.ServerCall.Listener<>() {
                    };
                }
                return next.startCall(call, headers);
            }
        };
        return builder.addService(io.grpc.ServerInterceptors.intercept(new Admin(), refuse))
                .addService(io.grpc.ServerInterceptors.intercept(new Produce(), refuse))
                .addService(io.grpc.ServerInterceptors.intercept(new Fetch(), refuse))
                .addService(io.grpc.ServerInterceptors.intercept(new Cluster(), refuse))
                .addService(io.grpc.ServerInterceptors.intercept(shares, refuse))
                .addService(io.grpc.ServerInterceptors.intercept(groups, refuse));
    }

    /**
     * The cluster this node describes, as "host:port" of nodes running both the ingest and the fetch role; while
     * empty it answers UNIMPLEMENTED, as a node that describes no cluster (clients keep to the addresses given).
     */
    public volatile List<String> cluster = List.of();

    private final class Cluster extends io.strata.api.v1.ClusterServiceGrpc.ClusterServiceImplBase {
        @Override
        public void describeCluster(io.strata.api.v1.DescribeClusterRequest request,
                                    StreamObserver<io.strata.api.v1.ClusterDescription> observer) {
            List<String> nodes = cluster;
            if (nodes.isEmpty()) {
                super.describeCluster(request, observer);
                return;
            }
            io.strata.api.v1.ClusterDescription.Builder out = io.strata.api.v1.ClusterDescription.newBuilder()
                    .setClusterId("fake").setMetadataShards(1).setAnsweredBy(address());
            for (String node : nodes) {
                out.addNodes(io.strata.api.v1.NodeDescription.newBuilder().setNodeId(node).setAddress(node)
                        .addRoles("ingest").addRoles("fetch"));
            }
            observer.onNext(out.build());
            observer.onCompleted();
        }
    }

    /**
     * Serves over TCP on loopback as well, on the port it had before if it listened already (a node that
     * restarts); answers "127.0.0.1:port".
     */
    public synchronized String listen() {
        try {
            tcp = services(io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder.forAddress(
                    new java.net.InetSocketAddress("127.0.0.1", tcpPort))).executor(task -> {
                        if (callsRefusedByTransport) {
                            refusedByTransport.incrementAndGet();
                            throw new java.util.concurrent.RejectedExecutionException("the node is stopping");
                        }
                        callThreads.execute(task);
                    }).build().start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        tcpPort = tcp.getPort();
        return address();
    }

    /** "127.0.0.1:port" of the TCP listener. */
    public synchronized String address() {
        return "127.0.0.1:" + tcpPort;
    }

    /** Stops the TCP listener at once, connections and calls included: the node is killed. */
    public void stopListening() throws InterruptedException {
        Server listening;
        synchronized (this) {
            listening = tcp;
            tcp = null;
        }
        if (listening != null) {
            listening.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    /** A client on this fake; produce retries wait 1-5 ms so that retry tests stay fast. */
    public StrataClient client() {
        return StrataClient.builder().channelBuilder(InProcessChannelBuilder.forName(name))
                .produceRetry(new RetryPolicy(4, Duration.ofMillis(1), Duration.ofMillis(5)))
                .deadline(Duration.ofSeconds(10)).build();
    }

    public String name() {
        return name;
    }

    /** The names of the topics this node holds. */
    public synchronized java.util.Set<String> topicNames() {
        return java.util.Set.copyOf(topics.keySet());
    }

    public synchronized void createTopic(String topic, int partitions) {
        topics.put(topic, new FakeTopic(TopicDescription.newBuilder().setName(topic).setTopicId(nextTopicId++)
                .setPartitions(partitions).setRetentionMs(-1).setRetentionBytes(-1).setCreatedAtMs(1_700_000_000_000L)
                .build()));
    }

    /** Appends records with these values straight into a partition, as if another producer had. */
    public synchronized void append(String topic, int partition, String... values) {
        FakeTopic t = topics.get(topic);
        for (String v : values) {
            List<ConsumedRecord> log = t.partitions.get(partition);
            log.add(ConsumedRecord.newBuilder().setOffset(log.size()).setTimestampMs(1000L * log.size())
                    .setValue(ByteString.copyFromUtf8(v)).build());
        }
        notifyAll();
    }

    /** Forgets every idempotent producer's state, as a node does for producers idle past the expiry. */
    public synchronized void forgetProducers() {
        producerStates.clear();
    }

    /** Moves a partition's log start, as retention would. */
    public synchronized void truncate(String topic, int partition, long logStart) {
        topics.get(topic).logStart[partition] = logStart;
    }

    public synchronized int partitionCount(String topic) {
        return topics.get(topic).partitions.size();
    }

    public synchronized List<String> values(String topic, int partition) {
        return topics.get(topic).partitions.get(partition).stream().map(r -> r.getValue().toStringUtf8()).toList();
    }

    @Override
    public void close() throws InterruptedException {
        stopListening();
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        callThreads.shutdownNow();
    }

    private synchronized FakeTopic topic(String topic) {
        FakeTopic t = topics.get(topic);
        if (t == null) {
            throw Status.NOT_FOUND.withDescription("unknown topic '" + topic + "'").asRuntimeException();
        }
        return t;
    }

    private static <T> void answer(StreamObserver<T> observer, java.util.function.Supplier<T> body) {
        T value;
        try {
            value = body.get();
        } catch (io.grpc.StatusRuntimeException e) {
            observer.onError(e);
            return;
        }
        observer.onNext(value);
        observer.onCompleted();
    }

    private final class Admin extends AdminServiceGrpc.AdminServiceImplBase {
        @Override
        public void createTopic(CreateTopicRequest request, StreamObserver<TopicDescription> observer) {
            answer(observer, () -> {
                synchronized (FakeStrata.this) {
                    if (topics.containsKey(request.getName())) {
                        throw Status.ALREADY_EXISTS.withDescription("topic '" + request.getName() + "' exists")
                                .asRuntimeException();
                    }
                    if (request.getPartitions() <= 0) {
                        throw Status.INVALID_ARGUMENT.withDescription("a topic needs at least one partition")
                                .asRuntimeException();
                    }
                    FakeStrata.this.createTopic(request.getName(), request.getPartitions());
                    return topics.get(request.getName()).description.toBuilder()
                            .setRetentionMs(request.getRetentionMs()).setRetentionBytes(request.getRetentionBytes())
                            .build();
                }
            });
        }

        @Override
        public void deleteTopic(DeleteTopicRequest request, StreamObserver<DeleteTopicResponse> observer) {
            answer(observer, () -> {
                synchronized (FakeStrata.this) {
                    topic(request.getName());
                    topics.remove(request.getName());
                    return DeleteTopicResponse.getDefaultInstance();
                }
            });
        }

        @Override
        public void deleteRecords(io.strata.api.v1.DeleteRecordsRequest request,
                                  StreamObserver<io.strata.api.v1.DeleteRecordsResponse> observer) {
            answer(observer, () -> {
                synchronized (FakeStrata.this) {
                    FakeTopic t = topic(request.getTopic());
                    for (io.strata.api.v1.RecordsBefore r : request.getPartitionsList()) {
                        if (r.getBeforeOffset() > t.end(r.getPartition())) {
                            throw Status.OUT_OF_RANGE.withDescription("offset " + r.getBeforeOffset()
                                    + " is past the end of partition " + r.getPartition()).asRuntimeException();
                        }
                    }
                    var answer = io.strata.api.v1.DeleteRecordsResponse.newBuilder();
                    for (io.strata.api.v1.RecordsBefore r : request.getPartitionsList()) {
                        int p = r.getPartition();
                        long before = r.getBeforeOffset() == -1 ? t.end(p) : r.getBeforeOffset();
                        t.logStart[p] = Math.max(t.logStart[p], before);
                        answer.addPartitions(io.strata.api.v1.PartitionStart.newBuilder().setPartition(p)
                                .setLogStartOffset(t.logStart[p]));
                    }
                    return answer.build();
                }
            });
        }

        @Override
        public void listTopics(ListTopicsRequest request, StreamObserver<ListTopicsResponse> observer) {
            answer(observer, () -> {
                synchronized (FakeStrata.this) {
                    return ListTopicsResponse.newBuilder()
                            .addAllTopics(topics.values().stream().map(t -> t.description).toList()).build();
                }
            });
        }

        @Override
        public void describeTopic(DescribeTopicRequest request, StreamObserver<TopicDescription> observer) {
            describeCalls.incrementAndGet();
            answer(observer, () -> {
                synchronized (FakeStrata.this) {
                    FakeTopic t = topic(request.getName());
                    TopicDescription.Builder d = t.description.toBuilder();
                    for (int p = 0; p < t.partitions.size(); p++) {
                        d.addPartitionDetails(PartitionDescription.newBuilder().setPartition(p)
                                .setLogStartOffset(t.logStart[p]).setEndOffset(t.end(p)));
                    }
                    return d.build();
                }
            });
        }

        @Override
        public void listOffsets(ListOffsetsRequest request, StreamObserver<ListOffsetsResponse> observer) {
            answer(observer, () -> {
                synchronized (FakeStrata.this) {
                    FakeTopic t = topic(request.getTopic());
                    int p = request.getPartition();
                    if (request.hasTimestampMs()) {
                        for (ConsumedRecord r : t.partitions.get(p)) {
                            if (r.getOffset() >= t.logStart[p] && r.getTimestampMs() >= request.getTimestampMs()) {
                                return ListOffsetsResponse.newBuilder().setOffset(r.getOffset())
                                        .setTimestampMs(r.getTimestampMs()).build();
                            }
                        }
                        return ListOffsetsResponse.newBuilder().setOffset(t.end(p)).setTimestampMs(-1).build();
                    }
                    long offset = request.getPosition() == OffsetSpec.OFFSET_SPEC_EARLIEST ? t.logStart[p] : t.end(p);
                    return ListOffsetsResponse.newBuilder().setOffset(offset).setTimestampMs(-1).build();
                }
            });
        }
    }

    private final class Produce extends ProducerServiceGrpc.ProducerServiceImplBase {
        private final AtomicInteger producerIds = new AtomicInteger();

        @Override
        public void initProducer(io.strata.api.v1.InitProducerRequest request,
                                 StreamObserver<io.strata.api.v1.InitProducerResponse> observer) {
            Status failure = initProducerFailures.poll();
            if (failure != null) {
                observer.onError(failure.asRuntimeException());
                return;
            }
            observer.onNext(io.strata.api.v1.InitProducerResponse.newBuilder()
                    .setProducerId(producerIds.incrementAndGet()).setSequenceWindow(WINDOW).build());
            observer.onCompleted();
        }

        @Override
        public void produce(ProduceRequest request, StreamObserver<ProduceResponse> observer) {
            answer(observer, () -> store(request));
        }

        /** Requests answered in order, each with its request id; a failure is that request's error, not the stream's. */
        @Override
        public StreamObserver<ProduceRequest> produceStream(StreamObserver<ProduceResponse> responses) {
            boolean losesAnswers = nextStreamLosesAnswers;
            nextStreamLosesAnswers = false;
            List<ProduceRequest> unansweredHere = new ArrayList<>();
            return new StreamObserver<>() {
                @Override
                public void onNext(ProduceRequest request) {
                    if (nextRequestStoredThenProducersForgotten.getAndSet(false)) {
                        store(request);
                        forgetProducers();
                        synchronized (responses) {
                            responses.onError(Status.UNAVAILABLE.withDescription("connection reset").asRuntimeException());
                        }
                        return;
                    }
                    if (losesAnswers) {
                        storeWithoutAnswer(request, unansweredHere, responses);
                        return;
                    }
                    ProduceResponse response;
                    try {
                        response = store(request).toBuilder().setRequestId(request.getRequestId()).build();
                    } catch (io.grpc.StatusRuntimeException e) {
                        response = ProduceResponse.newBuilder().setRequestId(request.getRequestId())
                                .setError(io.strata.api.v1.ProduceError.newBuilder()
                                        .setCode(e.getStatus().getCode().value())
                                        .setMessage(String.valueOf(e.getStatus().getDescription()))).build();
                    }
                    synchronized (responses) {
                        responses.onNext(response);
                    }
                }

                @Override
                public void onError(Throwable t) {
                }

                @Override
                public void onCompleted() {
                    synchronized (responses) {
                        responses.onCompleted();
                    }
                }
            };
        }

        private void storeWithoutAnswer(ProduceRequest request, List<ProduceRequest> unansweredHere,
                                        StreamObserver<ProduceResponse> responses) {
            try {
                store(request);
            } catch (io.grpc.StatusRuntimeException e) {
                return; // a refusal lost with the rest
            }
            synchronized (FakeStrata.this) {
                for (TopicPartitionRecords entry : request.getEntriesList()) {
                    int now = unanswered.merge(request.getProducerId() + "/" + entry.getTopic() + "/"
                            + entry.getPartition(), 1, Integer::sum);
                    mostUnansweredBatches.accumulateAndGet(now, Math::max);
                }
                unansweredHere.add(request);
                if (unansweredHere.size() > 1) {
                    return;
                }
            }
            java.util.concurrent.CompletableFuture.delayedExecutor(300, TimeUnit.MILLISECONDS).execute(() -> {
                synchronized (FakeStrata.this) {
                    for (ProduceRequest lost : unansweredHere) {
                        for (TopicPartitionRecords entry : lost.getEntriesList()) {
                            unanswered.merge(lost.getProducerId() + "/" + entry.getTopic() + "/"
                                    + entry.getPartition(), -1, Integer::sum);
                        }
                    }
                }
                synchronized (responses) {
                    responses.onError(Status.UNAVAILABLE.withDescription("connection reset").asRuntimeException());
                }
                brokenStreams.incrementAndGet();
            });
        }

        /**
         * Decides an idempotent entry as a node does: null to store it, else what to answer instead — a
         * duplicate's original offset, or a refusal (a gap, or a batch too old to recognise).
         */
        private Object idempotence(long producerId, TopicPartitionRecords entry, int count) {
            ProducerState state = producerStates.get(producerId + "/" + entry.getTopic() + "/" + entry.getPartition());
            if (state == null) {
                return entry.getBaseSequence() == 0 ? null : Status.ABORTED.withDescription("producer "
                        + producerId + " sent sequence " + entry.getBaseSequence() + " to a partition where it has "
                        + "no state: start the producer afresh");
            }
            if (entry.getBaseSequence() == state.lastSequence + 1) {
                return null;
            }
            for (Recent r : state.recent) {
                if (r.baseSequence() == entry.getBaseSequence() && r.count() == count) {
                    return r.baseOffset();
                }
            }
            return entry.getBaseSequence() + count - 1 <= state.lastSequence
                    ? Status.ALREADY_EXISTS.withDescription("sequences stored too long ago to be matched")
                    : Status.FAILED_PRECONDITION.withDescription("sequence gap: expected " + (state.lastSequence + 1));
        }

        private void remember(long producerId, TopicPartitionRecords entry, int count, long baseOffset) {
            ProducerState state = producerStates.computeIfAbsent(producerId + "/" + entry.getTopic() + "/"
                    + entry.getPartition(), k -> new ProducerState());
            state.lastSequence = entry.getBaseSequence() + count - 1;
            state.recent.addLast(new Recent(entry.getBaseSequence(), count, baseOffset));
            while (state.recent.size() > WINDOW) {
                state.recent.removeFirst();
            }
        }

        private ProduceResponse store(ProduceRequest request) {
            produceRequests.add(request);
            CountDownLatch gate = produceGate;
            if (gate != null) {
                try {
                    gate.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            {
                synchronized (FakeStrata.this) {
                    Status failure = produceFailures.poll();
                    if (failure != null && !failure.isOk()) { // OK in the queue: this request succeeds
                        throw failure.asRuntimeException();
                    }
                    ProduceResponse.Builder response = ProduceResponse.newBuilder();
                    for (int i = 0; i < request.getEntriesCount(); i++) {
                        TopicPartitionRecords entry = request.getEntries(i);
                        if (!entry.hasPartition()) {
                            throw Status.INVALID_ARGUMENT.withDescription("this fake needs named partitions")
                                    .asRuntimeException();
                        }
                        List<ConsumedRecord> log = topic(entry.getTopic()).partitions.get(entry.getPartition());
                        long base = log.size();
                        List<Record> records = new ArrayList<>(entry.getRecordsList());
                        if (!entry.getBatch().isEmpty()) {
                            for (LogRecord r : BatchCodec.decode(entry.getBatch().asReadOnlyByteBuffer())) {
                                Record.Builder b = Record.newBuilder().setValue(ByteString.copyFrom(r.value()))
                                        .setTimestampMs(r.timestampMs());
                                if (r.key() != null) {
                                    b.setKey(ByteString.copyFrom(r.key()));
                                }
                                r.headers().forEach(h -> b.addHeaders(io.strata.api.v1.Header.newBuilder()
                                        .setKey(h.key()).setValue(ByteString.copyFrom(h.value()))));
                                records.add(b.build());
                            }
                        }
                        if (request.getProducerId() > 0) {
                            Object decided = idempotence(request.getProducerId(), entry, records.size());
                            PartitionAppend.Builder append = PartitionAppend.newBuilder().setEntryIndex(i)
                                    .setTopic(entry.getTopic()).setPartition(entry.getPartition())
                                    .setRecordCount(records.size());
                            if (decided instanceof Long original) {
                                response.addAppends(append.setBaseOffset(original).setDuplicate(true));
                                continue;
                            }
                            if (decided instanceof Status refused) {
                                response.addAppends(append.setBaseOffset(-1).setError(
                                        io.strata.api.v1.ProduceError.newBuilder().setCode(refused.getCode().value())
                                                .setMessage(refused.getDescription())));
                                continue;
                            }
                            remember(request.getProducerId(), entry, records.size(), base);
                        }
                        for (Record r : records) {
                            ConsumedRecord.Builder stored = ConsumedRecord.newBuilder().setOffset(log.size())
                                    .setTimestampMs(r.getTimestampMs()).setValue(r.getValue())
                                    .addAllHeaders(r.getHeadersList());
                            if (r.hasKey()) {
                                stored.setKey(r.getKey());
                            }
                            log.add(stored.build());
                        }
                        response.addAppends(PartitionAppend.newBuilder().setEntryIndex(i).setTopic(entry.getTopic())
                                .setPartition(entry.getPartition()).setBaseOffset(base)
                                .setRecordCount(records.size()));
                    }
                    FakeStrata.this.notifyAll();
                    return response.build();
                }
            }
        }
    }

    private final class Fetch extends FetchServiceGrpc.FetchServiceImplBase {
        @Override
        public void fetch(FetchRequest request, StreamObserver<FetchResponse> observer) {
            answer(observer, () -> {
                synchronized (FakeStrata.this) {
                    FakeTopic t = topic(request.getTopic());
                    int p = request.getPartition();
                    List<ConsumedRecord> records = await(t, request);
                    return FetchResponse.newBuilder().addAllRecords(records).setNextOffset(t.end(p))
                            .setEndOffset(t.end(p)).setLogStartOffset(t.logStart[p]).build();
                }
            });
        }

        /** Answers the records as one real chunk (one record batch), as a fetch node stores and serves them. */
        @Override
        public void fetchChunks(FetchRequest request, StreamObserver<FetchChunksResponse> observer) {
            answer(observer, () -> {
                synchronized (FakeStrata.this) {
                    FakeTopic t = topic(request.getTopic());
                    int p = request.getPartition();
                    List<ConsumedRecord> records = withinMaxBytes(await(t, request), request.getMaxBytes());
                    FetchChunksResponse.Builder response = FetchChunksResponse.newBuilder()
                            .setNextOffset(request.getOffset() + records.size())
                            .setEndOffset(t.end(p)).setLogStartOffset(t.logStart[p]);
                    if (!records.isEmpty()) {
                        BatchBuilder batch = new BatchBuilder();
                        for (ConsumedRecord r : records) {
                            batch.append(new LogRecord(r.hasKey() ? r.getKey().toByteArray() : null,
                                    r.getValue().toByteArray(), r.getHeadersList().stream().map(h ->
                                    new io.strata.format.RecordHeader(h.getKey(), h.getValue().toByteArray())).toList(),
                                    r.getTimestampMs()));
                        }
                        ByteBuffer data = batch.build(1);
                        response.addChunks(RawChunk.newBuilder().setBaseOffset(request.getOffset())
                                .setRecordCount(records.size()).setStoredRecordCount(records.size())
                                .setUncompressedLength(batch.uncompressedBytes()).setCrc32C(BlockFormat.crc32c(data))
                                .setData(ByteString.copyFrom(data.duplicate())));
                    }
                    return response.build();
                }
            });
        }

        /** As a fetch node: values up to {@code maxBytes} (0: everything), and at least one record. */
        private static List<ConsumedRecord> withinMaxBytes(List<ConsumedRecord> records, int maxBytes) {
            if (maxBytes <= 0) {
                return records;
            }
            int n = 0;
            long bytes = 0;
            while (n < records.size() && (n == 0 || bytes + records.get(n).getValue().size() <= maxBytes)) {
                bytes += records.get(n++).getValue().size();
            }
            return records.subList(0, n);
        }

        /** The records from the request's offset, long-polling at the end; called holding the fake's lock. */
        private List<ConsumedRecord> await(FakeTopic t, FetchRequest request) {
            fetchRequests.add(request);
            Status failure = fetchFailures.poll();
            if (failure != null) {
                throw failure.asRuntimeException();
            }
            int p = request.getPartition();
            long offset = request.getOffset();
            if (offset < t.logStart[p] || offset > t.end(p)) {
                throw Status.OUT_OF_RANGE.withDescription("offset " + offset + " is outside the range")
                        .asRuntimeException();
            }
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(request.getMaxWaitMs());
            while (t.end(p) == offset && System.nanoTime() < until) {
                try {
                    TimeUnit.NANOSECONDS.timedWait(FakeStrata.this, until - System.nanoTime());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            return List.copyOf(t.partitions.get(p).subList((int) offset, (int) t.end(p)));
        }
    }
}
