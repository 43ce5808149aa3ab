package io.strata.fetch;

import io.grpc.Status;
import io.strata.api.v1.PartitionAppend;
import io.strata.api.v1.ProduceRequest;
import io.strata.api.v1.ProduceResponse;
import io.strata.fetch.share.RecordAppender;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * The ingest path as a node's own writers (delayed records, half messages) meet it, scripted the way it answers an
 * idempotent producer: the next sequence is stored, the batch before it is a duplicate, a gap is refused. A test
 * swaps {@link #answer} to lose answers or refuse.
 */
final class ScriptedIngest implements RecordAppender {
    final List<ProduceRequest> requests = new CopyOnWriteArrayList<>();
    /** What the ingest path stored, in order: the values. */
    final List<String> stored = new CopyOnWriteArrayList<>();
    /** Per producer, the next sequence it expects (as the ingest path keeps it). */
    private final Map<Long, Long> sequences = new HashMap<>();
    private final AtomicLong producerIds = new AtomicLong(100);
    volatile Function<ProduceRequest, CompletableFuture<ProduceResponse>> answer = this::store;

    @Override
    public CompletableFuture<Long> newProducerId() {
        return CompletableFuture.completedFuture(producerIds.getAndIncrement());
    }

    @Override
    public CompletableFuture<ProduceResponse> append(ProduceRequest request) {
        requests.add(request);
        return answer.apply(request);
    }

    /** Idempotent as the ingest path: the next sequence is stored, the one before is a duplicate, a gap refused. */
    synchronized CompletableFuture<ProduceResponse> store(ProduceRequest request) {
        var entry = request.getEntries(0);
        long expected = sequences.getOrDefault(request.getProducerId(), 0L);
        PartitionAppend.Builder a = PartitionAppend.newBuilder().setTopic(entry.getTopic())
                .setPartition(entry.getPartition()).setRecordCount(entry.getRecordsCount());
        if (entry.getBaseSequence() == expected) {
            entry.getRecordsList().forEach(r -> stored.add(r.getValue().toStringUtf8()));
            sequences.put(request.getProducerId(), expected + entry.getRecordsCount());
            a.setBaseOffset(stored.size() - entry.getRecordsCount());
        } else if (entry.getBaseSequence() + entry.getRecordsCount() == expected) {
            a.setDuplicate(true).setBaseOffset(0);
        } else {
            return CompletableFuture.failedFuture(Status.FAILED_PRECONDITION.withDescription("gap").asRuntimeException());
        }
        return CompletableFuture.completedFuture(ProduceResponse.newBuilder().addAppends(a).build());
    }
}
