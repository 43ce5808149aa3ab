package io.strata.queues.share;

/**
 * What a share group decides by: how long a member holds what it took, how often a record may be delivered,
 * how long a failed record waits before it is delivered again, how many records of a partition may be in
 * flight at once, and whether the group has a dead-letter topic. Immutable.
 *
 * @param lockMs           how long an acquired record stays its member's before it is released
 * @param maxDeliveries    deliveries after which a record that still fails is archived (dead-lettered)
 * @param backoffInitialMs wait before the second delivery of a record that failed without a delay of its own
 * @param backoffMultiplier each further failure multiplies the wait by this
 * @param backoffMaxMs     the longest wait
 * @param maxInFlight      offsets of a partition between its start (everything before is done) and the last
 *                         one handed out: bounds the state kept per partition, whatever the backlog
 * @param deadLetter       whether archived records go to a dead-letter topic (they wait for it, see
 *                         {@link DeliveryState#DEAD_LETTERING}) or are simply done
 */
public record SharePolicy(long lockMs, int maxDeliveries, long backoffInitialMs, double backoffMultiplier,
                          long backoffMaxMs, int maxInFlight, boolean deadLetter) {
    /** 30 s locks, 5 deliveries, back-off 1 s doubling up to 10 min, 2,000 in flight, no dead-letter topic. */
    public static final SharePolicy DEFAULT = new SharePolicy(30_000, 5, 1_000, 2.0, 600_000, 2_000, false);

    public SharePolicy {
        if (lockMs < 1 || maxDeliveries < 1 || backoffInitialMs < 0 || backoffMultiplier < 1
                || backoffMaxMs < backoffInitialMs || maxInFlight < 1) {
            throw new IllegalArgumentException("a share policy needs a positive lock, at least one delivery, a "
                    + "back-off that does not shrink and at least one record in flight");
        }
    }

    /** The wait before delivering again a record delivered {@code deliveries} times, whose last one failed. */
    public long backoffMs(int deliveries) {
        double wait = backoffInitialMs * Math.pow(backoffMultiplier, Math.max(0, deliveries - 1));
        return (long) Math.min(backoffMaxMs, wait);
    }

    public SharePolicy withDeadLetter(boolean hasTopic) {
        return new SharePolicy(lockMs, maxDeliveries, backoffInitialMs, backoffMultiplier, backoffMaxMs, maxInFlight,
                hasTopic);
    }
}
