package io.strata.compaction.plan;

/**
 * A place in a partition's pieces: {@code skipChunks} live chunks into piece {@code piece} (always 0 for a
 * WAL chunk, which is one unit). Ordered as the offsets they stand for.
 */
public record Position(int piece, int skipChunks) implements Comparable<Position> {
    public static final Position START = new Position(0, 0);

    public Position {
        if (piece < 0 || skipChunks < 0) {
            throw new IllegalArgumentException("invalid position " + piece + "+" + skipChunks);
        }
    }

    @Override
    public int compareTo(Position o) {
        return piece != o.piece ? Integer.compare(piece, o.piece) : Integer.compare(skipChunks, o.skipChunks);
    }

    public static Position max(Position a, Position b) {
        return a.compareTo(b) >= 0 ? a : b;
    }
}
