package io.strata.fetch.share;

import com.github.benmanes.caffeine.cache.AsyncLoadingCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.strata.metadata.group.GroupSettings;
import io.strata.metadata.group.GroupSettingsStore;
import io.strata.queues.share.SharePolicy;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * Each group's policy: the node's defaults with what an operator set for the group ({@code strata groups
 * alter}) over them. Read from the store at most once a second per group, so a change is in force on every node
 * within a second, and bounded in the groups it keeps. Thread-safe.
 */
final class GroupPolicies {
    /**
     * A group's policy, the topic its dead letters go to (empty: none), and who named that topic (with its
     * groups then): copies are written only while that principal may read the source and write the topic.
     */
    record GroupPolicy(SharePolicy policy, String deadLetterTopic, String namedBy, java.util.List<String> namedByGroups) {
    }

    private final SharePolicy defaults;
    private final AsyncLoadingCache<String, GroupPolicy> cache;

    GroupPolicies(GroupSettingsStore store, SharePolicy defaults) {
        this.defaults = defaults;
        this.cache = Caffeine.newBuilder().maximumSize(10_000).expireAfterWrite(Duration.ofSeconds(1))
                .buildAsync((group, executor) -> store.load(group).thenApply(this::policy));
    }

    SharePolicy defaults() {
        return defaults;
    }

    CompletableFuture<GroupPolicy> of(String group) {
        return cache.get(group);
    }

    GroupPolicy policy(GroupSettings s) {
        GroupSettings.Backoff backoff = s.backoff().orElse(new GroupSettings.Backoff(defaults.backoffInitialMs(),
                defaults.backoffMultiplier(), defaults.backoffMaxMs()));
        SharePolicy p = new SharePolicy(s.lockMs() > 0 ? s.lockMs() : defaults.lockMs(),
                s.maxDeliveryAttempts() > 0 ? s.maxDeliveryAttempts() : defaults.maxDeliveries(), backoff.initialMs(),
                backoff.multiplier(), backoff.maxMs(), defaults.maxInFlight(), !s.deadLetterTopic().isEmpty());
        return new GroupPolicy(p, s.deadLetterTopic(), s.namedBy(), s.namedByGroups());
    }
}
