package io.strata.metadata.embedded;

import com.google.protobuf.ByteString;
import io.strata.metadata.MetadataException;
import io.strata.metadata.codec.EmbeddedBatch;
import io.strata.metadata.codec.EmbeddedPut;
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
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The embedded {@link KvStore}: the etcd semantics Strata uses (revisions, guarded transactions, prefix
 * ranges, watches from a revision, leases), in one process, durable in a directory ({@link KvFiles}). It is
 * a product adapter, not a test double: the embedded default runs on it, and it survives restarts.
 *
 * <ul>
 *   <li>Transactions run in order on the {@code strata-embedded-kv-writer} thread; each is forced to disk
 *       before it becomes visible or is acknowledged, so nothing a reader saw can vanish in a crash. Those that
 *       wait together are written together and forced once (group commit): a transaction costs one fsync when it
 *       is alone, and many writers share one. Reads are answered at once from memory.</li>
 *   <li>Watches replay from a bounded history of recent revisions; a watch from before it breaks (like a
 *       compacted etcd watch), and its owner reads again. Events reach listeners on the
 *       {@code strata-embedded-kv-watch} thread, in revision order.</li>
 *   <li>Leased keys are not written to disk: after a restart the leases and their keys are gone, as they
 *       would have expired.</li>
 * </ul>
 * Owns those threads and {@code strata-embedded-kv-leases}; {@link #close()} stops them. Thread-safe.
 */
public final class EmbeddedKvStore implements KvStore {
    private static final int HISTORY_REVISIONS = 20_000;
    /** At most this many waiting transactions are written together and forced once. */
    private static final int GROUP_MAX = 256;
    private static final long SNAPSHOT_AFTER_LOG_BYTES = 64L << 20;

    /** The log is folded into a new snapshot once it holds more than this many bytes. */
    private final long snapshotAfterLogBytes;

    private final KvFiles files;
    private final Path dir;
    private final TreeMap<String, KeyValue> data = new TreeMap<>();
    private final ArrayDeque<Change> history = new ArrayDeque<>();
    private final List<Watcher> watchers = new CopyOnWriteArrayList<>();
    private final Map<Long, LeaseState> leases = new HashMap<>();
    private final ExecutorService writer = Executors.newSingleThreadExecutor(named("strata-embedded-kv-writer"));
    private final ExecutorService dispatcher = Executors.newSingleThreadExecutor(named("strata-embedded-kv-watch"));
    private final ScheduledExecutorService leaseTimer =
            Executors.newSingleThreadScheduledExecutor(named("strata-embedded-kv-leases"));
    /** Transactions asked for and not yet written; the writer thread takes them in groups. */
    private final java.util.concurrent.ConcurrentLinkedQueue<Pending> pending =
            new java.util.concurrent.ConcurrentLinkedQueue<>();
    private long revision;
    /** The oldest revision whose changes the history still holds (watches from before it break). */
    private long historyStart;
    private long nextLeaseId;
    private boolean closed;

    private record Change(long revision, List<KvEvent> events) {
    }

    private record Pending(List<KvGuard> guards, List<KvOp> ops, CompletableFuture<TxnResult> result) {
    }

    private static final class LeaseState {
        final long ttlNanos;
        long expiresAtNanos;
        final Set<String> keys = new HashSet<>();
        final CompletableFuture<Void> lost = new CompletableFuture<>();

        LeaseState(long ttlNanos) {
            this.ttlNanos = ttlNanos;
            this.expiresAtNanos = System.nanoTime() + ttlNanos;
        }
    }

    private EmbeddedKvStore(Path dir, long snapshotAfterLogBytes) {
        this.dir = dir;
        this.snapshotAfterLogBytes = snapshotAfterLogBytes;
        long[] recovered = new long[1];
        this.files = KvFiles.open(dir, data, recovered);
        this.revision = recovered[0];
        this.historyStart = revision + 1;
        leaseTimer.scheduleWithFixedDelay(this::expireLeases, 200, 200, TimeUnit.MILLISECONDS);
    }

    /** Opens (or creates) the store in {@code dir}; fails if another process has it open. */
    public static EmbeddedKvStore open(Path dir) {
        return new EmbeddedKvStore(dir, SNAPSHOT_AFTER_LOG_BYTES);
    }

    /** The same, folding the log into a snapshot beyond {@code snapshotAfterLogBytes} (tests use a small one). */
    static EmbeddedKvStore open(Path dir, long snapshotAfterLogBytes) {
        return new EmbeddedKvStore(dir, snapshotAfterLogBytes);
    }

    @Override
    public synchronized CompletableFuture<Optional<KeyValue>> get(String key) {
        if (closed) {
            return closedFuture();
        }
        return CompletableFuture.completedFuture(Optional.ofNullable(data.get(key)));
    }

    @Override
    public synchronized CompletableFuture<KvRange> getAll(Collection<String> keys, List<KeyRange> ranges) {
        if (closed) {
            return closedFuture();
        }
        if (keys.size() + ranges.size() > maxTxnOps()) {
            throw new IllegalArgumentException(keys.size() + " keys and " + ranges.size() + " ranges in one read, over "
                    + maxTxnOps());
        }
        java.util.TreeMap<String, KeyValue> found = new java.util.TreeMap<>();
        keys.forEach(k -> {
            KeyValue v = data.get(k);
            if (v != null) {
                found.put(k, v);
            }
        });
        for (KeyRange r : ranges) {
            if (r.from().compareTo(r.to()) < 0) {
                data.subMap(r.from(), true, r.to(), false).values().stream().limit(r.limit())
                        .forEach(v -> found.put(v.key(), v));
            }
        }
        return CompletableFuture.completedFuture(new KvRange(new ArrayList<>(found.values()), revision));
    }

    @Override
    public synchronized CompletableFuture<KvRange> range(String prefix) {
        if (closed) {
            return closedFuture();
        }
        List<KeyValue> found = new ArrayList<>(data.subMap(prefix, true, prefix + Character.MAX_VALUE, false).values());
        return CompletableFuture.completedFuture(new KvRange(found, revision));
    }

    @Override
    public synchronized CompletableFuture<KvRange> range(String fromKey, String toKey) {
        if (closed) {
            return closedFuture();
        }
        List<KeyValue> found = fromKey.compareTo(toKey) >= 0 ? List.of()
                : new ArrayList<>(data.subMap(fromKey, true, toKey, false).values());
        return CompletableFuture.completedFuture(new KvRange(found, revision));
    }

    @Override
    public CompletableFuture<TxnResult> txn(List<KvGuard> guards, List<KvOp> ops) {
        if (guards.size() > maxTxnOps() || ops.size() > maxTxnOps()) {
            throw new IllegalArgumentException("transaction of " + guards.size() + " guards and " + ops.size()
                    + " ops, over " + maxTxnOps());
        }
        Pending p = new Pending(List.copyOf(guards), List.copyOf(ops), new CompletableFuture<>());
        pending.add(p);
        try {
            writer.execute(this::drain);
        } catch (RejectedExecutionException e) {
            // Closing: fail it only if no drain took it (a drain answers what it took, applied or not).
            if (pending.remove(p)) {
                p.result().completeExceptionally(new MetadataException("the embedded metadata store is closed", false));
            }
        }
        return p.result();
    }

    /** Writes the transactions waiting now (up to {@link #GROUP_MAX}) as one group, then answers them. */
    private void drain() {
        List<Pending> group = new ArrayList<>();
        for (Pending p = pending.poll(); p != null; p = group.size() < GROUP_MAX ? pending.poll() : null) {
            group.add(p);
        }
        if (group.isEmpty()) {
            return; // an earlier drain took them
        }
        Object[] outcomes;
        try {
            outcomes = applyGroup(group);
        } catch (Throwable t) {
            outcomes = new Object[group.size()];
            java.util.Arrays.fill(outcomes, t);
        }
        for (int i = 0; i < group.size(); i++) {
            if (outcomes[i] instanceof TxnResult r) {
                group.get(i).result().complete(r);
            } else {
                group.get(i).result().completeExceptionally((Throwable) outcomes[i]);
            }
        }
    }

    /**
     * Applies the group in order, each transaction's guards checked against the state the ones before it left,
     * writes their log frames, forces the log once, and only then lets readers and watchers see them: all under the
     * store's lock, so that nothing is visible before it is durable. When writing or forcing fails, the log is cut
     * back and the group undone, and every one of its transactions fails (none was applied). Answers, per
     * transaction, its TxnResult or the Throwable it fails with.
     */
    private synchronized Object[] applyGroup(List<Pending> group) {
        Object[] outcomes = new Object[group.size()];
        if (closed) {
            java.util.Arrays.fill(outcomes, new MetadataException("the embedded metadata store is closed", false));
            return outcomes;
        }
        long revisionBefore = revision;
        long logBefore = files.logBytes();
        List<Runnable> undo = new ArrayList<>();
        List<Change> changes = new ArrayList<>();
        List<EmbeddedBatch> batches = new ArrayList<>();
        try {
            for (int i = 0; i < group.size(); i++) {
                try {
                    outcomes[i] = stage(group.get(i).guards(), group.get(i).ops(), undo, changes, batches);
                } catch (MetadataException refused) {
                    outcomes[i] = refused; // this one only (a lease gone): nothing of it was staged
                }
            }
            // One log record for the group, forced once: a crash mid-write loses the group whole, never a part.
            if (batches.size() == 1) {
                files.append(batches.get(0));
            } else if (!batches.isEmpty()) {
                files.append(EmbeddedBatch.newBuilder().addAllGroup(batches).build());
            }
        } catch (Throwable e) { // an Error as well: nothing of the group may stay visible without being durable
            for (int i = undo.size() - 1; i >= 0; i--) {
                undo.get(i).run();
            }
            revision = revisionBefore;
            try {
                files.truncate(logBefore); // append cut back its own record already; this is for certain
            } catch (IOException cut) {
                e.addSuppressed(cut);
            }
            java.util.Arrays.fill(outcomes, e instanceof IOException io
                    ? new MetadataException("the embedded metadata store could not write its log: " + io.getMessage(),
                    true, io) : e);
            return outcomes;
        }
        revision = revisionBefore;
        for (Change c : changes) {
            publish(c.revision(), c.events());
        }
        if (files.logBytes() > snapshotAfterLogBytes) {
            try {
                files.snapshot(revision, data.values());
            } catch (IOException e) {
                // Applied and durable in the log all the same; the next transaction folds the log again.
                org.slf4j.LoggerFactory.getLogger(EmbeddedKvStore.class).warn("folding the embedded metadata "
                        + "log into a snapshot failed; trying again at the next transaction", e);
            }
        }
        return outcomes;
    }

    /**
     * One transaction of a group: its guards checked against the state as staged so far, its log batch kept for the
     * group's record, its changes made to the data with their undoing noted, its events kept for when the group is
     * durable.
     * {@code revision} moves with it (the group restores it, then publishes).
     */
    private TxnResult stage(List<KvGuard> guards, List<KvOp> ops, List<Runnable> undo, List<Change> changes,
                            List<EmbeddedBatch> batches) {
        for (KvGuard guard : guards) {
            KeyValue current = data.get(guard.key());
            if ((current == null ? 0 : current.modRevision()) != guard.modRevision()) {
                return new TxnResult(false, revision);
            }
        }
        if (ops.isEmpty()) {
            return new TxnResult(true, revision);
        }
        long rev = revision + 1;
        EmbeddedBatch.Builder batch = EmbeddedBatch.newBuilder().setRevision(rev);
        List<KvEvent> events = new ArrayList<>(ops.size());
        for (KvOp op : ops) {
            if (op instanceof KvOp.Put put) {
                if (put.lease() != 0 && !leases.containsKey(put.lease())) {
                    throw new MetadataException("no such lease " + put.lease() + " (expired or revoked)", false);
                }
                if (put.lease() == 0) {
                    batch.addPuts(EmbeddedPut.newBuilder().setKey(put.key()).setValue(ByteString.copyFrom(put.value())));
                } else {
                    batch.addDeletes(put.key()); // a leased key must not outlive a restart in its durable form
                }
                events.add(new KvEvent(KvEvent.Type.PUT, put.key(), put.value(), rev));
            } else {
                batch.addDeletes(op.key());
                if (data.containsKey(op.key())) {
                    events.add(new KvEvent(KvEvent.Type.DELETE, op.key(), null, rev));
                }
            }
        }
        batches.add(batch.build());
        for (KvOp op : ops) {
            KeyValue old = data.get(op.key());
            if (old != null && old.lease() != 0) {
                LeaseState lease = leases.get(old.lease());
                if (lease != null && lease.keys.remove(op.key())) {
                    undo.add(() -> lease.keys.add(op.key()));
                }
            }
            if (op instanceof KvOp.Put put) {
                data.put(put.key(), new KeyValue(put.key(), put.value(), old == null ? rev : old.createRevision(), rev,
                        put.lease()));
                if (put.lease() != 0) {
                    LeaseState lease = leases.get(put.lease());
                    if (lease.keys.add(put.key())) {
                        undo.add(() -> lease.keys.remove(put.key()));
                    }
                }
            } else {
                data.remove(op.key());
            }
            undo.add(old == null ? () -> data.remove(op.key()) : () -> data.put(op.key(), old));
        }
        revision = rev;
        changes.add(new Change(rev, events));
        return new TxnResult(true, rev);
    }

    /** Makes revision {@code rev} current, keeps it in the history and hands its events to the watchers. */
    private void publish(long rev, List<KvEvent> events) {
        revision = rev;
        history.addLast(new Change(rev, events));
        while (history.size() > HISTORY_REVISIONS) {
            historyStart = history.removeFirst().revision() + 1;
        }
        for (Watcher w : watchers) {
            w.offer(events);
        }
    }

    /** Drops the kept history before {@code revision} (it is bounded anyway; this keeps etcd's semantics). */
    @Override
    public synchronized CompletableFuture<Void> compact(long revision) {
        if (closed) {
            return closedFuture();
        }
        if (revision > this.revision) {
            return CompletableFuture.failedFuture(new MetadataException("cannot compact to revision " + revision
                    + ", past the current " + this.revision, false));
        }
        while (!history.isEmpty() && history.peekFirst().revision() < revision) {
            history.removeFirst();
        }
        historyStart = Math.max(historyStart, revision);
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public synchronized AutoCloseable watch(String prefix, long afterRevision, KvWatchListener listener) {
        Watcher watcher = new Watcher(prefix, listener);
        if (closed) {
            watcher.broken(new MetadataException("the embedded metadata store is closed", false));
            return watcher;
        }
        if (afterRevision < revision) {
            if (afterRevision + 1 < historyStart) {
                watcher.broken(new MetadataException("watch from revision " + afterRevision
                        + " is older than the kept history (from " + historyStart + ")", true));
                return watcher;
            }
            for (Change change : history) {
                if (change.revision() > afterRevision) {
                    watcher.offer(change.events());
                }
            }
        }
        watchers.add(watcher);
        return watcher;
    }

    private final class Watcher implements AutoCloseable {
        private final String prefix;
        private final KvWatchListener listener;
        private final AtomicBoolean ended = new AtomicBoolean();

        Watcher(String prefix, KvWatchListener listener) {
            this.prefix = prefix;
            this.listener = listener;
        }

        void offer(List<KvEvent> events) {
            List<KvEvent> mine = events.stream().filter(e -> e.key().startsWith(prefix)).toList();
            if (!mine.isEmpty()) {
                dispatch(() -> {
                    if (!ended.get()) {
                        listener.onEvents(mine);
                    }
                });
            }
        }

        void broken(Throwable cause) {
            if (ended.compareAndSet(false, true)) {
                watchers.remove(this);
                dispatch(() -> listener.onBroken(cause));
            }
        }

        @Override
        public void close() {
            ended.set(true);
            watchers.remove(this);
        }
    }

    private void dispatch(Runnable task) {
        try {
            dispatcher.execute(task);
        } catch (RejectedExecutionException e) {
            // closed: listeners were told the watch broke
        }
    }

    @Override
    public CompletableFuture<KvLease> grantLease(Duration ttl) {
        long ttlNanos = Math.max(1, ttl.toSeconds()) * 1_000_000_000L;
        long id;
        LeaseState state = new LeaseState(ttlNanos);
        synchronized (this) {
            if (closed) {
                return closedFuture();
            }
            id = ++nextLeaseId;
            leases.put(id, state);
        }
        return CompletableFuture.completedFuture(new EmbeddedLease(id, state));
    }

    @Override
    public CompletableFuture<Long> grantSessionLease(Duration ttl) {
        LeaseState state = new LeaseState(Math.max(1, ttl.toSeconds()) * 1_000_000_000L);
        synchronized (this) {
            if (closed) {
                return closedFuture();
            }
            long id = ++nextLeaseId;
            leases.put(id, state);
            return CompletableFuture.completedFuture(id);
        }
    }

    @Override
    public CompletableFuture<Boolean> renewLease(long id) {
        synchronized (this) {
            if (closed) {
                return closedFuture();
            }
            LeaseState state = leases.get(id);
            if (state == null) {
                return CompletableFuture.completedFuture(false);
            }
            state.expiresAtNanos = System.nanoTime() + state.ttlNanos;
            return CompletableFuture.completedFuture(true);
        }
    }

    @Override
    public CompletableFuture<Void> revokeLease(long id) {
        synchronized (this) {
            if (closed) {
                return closedFuture();
            }
        }
        // Revoked by id, not by its holder's close(): to the holder the lease is lost, as etcd's keep-alive
        // finds it gone.
        endLease(id, true);
        return CompletableFuture.completedFuture(null);
    }

    /** Renews its lease every third of the TTL until closed, like a jetcd keep-alive. */
    private final class EmbeddedLease implements KvLease {
        private final long id;
        private final LeaseState state;
        private final ScheduledFuture<?> renewal;
        private final AtomicBoolean closed = new AtomicBoolean();

        EmbeddedLease(long id, LeaseState state) {
            this.id = id;
            this.state = state;
            long every = Math.max(1, state.ttlNanos / 3);
            this.renewal = leaseTimer.scheduleAtFixedRate(this::renew, every, every, TimeUnit.NANOSECONDS);
        }

        private void renew() {
            synchronized (EmbeddedKvStore.this) {
                if (leases.get(id) == state) {
                    state.expiresAtNanos = System.nanoTime() + state.ttlNanos;
                }
            }
        }

        @Override
        public long id() {
            return id;
        }

        @Override
        public CompletableFuture<Void> lost() {
            return state.lost;
        }

        @Override
        public void close() {
            if (closed.compareAndSet(false, true)) {
                renewal.cancel(false);
                endLease(id, false);
            }
        }
    }

    private void expireLeases() {
        List<Long> expired = new ArrayList<>();
        synchronized (this) {
            long now = System.nanoTime();
            leases.forEach((id, state) -> {
                if (now - state.expiresAtNanos > 0) {
                    expired.add(id);
                }
            });
        }
        expired.forEach(id -> endLease(id, true));
    }

    /** Removes the lease and deletes its keys as one revision (not logged: leased keys never are). */
    private void endLease(long id, boolean lost) {
        LeaseState state;
        synchronized (this) {
            state = leases.remove(id);
            if (state == null || closed) {
                return;
            }
            if (!state.keys.isEmpty()) {
                long rev = revision + 1;
                List<KvEvent> events = new ArrayList<>();
                for (Iterator<String> it = state.keys.iterator(); it.hasNext(); ) {
                    String key = it.next();
                    data.remove(key);
                    events.add(new KvEvent(KvEvent.Type.DELETE, key, null, rev));
                }
                publish(rev, events);
            }
        }
        if (lost) {
            state.lost.complete(null);
        }
    }

    /** Its files in their directory (the snapshot and the log). */
    @Override
    public CompletableFuture<Long> sizeBytes() {
        try (java.util.stream.Stream<Path> files = java.nio.file.Files.list(dir)) {
            long total = 0;
            for (Path f : files.toList()) {
                if (java.nio.file.Files.isRegularFile(f)) {
                    total += java.nio.file.Files.size(f);
                }
            }
            return CompletableFuture.completedFuture(total);
        } catch (java.io.IOException | java.io.UncheckedIOException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public int maxTxnOps() {
        return 128; // etcd's default, so that code proven here also fits etcd
    }

    @Override
    public int maxTxnBytes() {
        return 1024 * 1024;
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
        }
        writer.shutdown();
        try {
            writer.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            closed = true;
            for (Watcher w : List.copyOf(watchers)) {
                w.broken(new MetadataException("the embedded metadata store is closed", false));
            }
        }
        dispatcher.shutdown();
        leaseTimer.shutdownNow();
        files.close();
    }

    private static <T> CompletableFuture<T> closedFuture() {
        return CompletableFuture.failedFuture(new MetadataException("the embedded metadata store is closed", false));
    }

    private static ThreadFactory named(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }
}
