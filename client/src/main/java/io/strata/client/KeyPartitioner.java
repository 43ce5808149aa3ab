package io.strata.client;

/**
 * Kafka's default key partitioner, {@code toPositive(murmur2(key)) % partitions}, bit for bit: keyed
 * records land in the partition a Kafka producer would choose, and the one the node would choose for an
 * entry that names no partition, so the client can name the partition itself and know each offset.
 */
public final class KeyPartitioner {
    private KeyPartitioner() {
    }

    public static int partition(byte[] key, int partitions) {
        if (partitions <= 0) {
            throw new IllegalArgumentException("a topic has at least one partition, not " + partitions);
        }
        return toPositive(murmur2(key)) % partitions;
    }

    /** Kafka's murmur2 variant (seed 0x9747b28c, little-endian blocks). */
    public static int murmur2(byte[] data) {
        final int length = data.length;
        final int m = 0x5bd1e995;
        final int r = 24;
        int h = 0x9747b28c ^ length;
        for (int i = 0; i + 4 <= length; i += 4) {
            int k = (data[i] & 0xff) | (data[i + 1] & 0xff) << 8 | (data[i + 2] & 0xff) << 16
                    | (data[i + 3] & 0xff) << 24;
            k *= m;
            k ^= k >>> r;
            k *= m;
            h *= m;
            h ^= k;
        }
        int tail = length & ~3;
        switch (length % 4) {
            case 3:
                h ^= (data[tail + 2] & 0xff) << 16;
                // fall through: the tail bytes accumulate
            case 2:
                h ^= (data[tail + 1] & 0xff) << 8;
                // fall through
            case 1:
                h ^= data[tail] & 0xff;
                h *= m;
                break;
            default:
                break;
        }
        h ^= h >>> 13;
        h *= m;
        h ^= h >>> 15;
        return h;
    }

    /** Kafka's toPositive: clears the sign bit rather than taking abs, so Integer.MIN_VALUE maps to 0. */
    public static int toPositive(int number) {
        return number & 0x7fffffff;
    }
}
