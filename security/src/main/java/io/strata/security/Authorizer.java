package io.strata.security;

import io.strata.metadata.security.AclOperation;
import io.strata.metadata.security.ResourceType;
import io.strata.metadata.security.SecuritySnapshot;
import io.strata.metadata.security.SecurityStore;
import io.strata.metadata.security.User;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A node's view of the cluster's users and ACLs, followed from the metadata store (a change made on any node is
 * in force here within the store's watch latency, without a restart), and the decisions taken from it.
 * Until the first read only super-users are allowed anything: a node is not ready before {@link #awaitFirstRead}.
 */
public final class Authorizer implements AutoCloseable {
    private final Set<String> superUsers;
    private final CountDownLatch firstRead = new CountDownLatch(1);
    private final AutoCloseable following;
    private volatile SecuritySnapshot snapshot = SecuritySnapshot.EMPTY;
    private volatile AccessPolicy policy;

    public Authorizer(SecurityStore store, Set<String> superUsers) {
        this.superUsers = Set.copyOf(superUsers);
        this.policy = new AccessPolicy(java.util.List.of(), this.superUsers);
        this.following = store.follow(this::take);
    }

    private void take(SecuritySnapshot s) {
        policy = new AccessPolicy(s.acls(), superUsers);
        snapshot = s;
        firstRead.countDown();
    }

    public boolean awaitFirstRead(Duration timeout) throws InterruptedException {
        return firstRead.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    public boolean allowed(Identity who, AclOperation op, ResourceType type, String name) {
        return policy.allowed(who, op, type, name);
    }

    public boolean superUser(Identity who) {
        return policy.superUser(who);
    }

    public Optional<User> user(String name) {
        return Optional.ofNullable(snapshot.users().get(name));
    }

    public SecuritySnapshot snapshot() {
        return snapshot;
    }

    @Override
    public void close() throws Exception {
        following.close();
    }
}
