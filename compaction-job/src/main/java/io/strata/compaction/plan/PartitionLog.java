package io.strata.compaction.plan;

import io.strata.metadata.ChunkRef;
import io.strata.metadata.IndexEntry;
import io.strata.metadata.PartitionId;
import io.strata.metadata.ShardSnapshot;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One partition's pieces in a shard snapshot, in offset order and contiguous (each starts where the previous
 * ended), and its log start. Segments come before WAL chunks: compaction merges the oldest WAL chunks first.
 */
public record PartitionLog(PartitionId partition, List<Piece> pieces, long logStart) {
    public PartitionLog {
        pieces = List.copyOf(pieces);
    }

    public long endOffset() {
        return pieces.isEmpty() ? logStart : pieces.get(pieces.size() - 1).endOffset();
    }

    public long storedBytes() {
        return pieces.stream().mapToLong(Piece::storedBytes).sum();
    }

    /** Every partition of the snapshot, by id (in id order, so plans are deterministic). */
    public static Map<PartitionId, PartitionLog> of(ShardSnapshot snapshot) {
        Map<PartitionId, List<Piece>> pieces = new TreeMap<>(Comparator.comparingLong(PartitionId::topicId)
                .thenComparingInt(PartitionId::partition));
        for (IndexEntry e : snapshot.entries()) {
            if (e.isSegment()) {
                pieces.computeIfAbsent(e.segment().partition(), p -> new ArrayList<>())
                        .add(new Piece.Segment(e, e.segment()));
            } else {
                for (ChunkRef c : e.chunks()) {
                    pieces.computeIfAbsent(c.partition(), p -> new ArrayList<>()).add(new Piece.Wal(e, c));
                }
            }
        }
        snapshot.state().logStarts().keySet().forEach(p -> pieces.computeIfAbsent(p, k -> new ArrayList<>()));
        Map<PartitionId, PartitionLog> logs = new TreeMap<>(Comparator.comparingLong(PartitionId::topicId)
                .thenComparingInt(PartitionId::partition));
        pieces.forEach((p, list) -> {
            list.sort(Comparator.comparingLong(Piece::baseOffset));
            logs.put(p, new PartitionLog(p, list, snapshot.state().logStart(p)));
        });
        return logs;
    }

    /** Whether each piece starts where the previous one ended (a swap never leaves it otherwise). */
    public boolean contiguous() {
        for (int i = 1; i < pieces.size(); i++) {
            if (pieces.get(i).baseOffset() != pieces.get(i - 1).endOffset()) {
                return false;
            }
        }
        return true;
    }
}
