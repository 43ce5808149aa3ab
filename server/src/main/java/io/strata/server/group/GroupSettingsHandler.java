package io.strata.server.group;

import io.grpc.Status;
import io.strata.api.v1.AlterGroupSettingsRequest;
import io.strata.api.v1.GroupBackoff;
import io.strata.metadata.TopicCache;
import io.strata.metadata.group.GroupSettings;
import io.strata.metadata.group.GroupSettingsStore;
import io.strata.queues.share.SharePolicy;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Groups' own settings ({@code strata groups alter}): checked, stored, and answered as in force over the node's
 * defaults. The fetch nodes read them (at most a second old) when they decide for a share group. Thread-safe.
 */
public final class GroupSettingsHandler {
    static final int MAX_DELIVERY_ATTEMPTS = 1_000;
    static final long MIN_LOCK_MS = 1_000;
    static final long MAX_LOCK_MS = 3_600_000;
    static final long MAX_BACKOFF_MS = 86_400_000;

    private final GroupSettingsStore store;
    private final TopicCache topics;
    private final SharePolicy defaults;

    public GroupSettingsHandler(GroupSettingsStore store, TopicCache topics, SharePolicy defaults) {
        this.store = store;
        this.topics = topics;
        this.defaults = defaults;
    }

    public CompletableFuture<io.strata.api.v1.GroupSettings> describe(String group) {
        try {
            checkGroup(group);
        } catch (RuntimeException bad) {
            return CompletableFuture.failedFuture(bad);
        }
        return store.load(group).thenApply(s -> answer(group, s));
    }

    /** {@code who}: the caller, recorded as who named a dead-letter topic (copies are written while it may). */
    public CompletableFuture<io.strata.api.v1.GroupSettings> alter(AlterGroupSettingsRequest r,
                                                                   io.strata.security.Identity who) {
        GroupSettings change;
        try {
            checkGroup(r.getGroup());
            change = change(r, who == null ? io.strata.security.Identity.ANONYMOUS : who);
        } catch (RuntimeException bad) {
            return CompletableFuture.failedFuture(bad);
        }
        CompletableFuture<Void> topicChecked = change.deadLetterTopic().isEmpty()
                ? CompletableFuture.completedFuture(null)
                : topics.get(change.deadLetterTopic()).thenAccept(t -> {
                    if (t.isEmpty()) {
                        throw Status.NOT_FOUND.withDescription("the dead-letter topic " + change.deadLetterTopic()
                                + " does not exist; create it first").asRuntimeException();
                    }
                });
        boolean clearTopic = r.hasDeadLetterTopic() && r.getDeadLetterTopic().isEmpty();
        return topicChecked.thenCompose(v -> store.load(r.getGroup())).thenCompose(current -> {
            GroupSettings next = (r.getResetOthers() ? GroupSettings.DEFAULTS : current).with(change, clearTopic);
            return store.save(r.getGroup(), next).thenApply(x -> answer(r.getGroup(), next));
        });
    }

    /** The settings the request names; the rest left at 0 / empty (not changed). */
    static GroupSettings change(AlterGroupSettingsRequest r, io.strata.security.Identity who) {
        if (r.hasMaxDeliveryAttempts() && (r.getMaxDeliveryAttempts() < 1
                || r.getMaxDeliveryAttempts() > MAX_DELIVERY_ATTEMPTS)) {
            throw invalid("max_delivery_attempts is 1 to " + MAX_DELIVERY_ATTEMPTS);
        }
        if (r.hasLockMs() && (r.getLockMs() < MIN_LOCK_MS || r.getLockMs() > MAX_LOCK_MS)) {
            throw invalid("lock_ms is 1 s to 1 h (" + MIN_LOCK_MS + " to " + MAX_LOCK_MS + ")");
        }
        Optional<GroupSettings.Backoff> backoff = Optional.empty();
        if (r.hasBackoff()) {
            GroupBackoff b = r.getBackoff();
            if (b.getInitialMs() < 0 || b.getMaxMs() < b.getInitialMs() || b.getMaxMs() > MAX_BACKOFF_MS
                    || !(b.getMultiplier() >= 1 && b.getMultiplier() <= 100)) {
                throw invalid("a back-off starts at 0 ms or more, multiplies by 1 to 100 and ends no lower than it "
                        + "starts, at most a day (" + MAX_BACKOFF_MS + " ms)");
            }
            backoff = Optional.of(new GroupSettings.Backoff(b.getInitialMs(), b.getMultiplier(), b.getMaxMs()));
        }
        String topic = r.hasDeadLetterTopic() ? r.getDeadLetterTopic() : "";
        return new GroupSettings(topic, r.hasMaxDeliveryAttempts() ? r.getMaxDeliveryAttempts() : 0,
                r.hasLockMs() ? r.getLockMs() : 0, backoff, topic.isEmpty() ? "" : who.principal(),
                topic.isEmpty() ? java.util.List.of() : who.groups());
    }

    private io.strata.api.v1.GroupSettings answer(String group, GroupSettings s) {
        io.strata.api.v1.GroupSettings.Builder b = io.strata.api.v1.GroupSettings.newBuilder().setGroup(group)
                .setDeadLetterTopic(s.deadLetterTopic())
                .setMaxDeliveryAttempts(s.maxDeliveryAttempts() > 0 ? s.maxDeliveryAttempts() : defaults.maxDeliveries())
                .setLockMs(s.lockMs() > 0 ? s.lockMs() : defaults.lockMs());
        GroupSettings.Backoff backoff = s.backoff().orElse(new GroupSettings.Backoff(defaults.backoffInitialMs(),
                defaults.backoffMultiplier(), defaults.backoffMaxMs()));
        b.setBackoff(GroupBackoff.newBuilder().setInitialMs(backoff.initialMs()).setMultiplier(backoff.multiplier())
                .setMaxMs(backoff.maxMs()));
        if (s.maxDeliveryAttempts() == 0) {
            b.addDefaults("max_delivery_attempts");
        }
        if (s.lockMs() == 0) {
            b.addDefaults("lock_ms");
        }
        if (s.backoff().isEmpty()) {
            b.addDefaults("backoff");
        }
        return b.build();
    }

    private static void checkGroup(String group) {
        try {
            GroupSettings.checkName(group);
        } catch (IllegalArgumentException e) {
            throw invalid(e.getMessage());
        }
    }

    private static RuntimeException invalid(String why) {
        return Status.INVALID_ARGUMENT.withDescription(why).asRuntimeException();
    }
}
