package io.strata.ingest.block;

import io.strata.ingest.AppendResult;
import io.strata.metadata.BatchOutcome;
import io.strata.metadata.ChunkCommit;
import io.strata.metadata.PartitionId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * One produce call's records inside an open block, waiting for the block's commit to learn their offsets.
 * Each part is a run of consecutive positions in one partition's chunk; an idempotent part is also the
 * chunk's producer batch number {@code producerBatch}, whose outcome the commit decides.
 */
public final class PendingAppend {
    record Part(int entryIndex, String topic, PartitionId partition, int firstPosition, int count, int producerBatch) {
    }

    private final List<Part> parts = new ArrayList<>();
    private final CompletableFuture<List<AppendResult>> future = new CompletableFuture<>();

    void add(int entryIndex, String topic, PartitionId partition, int firstPosition, int count, int producerBatch) {
        parts.add(new Part(entryIndex, topic, partition, firstPosition, count, producerBatch));
    }

    public CompletableFuture<List<AppendResult>> future() {
        return future;
    }

    /** Completes the call with what the block's commit did with each of its parts. */
    void complete(Map<PartitionId, ChunkCommit> committed) {
        List<AppendResult> results = new ArrayList<>(parts.size());
        for (Part part : parts) {
            ChunkCommit chunk = committed.get(part.partition());
            if (chunk == null) {
                future.completeExceptionally(new IllegalStateException("commit has no answer for " + part.partition()));
                return;
            }
            int p = part.partition().partition();
            if (chunk.refusal() != null) {
                results.add(new AppendResult(part.entryIndex(), part.topic(), p, -1, part.count(),
                        chunk.logAppendTimeMs(), false, new BatchOutcome.Rejected(chunk.refusal().reason(),
                        "topic '" + part.topic() + "' " + chunk.refusal().message())));
                continue;
            }
            if (part.producerBatch() < 0) {
                results.add(new AppendResult(part.entryIndex(), part.topic(), p, chunk.offsetAt(part.firstPosition()),
                        part.count(), chunk.logAppendTimeMs()));
                continue;
            }
            BatchOutcome outcome = chunk.batches().get(part.producerBatch());
            if (outcome instanceof BatchOutcome.Appended a) {
                results.add(new AppendResult(part.entryIndex(), part.topic(), p, a.baseOffset(), part.count(),
                        chunk.logAppendTimeMs()));
            } else if (outcome instanceof BatchOutcome.Duplicate d) {
                results.add(new AppendResult(part.entryIndex(), part.topic(), p, d.baseOffset(), part.count(),
                        chunk.logAppendTimeMs(), true, null));
            } else {
                results.add(new AppendResult(part.entryIndex(), part.topic(), p, -1, part.count(),
                        chunk.logAppendTimeMs(), false, (BatchOutcome.Rejected) outcome));
            }
        }
        future.complete(results);
    }

    /** The results of a call that does not wait for durability: counts without offsets. */
    public List<AppendResult> unacknowledgedResults(long appendTimeMs) {
        return parts.stream().map(p -> new AppendResult(p.entryIndex(), p.topic(), p.partition().partition(), -1,
                p.count(), appendTimeMs)).toList();
    }

    void fail(Throwable cause) {
        future.completeExceptionally(cause);
    }
}
