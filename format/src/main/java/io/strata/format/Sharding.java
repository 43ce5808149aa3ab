package io.strata.format;

import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * Stable hashes that nodes and clients must agree on. {@link #shardOf} is part of the stored format: it
 * says which metadata shard head holds a partition, so it never changes. {@link #rank} is how clients and
 * nodes pick a partition's preferred node among the live ones (rendezvous hashing: a node joining or
 * leaving moves only its own share).
 */
public final class Sharding {
    private Sharding() {
    }

    /** The metadata shard of (topic id, partition) among {@code shards}. */
    public static int shardOf(long topicId, int partition, int shards) {
        return (int) Math.floorMod(partitionKey(topicId, partition), (long) shards);
    }

    /** A well-mixed 64-bit key of (topic id, partition), for ranking nodes per partition. */
    public static long partitionKey(long topicId, int partition) {
        return mix64(topicId * 0x9E3779B97F4A7C15L + partition);
    }

    /** {@code nodes} ordered by preference for {@code key}: the first is the owner, the rest the fallbacks. */
    public static List<String> rank(long key, Collection<String> nodes) {
        return nodes.stream().sorted(preference(key)).toList();
    }

    /**
     * The first of {@link #rank}, in one pass instead of a sort: for callers that only need the owner of
     * each of many keys (a block's chunks). Null when there are no nodes.
     */
    public static String owner(long key, Collection<String> nodes) {
        Comparator<String> preference = preference(key);
        String best = null;
        for (String n : nodes) {
            if (best == null || preference.compare(n, best) < 0) {
                best = n;
            }
        }
        return best;
    }

    /** Highest score first, ties by name: earlier in the order means preferred. */
    private static Comparator<String> preference(long key) {
        return Comparator.comparingLong((String n) -> mix64(key ^ fnv1a64(n))).reversed()
                .thenComparing(Comparator.naturalOrder());
    }

    /** MurmurHash3's 64-bit finalizer: every input bit affects every output bit. */
    public static long mix64(long h) {
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }

    private static long fnv1a64(String s) {
        long h = 0xcbf29ce484222325L;
        for (int i = 0; i < s.length(); i++) {
            h ^= s.charAt(i);
            h *= 0x100000001b3L;
        }
        return h;
    }
}
