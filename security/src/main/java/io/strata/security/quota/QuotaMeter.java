package io.strata.security.quota;

import io.strata.security.Identity;

/**
 * Where a node's doors (gRPC, the Kafka listener) account what a principal uses against its quota. Each answers how
 * long to hold the principal back, in nanoseconds: the doors delay its requests (or its next answer) by that long
 * and report the delay, as Kafka reports throttle time; they never fail a request for its quota.
 */
public interface QuotaMeter {
    /** One request arrived; {@code produceBytes} is its size when it carries records to produce, else 0. */
    long request(Identity who, long produceBytes);

    /** {@code fetchBytes} of records were answered to the principal's fetches. */
    long fetched(Identity who, long fetchBytes);

    /** A request counted by {@link #request} was dropped unserved (its caller gave up waiting): its cost comes back. */
    default void refund(Identity who, long produceBytes) {
    }

    /** How long the principal still owes on any measure (0: nothing): a new connection of it waits that long too. */
    default long owed(Identity who) {
        return 0;
    }

    /** Whether any principal has a quota: without, the doors need not measure. */
    default boolean active() {
        return false;
    }

    /** No quotas: nobody is held back. */
    QuotaMeter NONE = new QuotaMeter() {
        @Override
        public long request(Identity who, long produceBytes) {
            return 0;
        }

        @Override
        public long fetched(Identity who, long fetchBytes) {
            return 0;
        }
    };
}
