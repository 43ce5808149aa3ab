package io.strata.metadata.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.common.exception.CompactedException;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.grpc.stub.StreamObserver;
import io.strata.metadata.MetadataException;
import io.strata.metadata.kv.KeyRange;
import io.strata.metadata.kv.KeyValue;
import io.strata.metadata.kv.KvEvent;
import io.strata.metadata.kv.KvGuard;
import io.strata.metadata.kv.KvLease;
import io.strata.metadata.kv.KvOp;
import io.strata.metadata.kv.KvRange;
import io.strata.metadata.kv.KvStore;
import io.strata.metadata.kv.KvWatchListener;
import io.strata.metadata.kv.TxnResult;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@link KvStore} on etcd through jetcd. Keys are UTF-8; every call times out after the configured timeout;
 * prefix ranges are read in pages pinned to the first page's revision, so a large index reads consistently
 * without one oversized answer. etcd's own limits (128 ops a transaction, 1.5 MiB a request) are the
 * limits this adapter declares.
 *
 * <p>Threads: jetcd's (gRPC and its executor) complete every future and call watch listeners. Owns the
 * jetcd client; {@link #close()} closes it. Thread-safe.
 */
public final class EtcdKvStore implements KvStore {
    private static final int PAGE = 500;

    private final Client client;
    private final KV kv;
    private final Duration timeout;
    private final List<String> endpoints;
    private final java.util.Map<String, CompletableFuture<io.etcd.jetcd.maintenance.StatusResponse>> statusCalls =
            new java.util.concurrent.ConcurrentHashMap<>();

    /** Renews session leases on one stream; null for TLS endpoints, where jetcd renews them one stream each. */
    private final LeaseRenewer renewer;

    private EtcdKvStore(Client client, Duration timeout, LeaseRenewer renewer, List<String> endpoints) {
        this.endpoints = endpoints;
        this.client = client;
        this.kv = client.getKVClient();
        this.timeout = timeout;
        this.renewer = renewer;
    }

    public static EtcdKvStore connect(List<String> endpoints, Duration timeout) {
        return connect(endpoints, timeout, EtcdSecurity.NONE);
    }

    /** etcd over TLS and with credentials as {@code security} says (https:// endpoints with TLS). */
    public static EtcdKvStore connect(List<String> endpoints, Duration timeout, EtcdSecurity security) {
        if (endpoints.isEmpty()) {
            throw new IllegalArgumentException("no etcd endpoints");
        }
        io.etcd.jetcd.ClientBuilder builder = Client.builder().endpoints(endpoints.toArray(String[]::new))
                .connectTimeout(timeout)
                .retryMaxDuration(timeout)
                .keepaliveTime(Duration.ofSeconds(10))
                .keepaliveTimeout(Duration.ofSeconds(5))
                .maxInboundMessageSize(16 * 1024 * 1024);
        if (security.tls()) {
            try {
                builder.sslContext(b -> {
                    security.ca().ifPresent(ca -> b.trustManager(ca.toFile()));
                    if (security.certificate().isPresent()) {
                        b.keyManager(security.certificate().get().toFile(), security.key().get().toFile());
                    }
                });
            } catch (javax.net.ssl.SSLException e) {
                throw new IllegalArgumentException("cannot set up TLS to etcd: " + e.getMessage(), e);
            }
        }
        if (security.user().isPresent()) {
            builder.user(io.etcd.jetcd.ByteSequence.from(security.user().get(), java.nio.charset.StandardCharsets.UTF_8))
                    .password(io.etcd.jetcd.ByteSequence.from(security.password().get(),
                            java.nio.charset.StandardCharsets.UTF_8));
        }
        // The one-stream lease renewer dials plain http without credentials; with either, jetcd renews.
        LeaseRenewer renewer = security.tls() || security.user().isPresent() ? null
                : LeaseRenewer.forEndpoints(endpoints, timeout);
        return new EtcdKvStore(builder.build(), timeout, renewer, List.copyOf(endpoints));
    }

    @Override
    public CompletableFuture<Optional<KeyValue>> get(String key) {
        return call("get " + key, kv.get(bytes(key)).thenApply(r -> r.getKvs().isEmpty()
                ? Optional.<KeyValue>empty() : Optional.of(convert(r.getKvs().get(0)))));
    }

    @Override
    public CompletableFuture<KvRange> getAll(Collection<String> keys, List<KeyRange> ranges) {
        if (keys.size() + ranges.size() > maxTxnOps()) {
            throw new IllegalArgumentException(keys.size() + " keys and " + ranges.size() + " ranges in one read, over "
                    + maxTxnOps());
        }
        List<Op> gets = new ArrayList<>(keys.size() + ranges.size());
        keys.forEach(k -> gets.add(Op.get(bytes(k), GetOption.DEFAULT)));
        for (KeyRange r : ranges) {
            if (r.from().compareTo(r.to()) < 0) {
                gets.add(Op.get(bytes(r.from()), GetOption.builder().withRange(bytes(r.to())).withLimit(r.limit())
                        .withSortField(GetOption.SortTarget.KEY).withSortOrder(GetOption.SortOrder.ASCEND).build()));
            }
        }
        return call("read of " + keys.size() + " keys and " + ranges.size() + " ranges",
                kv.txn().Then(gets.toArray(Op[]::new)).commit().thenApply(r -> {
                    java.util.TreeMap<String, KeyValue> found = new java.util.TreeMap<>();
                    for (GetResponse g : r.getGetResponses()) {
                        g.getKvs().forEach(v -> {
                            KeyValue c = convert(v);
                            found.put(c.key(), c);
                        });
                    }
                    return new KvRange(new ArrayList<>(found.values()), r.getHeader().getRevision());
                }));
    }

    @Override
    public CompletableFuture<KvRange> range(String prefix) {
        return page(prefix, prefixEnd(prefix), 0, new ArrayList<>());
    }

    @Override
    public CompletableFuture<KvRange> range(String fromKey, String toKey) {
        if (fromKey.compareTo(toKey) >= 0) {
            return call("range " + fromKey, kv.get(bytes(fromKey))).thenApply(r ->
                    new KvRange(List.of(), r.getHeader().getRevision()));
        }
        return page(fromKey, toKey, 0, new ArrayList<>());
    }

    /** Reads keys from {@code from} up to {@code end} (excluded), {@link #PAGE} at a time, at one revision. */
    private CompletableFuture<KvRange> page(String from, String end, long revision, List<KeyValue> acc) {
        GetOption.Builder option = GetOption.builder().withRange(bytes(end)).withLimit(PAGE)
                .withSortField(GetOption.SortTarget.KEY).withSortOrder(GetOption.SortOrder.ASCEND);
        if (revision > 0) {
            option.withRevision(revision);
        }
        return call("range " + from, kv.get(bytes(from), option.build())).thenCompose(r -> {
            long rev = revision > 0 ? revision : r.getHeader().getRevision();
            r.getKvs().forEach(v -> acc.add(convert(v)));
            if (!r.isMore() || r.getKvs().isEmpty()) {
                return CompletableFuture.completedFuture(new KvRange(acc, rev));
            }
            String last = acc.get(acc.size() - 1).key();
            return page(last + '\0', end, rev, acc);
        });
    }

    @Override
    public CompletableFuture<TxnResult> txn(List<KvGuard> guards, List<KvOp> ops) {
        if (guards.size() > maxTxnOps() || ops.size() > maxTxnOps()) {
            throw new IllegalArgumentException("transaction of " + guards.size() + " guards and " + ops.size()
                    + " ops, over " + maxTxnOps());
        }
        Cmp[] cmps = guards.stream().map(g -> new Cmp(bytes(g.key()), Cmp.Op.EQUAL,
                CmpTarget.modRevision(g.modRevision()))).toArray(Cmp[]::new);
        Op[] writes = ops.stream().map(op -> op instanceof KvOp.Put p
                ? Op.put(bytes(p.key()), ByteSequence.from(p.value()),
                        p.lease() == 0 ? PutOption.DEFAULT : PutOption.builder().withLeaseId(p.lease()).build())
                : Op.delete(bytes(op.key()), DeleteOption.DEFAULT)).toArray(Op[]::new);
        return call("transaction", kv.txn().If(cmps).Then(writes).commit()
                .thenApply(r -> new TxnResult(r.isSucceeded(), r.getHeader().getRevision())));
    }

    @Override
    public AutoCloseable watch(String prefix, long afterRevision, KvWatchListener listener) {
        AtomicBoolean ended = new AtomicBoolean();
        WatchOption option = WatchOption.builder().withRange(bytes(prefixEnd(prefix)))
                .withRevision(afterRevision + 1).build();
        Watch.Watcher watcher = client.getWatchClient().watch(bytes(prefix), option, Watch.listener(response -> {
            if (ended.get()) {
                return;
            }
            List<KvEvent> events = new ArrayList<>(response.getEvents().size());
            for (WatchEvent e : response.getEvents()) {
                var v = e.getKeyValue();
                String key = v.getKey().toString(StandardCharsets.UTF_8);
                events.add(e.getEventType() == WatchEvent.EventType.PUT
                        ? new KvEvent(KvEvent.Type.PUT, key, v.getValue().getBytes(), v.getModRevision())
                        : new KvEvent(KvEvent.Type.DELETE, key, null, v.getModRevision()));
            }
            if (!events.isEmpty()) {
                listener.onEvents(events);
            }
        }, error -> {
            if (ended.compareAndSet(false, true)) {
                listener.onBroken(error instanceof CompactedException c
                        ? new MetadataException("watch history compacted at revision " + c.getCompactedRevision(),
                        true, c)
                        : new MetadataException("watch of " + prefix + " ended: " + error, true, error));
            }
        }, () -> {
            if (ended.compareAndSet(false, true)) {
                listener.onBroken(new MetadataException("watch of " + prefix + " completed", true));
            }
        }));
        return () -> {
            ended.set(true);
            watcher.close();
        };
    }

    @Override
    public CompletableFuture<Void> compact(long revision) {
        return call("compaction to revision " + revision, kv.compact(revision).thenApply(r -> (Void) null)
                .exceptionallyCompose(e -> {
                    Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
                    String message = String.valueOf(cause.getMessage());
                    return message.contains("has been compacted") ? CompletableFuture.completedFuture(null)
                            : CompletableFuture.failedFuture(cause);
                }));
    }

    @Override
    public CompletableFuture<KvLease> grantLease(Duration ttl) {
        long seconds = Math.max(1, ttl.toSeconds());
        return call("lease grant", client.getLeaseClient().grant(seconds)).thenApply(g -> {
            EtcdLease lease = new EtcdLease(g.getID());
            lease.keepAlive = client.getLeaseClient().keepAlive(g.getID(), lease);
            return lease;
        });
    }

    @Override
    public CompletableFuture<Long> grantSessionLease(Duration ttl) {
        return call("lease grant", client.getLeaseClient().grant(Math.max(1, ttl.toSeconds())))
                .thenApply(g -> g.getID());
    }

    @Override
    public CompletableFuture<Boolean> renewLease(long id) {
        if (renewer != null) {
            return renewer.renew(id);
        }
        // etcd answers a keep-alive of an unknown lease with TTL 0; jetcd reports it as an error naming it.
        return call("lease renewal", client.getLeaseClient().keepAliveOnce(id)
                .thenApply(r -> r.getTTL() > 0)
                .exceptionallyCompose(e -> leaseNotFound(e) ? CompletableFuture.completedFuture(false)
                        : CompletableFuture.failedFuture(e)));
    }

    @Override
    public CompletableFuture<Void> revokeLease(long id) {
        return call("lease revocation", client.getLeaseClient().revoke(id).thenApply(r -> (Void) null)
                .exceptionallyCompose(e -> leaseNotFound(e) ? CompletableFuture.completedFuture(null)
                        : CompletableFuture.failedFuture(e)));
    }

    private static boolean leaseNotFound(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (String.valueOf(t.getMessage()).contains("lease not found")) {
                return true;
            }
        }
        return false;
    }

    private final class EtcdLease implements KvLease, StreamObserver<LeaseKeepAliveResponse> {
        private final long id;
        private final CompletableFuture<Void> lost = new CompletableFuture<>();
        private final AtomicBoolean closed = new AtomicBoolean();
        private volatile io.etcd.jetcd.support.CloseableClient keepAlive;

        EtcdLease(long id) {
            this.id = id;
        }

        @Override
        public long id() {
            return id;
        }

        @Override
        public CompletableFuture<Void> lost() {
            return lost;
        }

        @Override
        public void onNext(LeaseKeepAliveResponse response) {
            if (response.getTTL() <= 0 && !closed.get()) {
                lost.complete(null); // etcd answered that the lease expired
            }
        }

        @Override
        public void onError(Throwable t) {
            if (!closed.get()) {
                lost.complete(null);
            }
        }

        @Override
        public void onCompleted() {
            if (!closed.get()) {
                lost.complete(null);
            }
        }

        @Override
        public void close() {
            if (!closed.compareAndSet(false, true)) {
                return;
            }
            var k = keepAlive;
            if (k != null) {
                k.close();
            }
            try {
                client.getLeaseClient().revoke(id).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                // The lease expires on its own after its TTL.
            }
        }
    }

    /** The largest backend database of the members that answer (members hold the same keys; one may lag). */
    @Override
    public CompletableFuture<Long> sizeBytes() {
        List<CompletableFuture<Long>> asked = new ArrayList<>();
        for (String endpoint : endpoints) {
            // A member that does not answer is asked again only once its last request ended: jetcd dials a
            // channel per status request, and those of a hung member would pile up every time the gauge is read.
            CompletableFuture<io.etcd.jetcd.maintenance.StatusResponse> status = statusCalls.compute(endpoint,
                    (e, last) -> last != null && !last.isDone() ? last : client.getMaintenanceClient().statusMember(e));
            asked.add(call("status of " + endpoint, status.thenApply(r -> r)).thenApply(r -> r.getDbSize())
                    .exceptionally(e -> -1L));
        }
        return CompletableFuture.allOf(asked.toArray(CompletableFuture[]::new)).thenApply(v -> {
            long size = asked.stream().mapToLong(CompletableFuture::join).max().orElse(-1);
            if (size < 0) {
                throw new io.strata.metadata.MetadataException("no etcd endpoint answered a status request", true, null);
            }
            return size;
        });
    }

    @Override
    public int maxTxnOps() {
        return 128;
    }

    @Override
    public int maxTxnBytes() {
        return 1024 * 1024; // under etcd's default 1.5 MiB request limit, with room for the envelope
    }

    @Override
    public void close() {
        if (renewer != null) {
            renewer.close();
        }
        client.close();
    }

    private <T> CompletableFuture<T> call(String what, CompletableFuture<T> future) {
        return future.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS).exceptionallyCompose(e ->
                CompletableFuture.failedFuture(translate(what, e)));
    }

    private static Throwable translate(String what, Throwable e) {
        Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        if (cause instanceof MetadataException) {
            return cause;
        }
        if (cause instanceof TimeoutException) {
            return new MetadataException("etcd " + what + " timed out", true, cause);
        }
        return new MetadataException("etcd " + what + " failed: " + cause.getMessage(), true, cause);
    }

    private static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    /** The first key after every key starting with {@code prefix} (etcd's range end for a prefix). */
    static String prefixEnd(String prefix) {
        char[] chars = prefix.toCharArray();
        for (int i = chars.length - 1; i >= 0; i--) {
            if (chars[i] < Character.MAX_VALUE) {
                chars[i]++;
                return new String(chars, 0, i + 1);
            }
        }
        return "\0";
    }

    private static KeyValue convert(io.etcd.jetcd.KeyValue v) {
        return new KeyValue(v.getKey().toString(StandardCharsets.UTF_8), v.getValue().getBytes(),
                v.getCreateRevision(), v.getModRevision(), v.getLease());
    }

}
