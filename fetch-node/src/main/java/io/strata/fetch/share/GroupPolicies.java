package io.strata.fetch.share;

import com.github.benmanes.caffeine.cache.AsyncLoadingCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import io.strata.metadata.group.GroupSettings;
import io.strata.metadata.group.GroupSettingsStore;
import io.strata.queues.share.SharePolicy;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * Each group's policy: the node's defaults with what an operator set for the group ({@code strata groups
 * alter}) over them, bounded in the groups it keeps. A policy read from the store is used for at most
 * {@link #IN_FORCE}, so a change is in force on every node within a second. The first call for a group in the
 * last {@code IN_FORCE - REFRESH} of that time has it read again in the background while calls go on with the
 * policy they have: a group called at least that often never waits for the store; a call that comes only after
 * the policy has expired waits for a fresh read. A busy group is read a little more than once a second. Thread-safe.
 */
final class GroupPolicies {
    /**
     * A group's policy, the topic its dead letters go to (empty: none), and who named that topic (with its
     * groups then): copies are written only while that principal may read the source and write the topic.
     */
    record GroupPolicy(SharePolicy policy, String deadLetterTopic, String namedBy, java.util.List<String> namedByGroups) {
    }

    static final Duration IN_FORCE = Duration.ofSeconds(1);
    static final Duration REFRESH = Duration.ofMillis(800);

    private final SharePolicy defaults;
    private final AsyncLoadingCache<String, GroupPolicy> cache;

    GroupPolicies(GroupSettingsStore store, SharePolicy defaults) {
        this(store, defaults, Ticker.systemTicker());
    }

    GroupPolicies(GroupSettingsStore store, SharePolicy defaults, Ticker ticker) {
        this.defaults = defaults;
        // A refresh that fails keeps the policy in use until IN_FORCE ends it; the next call then waits for a read.
        this.cache = Caffeine.newBuilder().maximumSize(10_000).refreshAfterWrite(REFRESH).expireAfterWrite(IN_FORCE)
                .ticker(ticker).buildAsync((group, executor) -> store.load(group).thenApply(this::policy));
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
