package io.strata.security.quota;

/**
 * The part of a cluster-wide rate one node allows, from what the other nodes report their clients used: what the
 * others leave, but never less than an even split among the nodes in use. A client on one node gets the whole
 * rate; clients spread over nodes get it together; and when every node is busy the split settles evenly instead of
 * swinging (each node taking all the others left a moment ago would overshoot together, then starve together).
 */
public final class QuotaShare {
    private QuotaShare() {
    }

    /**
     * @param rate     the cluster-wide rate (positive)
     * @param others   what the other nodes report used, per second, summed
     * @param busyOthers how many other nodes report any use
     */
    public static double of(double rate, double others, int busyOthers) {
        double even = rate / (busyOthers + 1);
        return Math.max(even, Math.min(rate, rate - others));
    }
}
