package io.strata.metadata.security;

import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * Users and ACLs, kept in the metadata store so that every node decides access alike. Writes are single guarded
 * transactions; nodes {@linkplain #follow follow} the whole set (it is small and bounded: at most
 * {@link #MAX_USERS} users and {@link #MAX_ACLS} ACLs) and decide from memory. A write whose key other writers keep
 * changing under it is decided again on what they wrote, a bounded number of times, then fails with a retryable
 * MetadataException.
 */
public interface SecurityStore {
    int MAX_USERS = 10_000;
    int MAX_ACLS = 10_000;
    int MAX_QUOTAS = 10_000;

    /**
     * Adds the user; with {@code replace} also changes an existing one (a new password, other groups). Answers
     * false when the user exists and {@code replace} is not set. Fails with SecurityStoreFullException past {@link #MAX_USERS}.
     */
    CompletableFuture<Boolean> putUser(User user, boolean replace);

    /** Answers false when there was no such user. */
    CompletableFuture<Boolean> removeUser(String name);

    /**
     * Sets the user's credential, keeping its groups; a user that does not exist is added without groups (at
     * {@code nowMs}). Written guarded on what was read, so a user removed meanwhile is added afresh, never with the
     * groups it had. Fails with SecurityStoreFullException past {@link #MAX_USERS}, and with a retryable
     * MetadataException when the user kept changing under it.
     */
    CompletableFuture<Void> setCredential(String name, ScramCredential credential, long nowMs);

    /** Answers false when the same rule existed already. Fails with SecurityStoreFullException past {@link #MAX_ACLS}. */
    CompletableFuture<Boolean> addAcl(Acl acl);

    /** Answers false when there was no such rule. */
    CompletableFuture<Boolean> removeAcl(Acl acl);

    /** Sets the entity's quota, replacing the one it had. Fails with SecurityStoreFullException past {@link #MAX_QUOTAS}. */
    CompletableFuture<Void> putQuota(Quota quota);

    /** Answers false when the entity had no quota. */
    CompletableFuture<Boolean> removeQuota(String entity);

    /**
     * Records that the cluster requires authentication (idempotent): a node started without it would serve
     * the cluster's data to anyone.
     */
    CompletableFuture<Void> markAuthRequired();

    /** Whether a node with authentication required has marked the cluster so. */
    CompletableFuture<Boolean> authRequired();

    /**
     * The cluster's producer-id key: 32 random bytes, made by the first node that asks and the same for every node
     * after (see {@link ProducerIdBinding}).
     */
    CompletableFuture<byte[]> producerKey();

    /** The user as stored, if there is one. */
    CompletableFuture<java.util.Optional<User>> user(String name);

    /** Every user, ACL and quota, read at one revision. */
    CompletableFuture<SecuritySnapshot> read();

    /**
     * Tells {@code listener} the whole set now and again after each change, within the store's watch latency,
     * from one thread at a time; after a broken watch it reads again and goes on (telling the listener nothing
     * meanwhile, so it keeps deciding from what it had). Until closed.
     */
    AutoCloseable follow(Consumer<SecuritySnapshot> listener);
}
