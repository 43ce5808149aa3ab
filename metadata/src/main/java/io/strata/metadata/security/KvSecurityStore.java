package io.strata.metadata.security;

import io.strata.metadata.KeyLayout;
import io.strata.metadata.codec.SecurityCodec;
import io.strata.metadata.kv.KeyValue;
import io.strata.metadata.kv.KvEvent;
import io.strata.metadata.kv.KvGuard;
import io.strata.metadata.kv.KvOp;
import io.strata.metadata.kv.KvRange;
import io.strata.metadata.kv.KvStore;
import io.strata.metadata.kv.KvWatchListener;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@link SecurityStore} over the key-value seam, under {@code {root}/security/} (see {@link KeyLayout}). */
public final class KvSecurityStore implements SecurityStore {
    private static final Logger LOG = LoggerFactory.getLogger(KvSecurityStore.class);
    /** How often a follower reads the whole set again, whatever its watch says. */
    static final java.time.Duration REREAD = java.time.Duration.ofSeconds(60);
    private final KvStore kv;
    private final KeyLayout keys;

    public KvSecurityStore(KvStore kv, KeyLayout keys) {
        this.kv = kv;
        this.keys = keys;
    }

    /** Guarded writes of one key tried at most this often while other writers change it under them. */
    static final int ATTEMPTS = 20;

    @Override
    public CompletableFuture<Boolean> putUser(User user, boolean replace) {
        return putUser(user, replace, 0);
    }

    private CompletableFuture<Boolean> putUser(User user, boolean replace, int tries) {
        if (tries >= ATTEMPTS) {
            return gaveUp("user " + user.name(), "setting it");
        }
        String key = keys.user(user.name());
        return kv.get(key).thenCompose(existing -> {
            if (existing.isPresent() && !replace) {
                return CompletableFuture.completedFuture(false);
            }
            CompletableFuture<Void> room = existing.isPresent() ? CompletableFuture.completedFuture(null)
                    : requireRoom(keys.usersPrefix(), MAX_USERS, "users");
            long guard = existing.map(KeyValue::modRevision).orElse(0L);
            return room.thenCompose(x -> kv.txn(List.of(new KvGuard(key, guard)),
                    List.of(new KvOp.Put(key, SecurityCodec.encode(user))))).thenCompose(r -> r.succeeded()
                    ? CompletableFuture.completedFuture(true)
                    : putUser(user, replace, tries + 1)); // changed meanwhile: decide again on what is there now
        });
    }

    @Override
    public CompletableFuture<Void> setCredential(String name, ScramCredential credential, long nowMs) {
        return setCredential(name, credential, nowMs, 0);
    }

    private CompletableFuture<Void> setCredential(String name, ScramCredential credential, long nowMs, int tries) {
        if (tries >= ATTEMPTS) {
            return gaveUp("user " + name, "setting its credential");
        }
        String key = keys.user(User.requireName(name));
        return kv.get(key).thenCompose(existing -> {
            User user = existing.map(v -> SecurityCodec.decodeUser(key, v.value()))
                    .map(u -> new User(name, credential, u.groups(), u.createdAtMs()))
                    .orElseGet(() -> new User(name, credential, List.of(), nowMs));
            CompletableFuture<Void> room = existing.isPresent() ? CompletableFuture.completedFuture(null)
                    : requireRoom(keys.usersPrefix(), MAX_USERS, "users");
            long guard = existing.map(KeyValue::modRevision).orElse(0L);
            return room.thenCompose(x -> kv.txn(List.of(new KvGuard(key, guard)),
                    List.of(new KvOp.Put(key, SecurityCodec.encode(user))))).thenCompose(r -> r.succeeded()
                    ? CompletableFuture.<Void>completedFuture(null)
                    : setCredential(name, credential, nowMs, tries + 1)); // changed meanwhile: decide again
        });
    }

    @Override
    public CompletableFuture<Boolean> removeUser(String name) {
        return delete(keys.user(User.requireName(name)), "user " + name);
    }

    @Override
    public CompletableFuture<Boolean> addAcl(Acl acl) {
        String key = keys.acl(acl.id());
        return kv.get(key).thenCompose(existing -> existing.isPresent() ? CompletableFuture.completedFuture(false)
                : requireRoom(keys.aclsPrefix(), MAX_ACLS, "ACLs").thenCompose(x -> kv.txn(List.of(KvGuard.absent(key)),
                        List.of(new KvOp.Put(key, SecurityCodec.encode(acl))))).thenApply(r -> r.succeeded()));
    }

    @Override
    public CompletableFuture<Boolean> removeAcl(Acl acl) {
        return delete(keys.acl(acl.id()), "the rule");
    }

    @Override
    public CompletableFuture<Void> putQuota(Quota quota) {
        return putQuota(quota, 0);
    }

