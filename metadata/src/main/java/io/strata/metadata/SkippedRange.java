package io.strata.metadata;

/**
 * Records of a chunk that got no offsets: an idempotent producer's retry of a batch already stored, or a
 * batch refused for its sequence. They stay in the object (it is immutable) but readers pass over them.
 */
public record SkippedRange(int firstPosition, int count) {
    public SkippedRange {
        if (firstPosition < 0 || count <= 0) {
            throw new IllegalArgumentException("invalid skipped range @" + firstPosition + "+" + count);
        }
    }
}
