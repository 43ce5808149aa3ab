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
    private final KvStore kv;
    private final KeyLayout keys;

    public KvSecurityStore(KvStore kv, KeyLayout keys) {
        this.kv = kv;
        this.keys = keys;
    }

    @Override
    public CompletableFuture<Boolean> putUser(User user, boolean replace) {
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
                    : putUser(user, replace)); // changed meanwhile: decide again on what is there now
        });
    }

    @Override
    public CompletableFuture<Boolean> removeUser(String name) {
        return delete(keys.user(User.requireName(name)));
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
        return delete(keys.acl(acl.id()));
    }

    private CompletableFuture<Boolean> delete(String key) {
        return kv.get(key).thenCompose(existing -> existing.isEmpty() ? CompletableFuture.completedFuture(false)
                : kv.txn(List.of(new KvGuard(key, existing.get().modRevision())), List.of(new KvOp.Delete(key)))
                        .thenCompose(r -> r.succeeded() ? CompletableFuture.completedFuture(true) : delete(key)));
    }

    /** Bounds what every node holds in memory; a race may pass it by a few, which the bound allows for. */
    private CompletableFuture<Void> requireRoom(String prefix, int max, String what) {
        return kv.range(prefix).thenAccept(range -> {
            if (range.entries().size() >= max) {
                throw new IllegalStateException("the cluster has " + range.entries().size() + " " + what
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
        for (Map.Entry<String, byte[]> e : values.entrySet()) {
            try {
                if (e.getKey().startsWith(keys.usersPrefix())) {
                    User u = SecurityCodec.decodeUser(e.getKey(), e.getValue());
                    users.put(u.name(), u);
                } else if (e.getKey().startsWith(keys.aclsPrefix())) {
                    acls.add(SecurityCodec.decodeAcl(e.getKey(), e.getValue()));
                }
            } catch (RuntimeException bad) {
                // One unreadable rule must not open or close everything else: it is left out, and said.
                LOG.error("ignoring {}: {}", e.getKey(), bad.getMessage());
            }
        }
        return new SecuritySnapshot(revision, users, acls);
    }

    @Override
    public AutoCloseable follow(Consumer<SecuritySnapshot> listener) {
        Follower f = new Follower(listener);
        f.start();
        return f;
    }

    /** Reads the set, then applies the watch's changes to it; reads again after a broken watch. */
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

        Follower(Consumer<SecuritySnapshot> listener) {
            this.listener = listener;
        }

        void start() {
            timer.execute(this::readAndWatch);
        }

        private void readAndWatch() {
            if (closed) {
                return;
            }
            KvRange range;
            try {
                range = kv.range(keys.securityPrefix()).get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                LOG.warn("cannot read users and ACLs ({}); trying again in a second", e.toString());
                timer.schedule(this::readAndWatch, 1, TimeUnit.SECONDS);
                return;
            }
            synchronized (this) {
                if (closed) {
                    return;
                }
                values.clear();
                range.entries().forEach(e -> values.put(e.key(), e.value()));
                listener.accept(snapshot(values, range.revision()));
                watch = kv.watch(keys.securityPrefix(), range.revision(), new KvWatchListener() {
                    @Override
                    public void onEvents(List<KvEvent> events) {
                        synchronized (Follower.this) {
                            if (closed) {
                                return;
                            }
                            for (KvEvent e : events) {
                                if (e.type() == KvEvent.Type.PUT) {
                                    values.put(e.key(), e.value());
                                } else {
                                    values.remove(e.key());
                                }
                            }
                            listener.accept(snapshot(values, events.get(events.size() - 1).revision()));
                        }
                    }

                    @Override
                    public void onBroken(Throwable cause) {
                        if (!closed) {
                            LOG.warn("the watch of users and ACLs broke ({}); reading them again", cause.toString());
                            timer.schedule(Follower.this::readAndWatch, 200, TimeUnit.MILLISECONDS);
                        }
                    }
                });
            }
        }

        @Override
        public synchronized void close() {
            closed = true;
            timer.shutdownNow();
            if (watch != null) {
                try {
                    watch.close();
                } catch (Exception e) {
                    // gone either way
                }
            }
        }
    }

    @Override
    public CompletableFuture<Optional<User>> user(String name) {
        String key = keys.user(User.requireName(name));
        return kv.get(key).thenApply(v -> v.map(x -> SecurityCodec.decodeUser(key, x.value())));
    }
}
