package io.strata.bench;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Record values for benchmarks: windows of a 64 MiB pool of random capital letters, so records differ from
 * each other and compress as text does (about 4.7 bits a byte), not as one repeated payload would.
 */
public final class Payloads {
    private static final byte[] POOL = new byte[64 << 20];

    static {
        // Twelve uniform letters from each random number below 26^12: a twelfth of the calls of one a letter.
        java.util.SplittableRandom random = new java.util.SplittableRandom(20261123);
        for (int i = 0; i < POOL.length; ) {
            long bits = random.nextLong(95_428_956_661_682_176L); // 26^12
            for (int j = 0; j < 12 && i < POOL.length; j++, i++) {
                POOL[i] = (byte) ('A' + (int) (bits % 26));
                bits /= 26;
            }
        }
    }

    private Payloads() {
    }

    /** Fills the pool now (it takes a fraction of a second) rather than in the first call of a measured run. */
    public static void prepare() {
        // Referring to the class runs its initialiser.
    }

    /** A fresh value of {@code size} bytes. */
    public static byte[] next(int size) {
        byte[] value = new byte[size];
        int from = ThreadLocalRandom.current().nextInt(POOL.length - Math.min(size, POOL.length - 1));
        System.arraycopy(POOL, from, value, 0, Math.min(size, POOL.length - from));
        return value;
    }
}