    private CompletableFuture<Void> putQuota(Quota quota, int tries) {
        if (tries >= ATTEMPTS) {
            return gaveUp("the quota of " + quota.entity(), "setting it");
        }
        String key = keys.quota(quota.entity());
        return kv.get(key).thenCompose(existing -> {
            CompletableFuture<Void> room = existing.isPresent() ? CompletableFuture.completedFuture(null)
                    : requireRoom(keys.quotasPrefix(), MAX_QUOTAS, "quotas");
            long guard = existing.map(KeyValue::modRevision).orElse(0L);
            return room.thenCompose(x -> kv.txn(List.of(new KvGuard(key, guard)),
                    List.of(new KvOp.Put(key, SecurityCodec.encode(quota))))).thenCompose(r -> r.succeeded()
                    ? CompletableFuture.<Void>completedFuture(null) : putQuota(quota, tries + 1));
        });
    }

    @Override
    public CompletableFuture<Boolean> removeQuota(String entity) {
        return delete(keys.quota(Quota.requireEntity(entity)), "the quota of " + entity);
    }

    private CompletableFuture<Boolean> delete(String key, String what) {
        return delete(key, what, 0);
    }

    private CompletableFuture<Boolean> delete(String key, String what, int tries) {
        if (tries >= ATTEMPTS) {
            return gaveUp(what, "removing it");
        }
        return kv.get(key).thenCompose(existing -> existing.isEmpty() ? CompletableFuture.completedFuture(false)
                : kv.txn(List.of(new KvGuard(key, existing.get().modRevision())), List.of(new KvOp.Delete(key)))
                        .thenCompose(r -> r.succeeded() ? CompletableFuture.completedFuture(true)
                                : delete(key, what, tries + 1)));
    }

    /**
     * A write whose guard another writer kept failing, attempt after attempt: given up rather than retried for as
     * long as the other keeps writing, with an error the caller may retry (UNAVAILABLE on the gRPC door).
     */
    private static <T> CompletableFuture<T> gaveUp(String what, String doing) {
        return CompletableFuture.failedFuture(new io.strata.metadata.MetadataException(what + " kept changing: gave up "
                + doing + " after " + ATTEMPTS + " attempts", true));
    }

    /** Bounds what every node holds in memory; a race may pass it by a few, which the bound allows for. */
    private CompletableFuture<Void> requireRoom(String prefix, int max, String what) {
        return kv.range(prefix).thenAccept(range -> {
            if (range.entries().size() >= max) {
                throw new SecurityStoreFullException("the cluster has " + range.entries().size() + " " + what
                        + ", the most it keeps; remove some first");
            }
        });
    }

    @Override
    public CompletableFuture<SecuritySnapshot> read() {
        return kv.range(keys.securityPrefix()).thenApply(range -> {
            TreeMap<String, byte[]> values = new TreeMap<>();
            range.entries().forEach(e -> values.put(e.key(), e.value()));
            return snapshot(values, range.revision());
        });
    }

    private SecuritySnapshot snapshot(Map<String, byte[]> values, long revision) {
        Map<String, User> users = new HashMap<>();
        List<Acl> acls = new ArrayList<>();
        Map<String, Quota> quotas = new HashMap<>();
        for (Map.Entry<String, byte[]> e : values.entrySet()) {
            try {
                if (e.getKey().startsWith(keys.usersPrefix())) {
                    User u = SecurityCodec.decodeUser(e.getKey(), e.getValue());
                    users.put(u.name(), u);
                } else if (e.getKey().startsWith(keys.aclsPrefix())) {
                    acls.add(SecurityCodec.decodeAcl(e.getKey(), e.getValue()));
                } else if (e.getKey().startsWith(keys.quotasPrefix())) {
                    Quota q = SecurityCodec.decodeQuota(e.getKey(), e.getValue());
                    quotas.put(q.entity(), q);
                }
            } catch (RuntimeException bad) {
                // One unreadable rule must not open or close everything else: it is left out, and said.
                LOG.error("ignoring {}: {}", e.getKey(), bad.getMessage());
            }
        }
        return new SecuritySnapshot(revision, users, acls, quotas);
    }

    @Override
    public AutoCloseable follow(Consumer<SecuritySnapshot> listener) {
        Follower f = new Follower(listener);
        f.start();
        return f;
    }

