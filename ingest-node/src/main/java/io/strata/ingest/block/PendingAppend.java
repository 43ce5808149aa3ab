package io.strata.ingest.block;

import io.strata.ingest.AppendResult;
import io.strata.metadata.OffsetRange;
import io.strata.metadata.PartitionId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * One produce call's records inside an open block, waiting for the block's commit to learn their offsets.
 * Each part is a run of consecutive positions in one partition's chunk.
 */
public final class PendingAppend {
    record Part(int entryIndex, String topic, PartitionId partition, int firstPosition, int count) {
    }

    private final List<Part> parts = new ArrayList<>();
    private final CompletableFuture<List<AppendResult>> future = new CompletableFuture<>();

    void add(int entryIndex, String topic, PartitionId partition, int firstPosition, int count) {
        parts.add(new Part(entryIndex, topic, partition, firstPosition, count));
    }

    public CompletableFuture<List<AppendResult>> future() {
        return future;
    }

    /** Completes the call with the offsets its parts got from the block's commit. */
    void complete(Map<PartitionId, OffsetRange> committed) {
        List<AppendResult> results = new ArrayList<>(parts.size());
        for (Part part : parts) {
            OffsetRange range = committed.get(part.partition());
            if (range == null) {
                future.completeExceptionally(new IllegalStateException("commit has no range for " + part.partition()));
                return;
            }
            results.add(new AppendResult(part.entryIndex(), part.topic(), part.partition().partition(),
                    range.baseOffset() + part.firstPosition(), part.count(), range.logAppendTimeMs()));
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
