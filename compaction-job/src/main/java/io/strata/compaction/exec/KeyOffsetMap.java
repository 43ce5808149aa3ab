package io.strata.compaction.exec;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Each key's latest offset, for one key-compaction cleaning, in fixed memory: open addressing over three
 * parallel longs per slot (the key's 128-bit MD5, as Kafka's cleaner uses, and the offset), so a key of any
 * length costs 24 bytes and no object. Two keys are taken for one only if their MD5s collide (about 2^-64
 * for billions of keys). Not thread-safe.
 */
final class KeyOffsetMap {
    private final long[] high;
    private final long[] low;
    private final long[] offsets;
    private final int mask;
    private final MessageDigest md5;
    private int size;

    /** A map for up to {@code keys} keys (sized for a load factor of 3/4). */
    KeyOffsetMap(long keys) {
        long slots = Long.highestOneBit(Math.max(16, keys * 4 / 3)) << 1;
        if (slots > 1 << 30) {
            throw new IllegalArgumentException(keys + " keys do not fit one map");
        }
        high = new long[(int) slots];
        low = new long[(int) slots];
        offsets = new long[(int) slots];
        java.util.Arrays.fill(offsets, -1);
        mask = (int) slots - 1;
        try {
            md5 = MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has MD5", e);
        }
    }

    /** Records {@code offset} as the key's latest (offsets come in ascending order). */
    void put(byte[] key, long offset) {
        long[] hash = hash(key);
        int slot = find(hash);
        if (offsets[slot] < 0) {
            if (size + 1 > (mask + 1) * 3L / 4) {
                throw new IllegalStateException("key map full at " + size + " keys");
            }
            high[slot] = hash[0];
            low[slot] = hash[1];
            size++;
        }
        offsets[slot] = offset;
    }

    /** The key's latest offset, or -1 when the map has not seen it. */
    long latest(byte[] key) {
        return offsets[find(hash(key))];
    }

    int size() {
        return size;
    }

    private int find(long[] hash) {
        int slot = (int) (hash[0] ^ hash[0] >>> 32) & mask;
        while (offsets[slot] >= 0 && (high[slot] != hash[0] || low[slot] != hash[1])) {
            slot = (slot + 1) & mask;
        }
        return slot;
    }

    private long[] hash(byte[] key) {
        ByteBuffer digest = ByteBuffer.wrap(md5.digest(key));
        return new long[] {digest.getLong(), digest.getLong()};
    }
}