    /**
     * Reads the set, then applies the watch's changes to it; reads again after a broken watch or any failure, and
     * every {@link #REREAD} anyway: a watch on an etcd member cut off from its quorum may go quiet without breaking,
     * and rules must not stay stale for ever. A change older than what was read is ignored, so a read and a
     * lagging watch never step back.
     */
    private final class Follower implements AutoCloseable {
        private final Consumer<SecuritySnapshot> listener;
        private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "strata-security-follow");
            t.setDaemon(true);
            return t;
        });
        private final TreeMap<String, byte[]> values = new TreeMap<>();
        private volatile boolean closed;
        private AutoCloseable watch;
        /** The revision the set is as of. */
        private long applied;

        Follower(Consumer<SecuritySnapshot> listener) {
            this.listener = listener;
        }

        void start() {
            timer.execute(this::readAndWatch);
            timer.scheduleWithFixedDelay(this::reread, REREAD.toMillis(), REREAD.toMillis(), TimeUnit.MILLISECONDS);
        }

        private void readAndWatch() {
            try {
                if (closed || !read(true)) {
                    return;
                }
                synchronized (this) {
                    if (closed) {
                        return;
                    }
                    closeWatch();
                    watch = kv.watch(keys.securityPrefix(), applied, new KvWatchListener() {
                        @Override
                        public void onEvents(List<KvEvent> events) {
                            apply(events);
                        }

                        @Override
                        public void onBroken(Throwable cause) {
                            if (!closed) {
                                LOG.warn("the watch of users and ACLs broke ({}); reading them again", cause.toString());
                                retry(200);
                            }
                        }
                    });
                }
            } catch (RuntimeException | Error e) {
                LOG.warn("cannot follow users and ACLs ({}); trying again in a second", e.toString());
                retry(1000);
            }
        }

        /** Reads the whole set; false when the store does not answer (then, with {@code retry}, a retry is scheduled). */
        private boolean read(boolean retry) {
            KvRange range;
            try {
                range = kv.range(keys.securityPrefix()).get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                if (closed) {
                    return false; // close() interrupted the read: nothing failed
                }
                LOG.warn("cannot read users and ACLs ({}){}", e.toString(), retry ? "; trying again in a second" : "");
                if (retry) {
                    retry(1000);
                }
                return false;
            }
            synchronized (this) {
                if (!closed && range.revision() >= applied) {
                    values.clear();
                    range.entries().forEach(e -> values.put(e.key(), e.value()));
                    applied = range.revision();
                    listener.accept(snapshot(values, applied));
                }
            }
            return true;
        }

        private void reread() {
            try {
                if (!closed) {
                    read(false);
                }
            } catch (RuntimeException e) {
                LOG.warn("cannot read users and ACLs again ({})", e.toString());
            }
        }

        private synchronized void apply(List<KvEvent> events) {
            if (closed) {
                return;
            }
            boolean changed = false;
            for (KvEvent e : events) {
                if (e.revision() <= applied) {
                    continue;
                }
                if (e.type() == KvEvent.Type.PUT) {
                    values.put(e.key(), e.value());
                } else {
                    values.remove(e.key());
                }
                applied = e.revision();
                changed = true;
            }
            if (changed) {
                listener.accept(snapshot(values, applied));
            }
        }

        private void retry(long delayMs) {
            try {
                timer.schedule(this::readAndWatch, delayMs, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // closed meanwhile
            }
        }

        private void closeWatch() {
            if (watch != null) {
                try {
                    watch.close();
                } catch (Exception e) {
                    // gone either way
                }
                watch = null;
            }
        }

        @Override
        public synchronized void close() {
            closed = true;
            timer.shutdownNow();
            closeWatch();
        }
    }

    @Override
    public CompletableFuture<Void> markAuthRequired() {
        String key = keys.securityMode();
        return kv.get(key).thenCompose(v -> v.isPresent() ? CompletableFuture.completedFuture(null)
                : kv.txn(List.of(KvGuard.absent(key)), List.of(new KvOp.Put(key,
                        "required".getBytes(java.nio.charset.StandardCharsets.UTF_8)))).thenApply(r -> null));
    }

    @Override
    public CompletableFuture<byte[]> producerKey() {
        String key = keys.producerKey();
        return kv.get(key).thenCompose(found -> {
            if (found.isPresent()) {
                return CompletableFuture.completedFuture(found.get().value());
            }
            byte[] fresh = new byte[32];
            new java.security.SecureRandom().nextBytes(fresh);
            // Whoever comes first makes it; everyone else reads theirs.
            return kv.txn(List.of(KvGuard.absent(key)), List.of(new KvOp.Put(key, fresh)))
                    .thenCompose(r -> r.succeeded() ? CompletableFuture.completedFuture(fresh) : producerKey());
        });
    }

    @Override
    public CompletableFuture<Boolean> authRequired() {
        return kv.get(keys.securityMode()).thenApply(Optional::isPresent);
    }

    @Override
    public CompletableFuture<Optional<User>> user(String name) {
        String key = keys.user(User.requireName(name));
        return kv.get(key).thenApply(v -> v.map(x -> SecurityCodec.decodeUser(key, x.value())));
    }
}
