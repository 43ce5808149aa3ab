package io.strata.fetch.share;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.strata.metadata.group.GroupSettings;
import io.strata.metadata.group.GroupSettingsStore;
import io.strata.queues.share.SharePolicy;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class GroupPoliciesTest {
    /** A store whose reads stay unanswered until the test answers them, oldest first. */
    private static final class HeldStore implements GroupSettingsStore {
        final Deque<CompletableFuture<GroupSettings>> reads = new ArrayDeque<>();

        @Override
        public synchronized CompletableFuture<GroupSettings> load(String group) {
            CompletableFuture<GroupSettings> read = new CompletableFuture<>();
            reads.add(read);
            return read;
        }

        synchronized void answer(GroupSettings settings) {
            reads.removeFirst().complete(settings);
        }

        synchronized int pending() {
            return reads.size();
        }

        @Override
        public CompletableFuture<Void> save(String group, GroupSettings settings) {
            throw new UnsupportedOperationException();
        }

        @Override
        public CompletableFuture<Map<String, GroupSettings>> all() {
            throw new UnsupportedOperationException();
        }
    }

    private final HeldStore store = new HeldStore();
    private final AtomicLong nanos = new AtomicLong();
    private final GroupPolicies policies = new GroupPolicies(store, SharePolicy.DEFAULT, nanos::get);

    private static GroupSettings attempts(int n) {
        return new GroupSettings("", n, 0, Optional.empty());
    }

    private void advanceMillis(long ms) {
        nanos.addAndGet(ms * 1_000_000);
    }

    /** The deliveries a call's policy allows, which must be there already: a call that waits fails, never hangs. */
    private static int answered(CompletableFuture<GroupPolicies.GroupPolicy> call) {
        assertTrue(call.isDone(), "the call was answered without waiting");
        return call.getNow(null).policy().maxDeliveries();
    }

    @Test
    void aGroupInUseIsReadAgainInTheBackgroundWhileItsCallsGoOnWithThePolicyTheyHave() {
        var first = policies.of("g");
        assertFalse(first.isDone(), "the first call waits for the store");
        store.answer(attempts(3));
        assertEquals(3, answered(first));

        advanceMillis(GroupPolicies.REFRESH.toMillis() + 100);
        assertEquals(3, answered(policies.of("g")), "a call in the refresh window does not wait for the store");
        assertEquals(1, store.pending(), "the store is read again in the background");

        store.answer(attempts(7));
        assertEquals(7, answered(policies.of("g")), "the change is in force once read");
    }

    @Test
    void aPolicyIsNeverUsedPastOneSecondAfterItWasRead() {
        var first = policies.of("g");
        store.answer(attempts(3));
        assertEquals(3, answered(first));

        advanceMillis(GroupPolicies.IN_FORCE.toMillis() + 1);
        var late = policies.of("g");
        assertFalse(late.isDone(), "a policy older than a second is not used: the call waits for a fresh read");
        store.answer(attempts(9));
        assertEquals(9, answered(late));
    }

    @Test
    void aRefreshStillOutWhenThePolicyExpiresIsNotWaitedForAndItsLateAnswerIsNotUsed() {
        var first = policies.of("g");
        store.answer(attempts(3));
        assertEquals(3, answered(first));

        advanceMillis(GroupPolicies.REFRESH.toMillis() + 100);
        assertEquals(3, answered(policies.of("g")));
        assertEquals(1, store.pending(), "a refresh is out");

        advanceMillis(GroupPolicies.IN_FORCE.toMillis());
        var late = policies.of("g");
        assertFalse(late.isDone(), "past its second the policy is not used while the refresh hangs");
        assertEquals(2, store.pending(), "a read of its own, not the hung refresh");
        store.answer(attempts(4)); // the hung refresh answers at last, with what was stored before the change
        store.answer(attempts(5));
        assertEquals(5, answered(late));
        assertEquals(5, answered(policies.of("g")), "the late refresh's answer does not replace the fresh read's");
    }

    @Test
    void aFailedRefreshKeepsThePolicyUntilItsSecondEnds() {
        var first = policies.of("g");
        store.answer(attempts(3));
        assertEquals(3, answered(first));

        advanceMillis(GroupPolicies.REFRESH.toMillis() + 100);
        assertEquals(3, answered(policies.of("g")));
        synchronized (store) {
            store.reads.removeFirst().completeExceptionally(new IllegalStateException("etcd away"));
        }
        assertEquals(3, answered(policies.of("g")), "the policy read before stays");

        advanceMillis(GroupPolicies.IN_FORCE.toMillis());
        var late = policies.of("g");
        assertFalse(late.isDone(), "past its second the failed refresh's policy is not used");
    }
}
