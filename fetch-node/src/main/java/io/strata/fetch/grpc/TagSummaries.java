package io.strata.fetch.grpc;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.strata.metadata.ChunkRef;
import io.strata.queues.filter.RecordFilter;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;

/**
 * Which tags the records of a chunk carry, learned the first time a filtered read decodes the chunk and kept
 * (bounded) for the next: a read whose filter requires tags a chunk holds none of passes over it without
 * decompressing it. Many consumer groups with different tag filters over one topic (RocketMQ's common case)
 * decompress each chunk once between them, not once each. Thread-safe.
 */
final class TagSummaries {
    /** Distinct tags kept per chunk; a chunk with more is summarised as "any" (always decoded). */
    static final int MAX_TAGS = 64;
    private static final long MAX_CHUNKS = 200_000;

    /** The tags a chunk's records carry (null: more than {@link #MAX_TAGS}), and whether some carry none. */
    record Summary(Set<String> tags) {
        /** Whether a record of the chunk may carry one of {@code wanted}. */
        boolean mayHoldAny(Set<String> wanted) {
            if (tags == null) {
                return true;
            }
            for (String t : wanted) {
                if (tags.contains(t)) {
                    return true;
                }
            }
            return false;
        }
    }

    /** Collects a chunk's tags while it is decoded. */
    static final class Builder {
        private Set<String> tags = new HashSet<>();

        void add(String tag) {
            if (tags != null && tag != null && tags.add(tag) && tags.size() > MAX_TAGS) {
                tags = null;
            }
        }

        Summary build() {
            return new Summary(tags == null ? null : Set.copyOf(tags));
        }
    }

    private final Cache<String, Summary> byChunk = Caffeine.newBuilder().maximumSize(MAX_CHUNKS).build();
    private final LongAdder skipped = new LongAdder();

    /** Whether {@code filter} cannot pass any record of the chunk, as far as its summary says. */
    boolean passOver(ChunkRef chunk, RecordFilter filter) {
        Set<String> wanted = filter.requiredTags();
        if (wanted.isEmpty()) {
            return false;
        }
        Summary s = byChunk.getIfPresent(key(chunk));
        if (s == null || s.mayHoldAny(wanted)) {
            return false;
        }
        skipped.increment();
        return true;
    }

    void learned(ChunkRef chunk, Summary summary) {
        byChunk.put(key(chunk), summary);
    }

    /** Chunks filtered reads passed over without decompressing them. */
    long skipped() {
        return skipped.sum();
    }

    private static String key(ChunkRef chunk) {
        return chunk.objectKey() + "#" + chunk.byteOffset();
    }
}
