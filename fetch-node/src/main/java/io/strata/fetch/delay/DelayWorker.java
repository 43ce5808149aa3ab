package io.strata.fetch.delay;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.strata.api.v1.Header;
import io.strata.api.v1.ProduceRequest;
import io.strata.api.v1.Record;
import io.strata.api.v1.TopicPartitionRecords;
import io.strata.fetch.grpc.FetchHandler;
import io.strata.fetch.index.IndexView;
import io.strata.fetch.index.SideLogEnds;
import io.strata.fetch.share.RecordAppender;
import io.strata.format.DeliverAt;
import io.strata.format.LogRecord;
import io.strata.format.RecordHeader;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.PartitionId;
import io.strata.metadata.PartitionOffsets;
import io.strata.metadata.Topic;
import io.strata.metadata.delay.DelayStateStore;
import io.strata.queues.delay.DelayState;
import io.strata.queues.delay.DelayedEntry;
import io.strata.queues.delay.DeliveryRound;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers delayed records (docs/queues.md, "Delayed delivery") for the partitions this fetch node owns. A producer's
 * delayed records land in the partition's staging log; this worker copies them, a scan at a time, into a bucket
 * (an object sorted by due time) named in the partition's delay state in the metadata store, and when records come
 * due it appends them to the partition through the ingest path as the state's idempotent producer. Every step is a
 * compare-and-set on that state, and a round of deliveries is written down (which entries, which sequence numbers)
 * before its first record goes out: a node that finds a round written down sends the same batch again, which the
 * ingest path stores once. So a delayed record is delivered exactly once whichever node crashes when, and two
 * nodes that both think they own a partition only waste work.
 *
 * <p>One thread works through the owned partitions in turn ({@link #runOnce}); it blocks on each call, with a timeout.
 */
public final class DelayWorker {
    private static final Logger LOG = LoggerFactory.getLogger(DelayWorker.class);
    /** A scan copies at most this many staged records into one bucket. */
    static final int SCAN_RECORDS = 50_000;
    /** ... and about this many bytes of them (and one chunk), read at most this many records at a time. */
    static final long SCAN_BYTES = 16L << 20;
    static final int SCAN_STEP = 2_000;
    /** Past this many buckets a partition's smallest ones are merged. */
    static final int MAX_BUCKETS = 16;
    /** A merge writes a bucket of at most about this size. */
    static final long MERGE_BYTES = 32L << 20;
    /** A delivery round's most records and bytes: one batch of one produce request. */
    static final int ROUND_RECORDS = 2_000;
    static final long ROUND_BYTES = 1 << 20;
    private static final long TIMEOUT_S = 30;
    /**
     * A round written down less than this long ago that meets a producer the ingest path does not know was not
     * stored: the ingest path keeps a producer's state a day after its last batch (strata.producer.state-expiry),
     * and no one would set that below an hour.
     */
    static final long SURELY_REMEMBERED_MS = 3_600_000;
    /** How long one partition is worked on before the others get their turn. */
    static final long TURN_NANOS = TimeUnit.MILLISECONDS.toNanos(1_000);
    private static final long TOPICS_EVERY_MS = 2_000;

    private final MetadataStore metadata;
    private final DelayStateStore states;
    private final FetchHandler fetch;
    private final IndexView index;
    private final RecordAppender appender;
    private final DelayBuckets buckets;
    private final Predicate<PartitionId> owns;
    private final Clock clock;
    private final SideLogEnds stagingLogs;
    private final Map<PartitionId, Tracked> tracked = new ConcurrentHashMap<>();
    private final LongAdder staged = new LongAdder();
    private final LongAdder delivered = new LongAdder();
    private final LongAdder replayed = new LongAdder();
    private final LongAdder uncertain = new LongAdder();
    private volatile Map<Long, Topic> topics = Map.of();
    private long topicsReadAtMs = Long.MIN_VALUE / 2;
    /** When a partition whose topic was not listed made this worker list the topics again (once a pass). */
    private long relistedAtMs = Long.MIN_VALUE / 2;

    /** What this node knows of a partition's delayed records. */
    private static final class Tracked {
        DelayState state;
        long revision; // 0: not stored
        boolean loaded;
        long nextDueMs; // Long.MIN_VALUE: not known, look
    }

    public DelayWorker(MetadataStore metadata, FetchHandler fetch, IndexView index, RecordAppender appender,
                       io.strata.storage.object.ObjectStore objects, Predicate<PartitionId> owns, Clock clock) {
        this.metadata = metadata;
        this.states = metadata.delays();
        this.fetch = fetch;
        this.index = index;
        this.appender = appender;
        this.buckets = new DelayBuckets(objects, 32L << 20);
        this.owns = owns;
        this.clock = clock;
        this.stagingLogs = SideLogEnds.staging(metadata, index);
    }

    /** Delayed records copied out of staging logs into buckets. */
    public long staged() {
        return staged.sum();
    }

    /** Delayed records appended to their partition. */
    public long delivered() {
        return delivered.sum();
    }

    /** Rounds found written down and sent again (a node stopped between writing one down and settling it). */
    public long replayed() {
        return replayed.sum();
    }

    /** Delayed records waiting in the partitions this node works on. */
    public long pending() {
        return tracked.entrySet().stream().filter(e -> e.getValue().state != null && owns.test(e.getKey()))
                .mapToLong(e -> e.getValue().state.pending()).sum();
    }

    /**
     * Rounds sent again under a new producer after the ingest path forgot the old one, written down longer ago than
     * it is sure to remember a producer: if the first send was stored, its records are now there twice.
     */
    public long uncertainRounds() {
        return uncertain.sum();
    }

    /** When the next record of the owned partitions is due, as far as known ({@code Long.MAX_VALUE}: none known). */
    public long nextDueMs() {
        long next = Long.MAX_VALUE;
        for (Map.Entry<PartitionId, Tracked> e : tracked.entrySet()) {
            Tracked t = e.getValue();
            if (t.state != null && t.state.pending() > 0 && owns.test(e.getKey())) {
                next = Math.min(next, Math.max(0, t.nextDueMs)); // a round written down is due at once
            }
        }
        return next;
    }

    /**
     * One pass over the owned partitions: what was staged goes into buckets, what is due is delivered. Answers false
     * when the pass could not even start (the metadata store did not answer): the next one should wait a little.
     */
    public boolean runOnce() {
        long now = clock.millis();
        try {
            refresh(now);
        } catch (Exception e) {
            LOG.debug("reading topics and delay states failed; trying again", e);
            return false;
        }
        List<PartitionId> owned = tracked.keySet().stream().filter(owns).sorted().toList();
        Map<PartitionId, PartitionOffsets> staging;
        try {
            // Even with nothing owned: the first call takes the topics there are as older than the watch, and a
            // topic created after it is never read whole.
            staging = stagingLogs.of(owned, TIMEOUT_S);
        } catch (Exception e) {
            LOG.debug("reading staging offsets failed; trying again", e);
            return false;
        }
        if (owned.isEmpty()) {
            return true;
        }
        for (PartitionId p : owned) {
            Tracked t = tracked.get(p);
            PartitionOffsets o = staging.get(p);
            boolean staged = o != null && o.nextOffset() > (t.state == null ? 0 : t.state.scanned());
            boolean due = t.state != null && t.nextDueMs <= clock.millis();
            if (!staged && !due && t.loaded) {
                continue;
            }
            try {
                work(p, t, o);
            } catch (Exception e) {
                t.loaded = false; // read the state again: another node may have moved it
                t.nextDueMs = clock.millis() + 1_000; // and not at once
                LOG.warn("delayed records of {}: {} (trying again)", p, rootMessage(e));
            }
        }
        return true;
    }

    /** The topics, and the partitions with delayed records: staged ones are found by their offsets. */
    private void refresh(long now) throws Exception {
        if (now - topicsReadAtMs < TOPICS_EVERY_MS) {
            return;
        }
        // Read first: a topic of an id up to this one not listed after was deleted, not created meanwhile.
        long lastTopicId = metadata.lastTopicId().get(TIMEOUT_S, TimeUnit.SECONDS);
        Map<Long, Topic> byId = new HashMap<>();
        metadata.listTopics().get(TIMEOUT_S, TimeUnit.SECONDS).forEach(t -> byId.put(t.topicId(), t));
        topics = byId;
        stagingLogs.forgetTopics(byId.keySet(), lastTopicId);
        Set<PartitionId> known = new HashSet<>();
        for (Topic t : byId.values()) {
            for (int p = 0; p < t.partitions(); p++) {
                known.add(new PartitionId(t.topicId(), p));
            }
        }
        Map<PartitionId, DelayStateStore.Stored> stored = new HashMap<>();
        for (DelayStateStore.Named n : states.list().get(TIMEOUT_S, TimeUnit.SECONDS)) {
            known.add(n.partition());
            stored.put(n.partition(), n.stored());
        }
        tracked.keySet().retainAll(known);
        for (PartitionId p : known) {
            Tracked t = tracked.computeIfAbsent(p, k -> new Tracked());
            // As listed (nothing of this node's is under way: the same thread works): another node may have moved
            // it since this one last looked. A partition without a stored state has no delayed records yet.
            DelayStateStore.Stored s = stored.get(p);
            long revision = s == null ? 0 : s.revision();
            if (!t.loaded || revision != t.revision) {
                try {
                    t.state = s == null ? DelayState.EMPTY : DelayState.decode(s.state());
                } catch (IllegalArgumentException e) {
                    // One partition's state this node cannot read stops that partition only (loudly), not the rest.
                    tracked.remove(p);
                    LOG.error("the delay state of {} cannot be read ({}): its delayed records wait", p, e.getMessage());
                    continue;
                }
                t.revision = revision;
                t.loaded = true;
                t.nextDueMs = Long.MIN_VALUE;
            }
        }
        topicsReadAtMs = now;
    }

    private void reload(PartitionId p, Tracked t) throws Exception {
        Optional<DelayStateStore.Stored> stored = states.load(p).get(TIMEOUT_S, TimeUnit.SECONDS);
        t.state = stored.map(s -> DelayState.decode(s.state())).orElse(DelayState.EMPTY);
        t.revision = stored.map(DelayStateStore.Stored::revision).orElse(0L);
        t.loaded = true;
        t.nextDueMs = Long.MIN_VALUE;
    }

    private void work(PartitionId p, Tracked t, PartitionOffsets staging) throws Exception {
        if (!t.loaded) { // after a failure: another node may have moved it
            reload(p, t);
        }
        Topic topic = topics.get(p.topicId());
        if (topic == null && clock.millis() - relistedAtMs >= TOPICS_EVERY_MS) {
            // The topics were listed before the states: a topic created between the two reads (its first delayed
            // records staged by another node) is missing from the one and not from the other. Its state goes only
            // if a listing taken now does not hold the topic either (one listing a pass, however many partitions).
            Map<Long, Topic> byId = new HashMap<>();
            metadata.listTopics().get(TIMEOUT_S, TimeUnit.SECONDS).forEach(x -> byId.put(x.topicId(), x));
            topics = byId;
            relistedAtMs = clock.millis();
            topic = byId.get(p.topicId());
        }
        if (topic == null) {
            forget(p, t);
            return;
        }
        if (t.state.intent() != null) {
            reload(p, t); // a round is sent again only as it stands now, never from an older copy
        }
        if (t.state.intent() != null) {
            replayed.increment();
            DelayState.Intent i = t.state.intent();
            if (i.baseSequence() == 0 && clock.millis() - i.plannedAtMs() >= SURELY_REMEMBERED_MS) {
                // A producer's first batch is taken from a producer the ingest path does not know: had it been
                // stored and the producer forgotten since, it is stored again, without a refusal to tell.
                uncertain.increment();
                LOG.warn("delayed records of {}: sending again a first round written down {} s ago; if it was stored "
                        + "and its producer forgotten since, its records are now there twice", p,
                        (clock.millis() - i.plannedAtMs()) / 1000);
            }
            if (!deliverRound(p, t, topic, replay(t.state))) {
                return;
            }
        }
        if (staging != null && staging.nextOffset() > t.state.scanned()) {
            scan(p, t, staging);
        }
        if (t.state.buckets().size() > MAX_BUCKETS) {
            merge(p, t);
        }
        long until = System.nanoTime() + TURN_NANOS;
        while (System.nanoTime() < until) {
            long now = clock.millis();
            List<DeliveryRound.Head> heads = new ArrayList<>();
            long next = Long.MAX_VALUE;
            for (DelayState.Bucket b : t.state.buckets()) {
                DeliveryRound.Head h = buckets.head(b, now);
                if (h != null) {
                    heads.add(h);
                }
                next = Math.min(next, buckets.nextDue(b));
            }
            t.nextDueMs = next;
            DeliveryRound.Round round = DeliveryRound.plan(heads, now, ROUND_RECORDS, ROUND_BYTES);
            if (round.isEmpty()) {
                return;
            }
            if (t.state.producerId() < 0) {
                long id = appender.newProducerId().get(TIMEOUT_S, TimeUnit.SECONDS);
                save(p, t, t.state.withProducer(id));
            }
            save(p, t, t.state.planning(round.takes(), clock.millis()));
            if (!deliverRound(p, t, topic, round.entries())) {
                return;
            }
        }
    }

    /** The entries of the round written down, read again from their buckets. */
    private List<DelayedEntry> replay(DelayState state) throws Exception {
        Map<String, DelayState.Bucket> byKey = new HashMap<>();
        state.buckets().forEach(b -> byKey.put(b.objectKey(), b));
        List<List<DelayedEntry>> slices = new ArrayList<>();
        for (DeliveryRound.Take take : state.intent().takes()) {
            slices.add(buckets.slice(byKey.get(take.bucket()), take.from(), take.to()));
        }
        return DeliveryRound.replay(state.intent().takes(), slices);
    }

    /**
     * Sends the round written down in the state and settles it: stored (now or before) counts it delivered; a
     * producer the ingest path does not know (any more) or a gap makes way for a new producer numbered from 0,
     * with the same round; a deleted topic ends the partition's delayed records.
     */
    private boolean deliverRound(PartitionId p, Tracked t, Topic topic, List<DelayedEntry> entries) throws Exception {
        Optional<Topic> current = metadata.getTopic(topic.name()).get(TIMEOUT_S, TimeUnit.SECONDS);
        if (current.isEmpty() || current.get().topicId() != p.topicId()) {
            forget(p, t); // deleted, perhaps created again: these records were for the one that is gone
            return false;
        }
        for (int attempt = 0; ; attempt++) {
            TopicPartitionRecords.Builder entry = TopicPartitionRecords.newBuilder().setTopic(topic.name())
                    .setPartition(p.partition()).setBaseSequence(t.state.intent().baseSequence());
            for (DelayedEntry e : entries) {
                entry.addRecords(Record.parseFrom(e.record()));
            }
            ProduceRequest request = ProduceRequest.newBuilder().setProducerId(t.state.producerId())
                    .setTimeoutMs(30_000).addEntries(entry).build();
            // An unknown outcome is thrown: the round stays written down, the next pass sends it again.
            Status.Code refusal = io.strata.fetch.share.AppendOutcome.of(appender, request, TIMEOUT_S + 5);
            if (refusal == null) {
                break; // stored, now or before
            }
            if (refusal == Status.Code.NOT_FOUND) {
                forget(p, t);
                return false;
            }
            if ((refusal == Status.Code.ABORTED || refusal == Status.Code.FAILED_PRECONDITION) && attempt == 0) {
                if (clock.millis() - t.state.intent().plannedAtMs() >= SURELY_REMEMBERED_MS) {
                    uncertain.increment();
                    LOG.warn("delayed records of {}: a round written down {} s ago meets a producer the ingest path "
                            + "no longer knows; sent again under a new one (if its first send was stored, its {} "
                            + "records are now there twice)", p, (clock.millis() - t.state.intent().plannedAtMs()) / 1000,
                            entries.size());
                }
                Optional<Topic> still = metadata.getTopic(topic.name()).get(TIMEOUT_S, TimeUnit.SECONDS);
                if (still.isEmpty() || still.get().topicId() != p.topicId()) {
                    forget(p, t); // the refusal may be a new topic's under the old name
                    return false;
                }
                long id = appender.newProducerId().get(TIMEOUT_S, TimeUnit.SECONDS);
                save(p, t, t.state.withProducer(id));
                continue;
            }
            throw new IllegalStateException("the ingest path refused delayed records for " + p + " (" + refusal + ")");
        }
        Set<String> before = keys(t.state);
        save(p, t, t.state.roundDelivered());
        delivered.add(entries.size());
        before.removeAll(keys(t.state));
        buckets.delete(before);
        return true;
    }

    /** Copies newly staged records into a bucket; the state then names it and how far the staging log was read. */
    private void scan(PartitionId p, Tracked t, PartitionOffsets staging) throws Exception {
        PartitionId log = p.staging();
        long from = Math.max(t.state.scanned(), staging.logStartOffset());
        long end = Math.min(staging.nextOffset(), from + SCAN_RECORDS);
        index.load(log).get(TIMEOUT_S, TimeUnit.SECONDS);
        long now = clock.millis();
        List<DelayedEntry> entries = new ArrayList<>();
        long bytes = 0;
        long readTo = from;
        while (readTo < end && bytes < SCAN_BYTES) {
            long last = Math.min(end, readTo + SCAN_STEP) - 1;
            // At most the budget left and one chunk: a step of large records stops early.
            FetchHandler.RangeRead read = fetch.recordsBetween(log, readTo, last, SCAN_BYTES - bytes)
                    .get(TIMEOUT_S, TimeUnit.SECONDS);
            long to = Math.min(read.readTo(), last + 1); // the last chunk read may reach past what was asked
            for (FetchHandler.OffsetRecord r : read.records()) {
                long due = DeliverAt.of(r.record().headers());
                byte[] record = toRecord(r.record()).toByteArray();
                entries.add(new DelayedEntry(due < 0 ? now : due, r.offset(), record));
                bytes += record.length;
            }
            if (to <= readTo) {
                break; // this node cannot read further yet
            }
            readTo = to;
        }
        if (readTo <= from && from == t.state.scanned()) {
            return; // not readable on this node yet
        }
        entries.sort(DelayedEntry.ORDER);
        DelayState.Bucket bucket = entries.isEmpty() ? null
                : buckets.write("delay/" + p.topicId() + "/" + p.partition() + "/" + from + "-" + (readTo - 1),
                        entries);
        DelayState next = t.state.scannedTo(Math.max(readTo, from), bucket);
        if (bucket != null && next.producerId() < 0) { // the producer deliveries go out as, taken ahead of them
            next = next.withProducer(appender.newProducerId().get(TIMEOUT_S, TimeUnit.SECONDS));
        }
        save(p, t, next);
        staged.add(entries.size());
        t.nextDueMs = Long.MIN_VALUE;
    }

    /** Merges the smallest buckets (by what they have left) into one, while they stay under {@link #MERGE_BYTES}. */
    private void merge(PartitionId p, Tracked t) throws Exception {
        List<DelayState.Bucket> bySize = new ArrayList<>(t.state.buckets());
        bySize.sort(Comparator.comparingLong(DelayWorker::leftBytes));
        List<DelayState.Bucket> chosen = new ArrayList<>();
        long bytes = 0;
        for (DelayState.Bucket b : bySize) {
            if (chosen.size() >= 8 || (chosen.size() >= 2 && bytes + leftBytes(b) > MERGE_BYTES)) {
                break;
            }
            chosen.add(b);
            bytes += leftBytes(b);
        }
        if (chosen.size() < 2 || bytes > MERGE_BYTES) {
            return; // the buckets are large: more of them is cheaper than rewriting them
        }
        List<DelayedEntry> all = new ArrayList<>();
        for (DelayState.Bucket b : chosen) {
            all.addAll(buckets.slice(b, b.delivered(), b.count()));
        }
        all.sort(DelayedEntry.ORDER);
        DelayState.Bucket merged = buckets.write("delay/" + p.topicId() + "/" + p.partition() + "/m-"
                + java.util.UUID.randomUUID(), all);
        Set<String> replaced = new HashSet<>();
        chosen.forEach(b -> replaced.add(b.objectKey()));
        try {
            save(p, t, t.state.merged(replaced, merged));
        } catch (Conflict e) {
            buckets.delete(Set.of(merged.objectKey())); // surely not named: its key is new
            throw e;
        }
        buckets.delete(replaced);
    }

    private static long leftBytes(DelayState.Bucket b) {
        return Math.max(1, b.bytes() * (b.count() - b.delivered()) / b.count());
    }

    /** The partition's topic is gone: so are its delayed records. */
    private void forget(PartitionId p, Tracked t) throws Exception {
        if (t.revision != 0 && states.delete(p, t.revision).get(TIMEOUT_S, TimeUnit.SECONDS)) {
            buckets.delete(keys(t.state));
        }
        tracked.remove(p);
    }

    /** The state was not written: another node moved it first (anything else may or may not have been written). */
    static final class Conflict extends IllegalStateException {
        Conflict(PartitionId p) {
            super("another node changed the delay state of " + p + " meanwhile");
        }
    }

    private void save(PartitionId p, Tracked t, DelayState next) throws Exception {
        OptionalLong revision = states.save(p, next.encode(), t.revision).get(TIMEOUT_S, TimeUnit.SECONDS);
        if (revision.isEmpty()) {
            throw new Conflict(p);
        }
        t.state = next;
        t.revision = revision.getAsLong();
    }

    private static Set<String> keys(DelayState state) {
        Set<String> keys = new HashSet<>();
        state.buckets().forEach(b -> keys.add(b.objectKey()));
        return keys;
    }

    /** The record as it is delivered: its key, value and headers; its timestamp is the delivery's. */
    static Record toRecord(LogRecord r) {
        Record.Builder b = Record.newBuilder().setValue(ByteString.copyFrom(r.value()));
        if (r.key() != null) {
            b.setKey(ByteString.copyFrom(r.key()));
        }
        for (RecordHeader h : r.headers()) {
            b.addHeaders(Header.newBuilder().setKey(h.key()).setValue(ByteString.copyFrom(h.value())));
        }
        return b.build();
    }

    private static String rootMessage(Throwable t) {
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.toString();
    }
}
