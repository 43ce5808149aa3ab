package io.strata.metadata.security;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Producer ids that carry the principal they were issued to: bit 62 marks the form, bits 28 to 61 hold the
 * cluster's producer-id counter (17 billion ids), and the low 28 bits an HMAC-SHA256 of counter and principal under the cluster's
 * producer key (kept in the metadata store, which nodes trust). A node tells, from the id alone and without a
 * lookup, whether the caller is the principal the id was issued to: another principal using the id (to disturb
 * a producer's sequences, or to pass its retries off as its own) is refused, and guessing a bound id means
 * guessing 28 bits per try (each try refused and audited). Ids issued before this form (below 2^62) carry no principal.
 */
public final class ProducerIdBinding {
    private static final long FORM = 1L << 62;
    private static final int MAC_BITS = 28;
    private static final long MAC_MASK = (1L << MAC_BITS) - 1;
    /** The largest counter value the form holds. */
    public static final long MAX_COUNTER = (1L << (62 - MAC_BITS)) - 1;
    private final SecretKeySpec key;
    /**
     * A keyed MAC per thread: every produce request checks its producer id, and looking the algorithm up and
     * keying it each time took 5% of a node's sampled CPU at small transactions.
     */
    private final ThreadLocal<Mac> macs;

    public ProducerIdBinding(byte[] key) {
        if (key.length < 16) {
            throw new IllegalArgumentException("a producer key has at least 16 bytes");
        }
        this.key = new SecretKeySpec(key.clone(), "HmacSHA256");
        this.macs = ThreadLocal.withInitial(() -> {
            try {
                Mac mac = Mac.getInstance("HmacSHA256");
                mac.init(this.key);
                return mac;
            } catch (java.security.GeneralSecurityException e) {
                throw new IllegalStateException("HmacSHA256 is not available", e);
            }
        });
    }

    /** The id of counter value {@code counter}, issued to {@code principal}. */
    public long bind(long counter, String principal) {
        if (counter <= 0 || counter > MAX_COUNTER) {
            throw new IllegalStateException("producer id counter " + counter + " is out of range");
        }
        return FORM | counter << MAC_BITS | mac(counter, principal);
    }

    /** Whether {@code id} was issued to {@code principal} (false for ids of the older form, which name nobody). */
    public boolean boundTo(long id, String principal) {
        return bound(id) && (id & MAC_MASK) == mac(counterOf(id), principal);
    }

    /** Whether the id has the form that names its principal. */
    public static boolean bound(long id) {
        return id > 0 && (id & FORM) != 0;
    }

    /** The counter value an id was made from (an id of the older form is its counter value). */
    public static long counterOf(long id) {
        return bound(id) ? (id & ~FORM) >>> MAC_BITS : id;
    }

    private long mac(long counter, String principal) {
        Mac mac = macs.get(); // doFinal leaves it reset for the next use
        mac.update(ByteBuffer.allocate(8).putLong(counter).array());
        byte[] out = mac.doFinal(principal.getBytes(StandardCharsets.UTF_8));
        return ((out[0] & 0xffL) << 24 | (out[1] & 0xffL) << 16 | (out[2] & 0xffL) << 8 | (out[3] & 0xffL))
                & MAC_MASK;
    }
}
