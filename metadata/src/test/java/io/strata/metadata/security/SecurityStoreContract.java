package io.strata.metadata.security;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.metadata.MetadataStore;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link SecurityStore} keeps, on the embedded store and on a real etcd: a user is added once and
 * replaced only when asked, a rule is stored once however often it is added, and a follower sees every change.
 */
public abstract class SecurityStoreContract {
    protected MetadataStore store;
    protected SecurityStore security;

    protected abstract MetadataStore newStore();

    @BeforeEach
    void open() {
        store = newStore();
        security = store.security();
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    private static User user(String name, int seed, String... groups) {
        byte[] salt = new byte[16];
        salt[0] = (byte) seed;
        return new User(name, new ScramCredential(4096, salt, new byte[] {(byte) seed, 1}, new byte[] {2}),
                List.of(groups), 1000);
    }

    private static Acl produce(String principal, String prefix) {
        return new Acl(principal, ResourceType.TOPIC, prefix, true, AclOperation.PRODUCE, false);
    }

    @Test
    void aUserIsAddedOnceAndReplacedOnlyWhenAsked() {
        assertThat(security.putUser(user("alice", 1), false).join()).isTrue();
        assertThat(security.putUser(user("alice", 2), false).join()).isFalse();
        assertThat(security.user("alice").join().orElseThrow().credential().storedKey()[0]).isEqualTo((byte) 1);

        assertThat(security.putUser(user("alice", 3, "ops"), true).join()).isTrue();
        User stored = security.user("alice").join().orElseThrow();
        assertThat(stored.credential().storedKey()[0]).isEqualTo((byte) 3);
        assertThat(stored.credential().iterations()).isEqualTo(4096);
        assertThat(stored.groups()).containsExactly("ops");

        assertThat(security.removeUser("alice").join()).isTrue();
        assertThat(security.removeUser("alice").join()).isFalse();
        assertThat(security.user("alice").join()).isEmpty();
    }

    @Test
    void aRuleIsStoredOnceAndRemovedByItsContent() {
        Acl rule = produce("User:alice", "logs-");
        assertThat(security.addAcl(rule).join()).isTrue();
        assertThat(security.addAcl(produce("User:alice", "logs-")).join()).isFalse();
        Acl deny = new Acl("User:alice", ResourceType.TOPIC, "logs-secret", false, AclOperation.PRODUCE, true);
        assertThat(security.addAcl(deny).join()).isTrue();
        assertThat(security.read().join().acls()).containsExactlyInAnyOrder(rule, deny);

        assertThat(security.removeAcl(produce("User:alice", "logs-")).join()).isTrue();
        assertThat(security.removeAcl(rule).join()).isFalse();
        assertThat(security.read().join().acls()).containsExactly(deny);
    }

    @Test
    void aQuotaIsSetPerEntityReplacedAndRemoved() {
        security.putQuota(new Quota("User:CN=app/one", 1000, 0, 0)).join();
        security.putQuota(new Quota(Quota.DEFAULT, 0, 500, 10)).join();
        security.putQuota(new Quota("User:CN=app/one", 2000, 0, 5)).join();
        assertThat(security.read().join().quotas()).containsOnly(
                java.util.Map.entry("User:CN=app/one", new Quota("User:CN=app/one", 2000, 0, 5)),
                java.util.Map.entry(Quota.DEFAULT, new Quota(Quota.DEFAULT, 0, 500, 10)));
        assertThat(security.removeQuota("User:CN=app/one").join()).isTrue();
        assertThat(security.removeQuota("User:CN=app/one").join()).isFalse();
        assertThat(security.read().join().quotas()).containsOnlyKeys(Quota.DEFAULT);
    }

    @Test
    void eachNodesQuotaUsageIsReadByAllAndGoesWithIt() {
        try (QuotaUsageStore one = store.quotaUsage(); QuotaUsageStore two = store.quotaUsage()) {
            one.publish("node-1", java.util.Map.of("User:a", new QuotaRates(100, 0, 2))).join();
            two.publish("node-2", java.util.Map.of("User:a", new QuotaRates(50, 1, 1))).join();
            one.publish("node-1", java.util.Map.of("User:b", new QuotaRates(7, 0, 0))).join();
            assertThat(one.read().join()).containsOnly(
                    java.util.Map.entry("node-1", java.util.Map.of("User:b", new QuotaRates(7, 0, 0))),
                    java.util.Map.entry("node-2", java.util.Map.of("User:a", new QuotaRates(50, 1, 1))));
            two.close();
            assertThat(one.read().join()).containsOnlyKeys("node-1");
        }
    }

    @Test
    void theProducerKeyIsMadeOnceAndTheSameForEveryone() {
        byte[] first = security.producerKey().join();
        assertThat(first).hasSize(32);
        assertThat(security.producerKey().join()).isEqualTo(first);
    }

    @Test
    void aClusterOnceMarkedAsRequiringAuthStaysSo() {
        assertThat(security.authRequired().join()).isFalse();
        security.markAuthRequired().join();
        security.markAuthRequired().join();
        assertThat(security.authRequired().join()).isTrue();
        assertThat(security.read().join().users()).isEmpty(); // the mark is no user and no rule
    }

    @Test
    void aFollowerSeesTheWholeSetAndEveryChange() throws Exception {
        security.putUser(user("bob", 1), false).join();
        LinkedBlockingQueue<SecuritySnapshot> seen = new LinkedBlockingQueue<>();
        try (AutoCloseable following = security.follow(seen::add)) {
            SecuritySnapshot first = seen.poll(10, TimeUnit.SECONDS);
            assertThat(first).isNotNull();
            assertThat(first.users()).containsOnlyKeys("bob");
            assertThat(first.acls()).isEmpty();

            Acl rule = produce("Group:ops", "");
            security.addAcl(rule).join();
            assertThat(awaitSnapshot(seen, s -> s.acls().contains(rule)).users()).containsOnlyKeys("bob");
            security.removeUser("bob").join();
            assertThat(awaitSnapshot(seen, s -> s.users().isEmpty()).acls()).containsExactly(rule);
        }
    }

    private static SecuritySnapshot awaitSnapshot(LinkedBlockingQueue<SecuritySnapshot> seen,
                                                  java.util.function.Predicate<SecuritySnapshot> wanted) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            SecuritySnapshot s = seen.poll(100, TimeUnit.MILLISECONDS);
            if (s != null && wanted.test(s)) {
                return s;
            }
        }
        throw new AssertionError("no snapshot as wanted within 10 s");
    }
}
