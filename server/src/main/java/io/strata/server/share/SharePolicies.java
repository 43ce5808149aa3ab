package io.strata.server.share;

import io.quarkus.runtime.configuration.DurationConverter;
import io.strata.queues.share.SharePolicy;
import io.strata.server.config.StrataConfig;

/** The node's share-group defaults as the queues module's policy. */
public final class SharePolicies {
    private SharePolicies() {
    }

    /** From strata.share.*; a back-off that does not read as "FIRST,MULTIPLIER,MOST" stops the node, by name. */
    public static SharePolicy of(StrataConfig.Share share) {
        String[] parts = share.backoff().split(",");
        if (parts.length != 3) {
            throw new IllegalArgumentException("strata.share.backoff is FIRST,MULTIPLIER,MOST (\"1s,2,10m\"), not '"
                    + share.backoff() + "'");
        }
        long first = DurationConverter.parseDuration(parts[0].trim()).toMillis();
        double multiplier = Double.parseDouble(parts[1].trim());
        long most = DurationConverter.parseDuration(parts[2].trim()).toMillis();
        return new SharePolicy(share.lockDuration().toMillis(), share.maxDeliveryAttempts(), first, multiplier, most,
                share.maxInFlight(), false);
    }
}
