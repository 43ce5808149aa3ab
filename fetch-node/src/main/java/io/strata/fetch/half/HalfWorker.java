package io.strata.fetch.half;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.strata.api.v1.HalfCheck;
import io.strata.api.v1.HalfDecision;
import io.strata.api.v1.Header;
import io.strata.api.v1.ProduceRequest;
import io.strata.api.v1.Record;
import io.strata.api.v1.TopicPartitionRecords;
import io.strata.fetch.grpc.FetchHandler;
import io.strata.fetch.index.IndexView;
import io.strata.fetch.index.SideLogEnds;
import io.strata.fetch.share.RecordAppender;
import io.strata.format.HalfMessages;
import io.strata.format.LogRecord;
import io.strata.format.RecordHeader;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.PartitionId;
import io.strata.metadata.PartitionOffsets;
import io.strata.metadata.Topic;
import io.strata.metadata.half.HalfStore;
import io.strata.transactions.half.HalfDecisions;
import io.strata.transactions.half.HalfScan;
import io.strata.transactions.half.HalfState;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides and delivers half messages (docs/transactions.md, "Half messages with check-back") of the partitions this
 * fetch node owns. It reads each partition's half log and gives every half message found a state in the metadata
 * store (pending, or the decision its producer already sent); it checks pending ones past their check interval with
 * a live producer of their group, and rolls back those still undecided after the most checks; it appends committed
 * ones to their partition through the ingest path as the partition's idempotent delivery producer, the round written
 * down first so that a node that stops midway leaves a round the next one sends again and the ingest path answers as
 * a duplicate; it drops rolled-back ones. Every step is a compare-and-set, so two nodes that both think they own a
 * partition only waste work, and each half message is decided, and delivered, exactly once.
 *
 * <p>One thread calls {@link #runOnce}; it blocks on each call, with a timeout. Checks run asynchronously, at most
 * {@link #CHECKS_IN_FLIGHT} at once.
 */
public final class HalfWorker {
    private static final Logger LOG = LoggerFactory.getLogger(HalfWorker.class);
    /** A scan step gives at most this many half messages their state (one metadata transaction). */
    static final int SCAN_RECORDS = 100;
    /** ... and a pass takes at most this many steps of one partition. */
    static final int SCAN_STEPS = 10;
    /** A delivery round's most records, and about its most bytes. */
    static final int ROUND_RECORDS = 100;
    static final long ROUND_BYTES = 1 << 20;
    static final int CHECKS_IN_FLIGHT = 64;
    private static final long TIMEOUT_S = 30;
    private static final long TOPICS_EVERY_MS = 2_000;

    /** How often undecided half messages are checked, and how many times before they are rolled back. */
    public record Settings(long checkIntervalMs, int maxChecks) {
        public static final Settings DEFAULTS = new Settings(HalfDecisions.DEFAULT_CHECK_INTERVAL_MS,
                HalfDecisions.DEFAULT_MAX_CHECKS);

        public Settings {
            if (checkIntervalMs < 100 || maxChecks < 0) {
                throw new IllegalArgumentException("a check interval of at least 100 ms and no negative checks");
            }
        }
    }

    private final MetadataStore metadata;
    private final HalfStore halves;
    private final FetchHandler fetch;
    private final IndexView index;
    private final RecordAppender appender;
    private final HalfChecker checker;
    private final Predicate<PartitionId> owns;
    private final Settings settings;
    private final Clock clock;
    private final SideLogEnds halfLogs;
    private final java.util.concurrent.Executor answers;
    private final Semaphore checks = new Semaphore(CHECKS_IN_FLIGHT);
    private final LongAdder found = new LongAdder();
    private final LongAdder delivered = new LongAdder();
    private final LongAdder dropped = new LongAdder();
    private final LongAdder asked = new LongAdder();
    private final LongAdder decidedByCheck = new LongAdder();
    private final LongAdder exhausted = new LongAdder();
    private volatile long pending;
    private Map<Long, Topic> topics = Map.of();
    private long lastTopicId;
    private long topicsReadAtMs = Long.MIN_VALUE / 2;

    /**
     * {@code answers} runs what a check's answer leads to (a metadata write): never the thread that completes the
     * answer, which may be a gRPC event loop.
     */
    public HalfWorker(MetadataStore metadata, FetchHandler fetch, IndexView index, RecordAppender appender,
                      HalfChecker checker, Predicate<PartitionId> owns, Settings settings, Clock clock,
                      java.util.concurrent.Executor answers) {
        this.metadata = metadata;
        this.halves = metadata.halves();
        this.fetch = fetch;
        this.index = index;
        this.appender = appender;
        this.checker = checker;
        this.owns = owns;
        this.settings = settings;
        this.clock = clock;
        this.answers = answers;
        this.halfLogs = SideLogEnds.halves(metadata, index);
    }

    /** Half messages found in half logs and given their state. */
    public long found() {
        return found.sum();
    }

    /** Committed half messages appended to their partition. */
    public long delivered() {
        return delivered.sum();
    }

    /** Rolled-back half messages dropped. */
    public long dropped() {
        return dropped.sum();
    }

    /** Checks asked of producers. */
    public long checksAsked() {
        return asked.sum();
    }

    /** Half messages a check-back decided. */
    public long decidedByCheck() {
        return decidedByCheck.sum();
    }

    /** Half messages rolled back after the most checks went unanswered. */
    public long checksExhausted() {
        return exhausted.sum();
    }

    /** Half messages undecided in the partitions this node owns, at its last pass. */
    public long pending() {
        return pending;
    }

    /**
     * One pass over the owned partitions' half messages. Answers false when it could not start (the metadata store
     * did not answer): the next one should wait a little.
     */
    public boolean runOnce() {
        long now = clock.millis();
        Map<PartitionId, HalfStore.Stored> scans;
        Map<PartitionId, List<HalfStore.Message>> messages = new HashMap<>();
        try {
            if (now - topicsReadAtMs >= TOPICS_EVERY_MS) {
                // Read first: a topic of an id up to this one not listed after was deleted, not created meanwhile.
                lastTopicId = metadata.lastTopicId().get(TIMEOUT_S, TimeUnit.SECONDS);
                Map<Long, Topic> byId = new HashMap<>();
                metadata.listTopics().get(TIMEOUT_S, TimeUnit.SECONDS).forEach(t -> byId.put(t.topicId(), t));
                topics = byId;
                halfLogs.forgetTopics(byId.keySet(), lastTopicId);
                topicsReadAtMs = now;
            }
            scans = halves.scans().get(TIMEOUT_S, TimeUnit.SECONDS);
            halves.messages().get(TIMEOUT_S, TimeUnit.SECONDS)
                    .forEach(m -> messages.computeIfAbsent(m.partition(), k -> new ArrayList<>()).add(m));
        } catch (Exception e) {
            LOG.debug("reading topics and half messages failed; trying again", e);
            return false;
        }
        List<PartitionId> owned = new ArrayList<>();
        for (Topic t : topics.values()) {
            for (int p = 0; p < t.partitions(); p++) {
                PartitionId id = t.partition(p);
                if (owns.test(id)) {
                    owned.add(id);
                }
            }
        }
        Map<PartitionId, PartitionOffsets> logs;
        try {
            logs = halfLogs.of(owned, TIMEOUT_S);
        } catch (Exception e) {
            LOG.debug("reading half logs' offsets failed; trying again", e);
            return false;
        }
        long undecided = 0;
        for (PartitionId p : owned) {
            PartitionOffsets log = logs.get(p);
            HalfStore.Stored scan = scans.get(p);
            List<HalfStore.Message> of = messages.getOrDefault(p, List.of());
            if (scan == null && of.isEmpty() && (log == null || log.nextOffset() == 0)) {
                continue;
            }
            try {
                undecided += work(p, topics.get(p.topicId()), log, scan, of);
            } catch (Exception e) {
                LOG.warn("half messages of {}: {} (trying again)", p, rootMessage(e));
            }
        }
        pending = undecided;
        forgetDeleted(scans, messages);
        return true;
    }

    /** One owned partition's turn; answers how many of its half messages are undecided. */
    private long work(PartitionId p, Topic topic, PartitionOffsets log, HalfStore.Stored stored,
                      List<HalfStore.Message> messages) throws Exception {
        HalfScan scan = stored == null ? HalfScan.EMPTY : HalfScan.decode(stored.value());
        long revision = stored == null ? 0 : stored.revision();
        // The states listed were read after the scan at the pass's start: those behind it are all there.
        long listedBelow = scan.scanned();
        boolean roundDone = true;
        if (scan.intent() != null) {
            try {
                deliverRound(p, topic, scan, revision);
            } catch (Exception e) {
                // Checks and drops go on meanwhile: one round that cannot go out must not hold back the rest.
                LOG.warn("half messages of {}: the delivery round written down failed ({}); sent again next pass", p,
                        rootMessage(e));
            }
            roundDone = false; // a new round is planned next pass, from what stands then
        } else {
            for (int step = 0; step < SCAN_STEPS && log != null && log.nextOffset() > scan.scanned(); step++) {
                OptionalLong next = scanStep(p, log, scan, revision);
                if (next.isEmpty()) {
                    break;
                }
                HalfStore.Stored now = halves.scan(p).get(TIMEOUT_S, TimeUnit.SECONDS).orElseThrow();
                scan = HalfScan.decode(now.value());
                revision = now.revision();
            }
        }
        long now = clock.millis();
        List<Long> commit = new ArrayList<>();
        List<HalfStore.Change> settle = new ArrayList<>();
        long undecided = 0;
        for (HalfStore.Message m : messages) {
            if (m.offset() >= listedBelow) {
                continue; // decided ahead of the scan: it gets its group and time when the scan finds it
            }
            HalfState state = HalfState.decode(m.stored().value());
            switch (state.status()) {
                case PENDING -> {
                    undecided++;
                    switch (HalfDecisions.due(state, now, settings.maxChecks())) {
                        case CHECK -> check(p, topic, m, state, now);
                        case GIVE_UP -> giveUp(p, m, state);
                        case WAIT -> { }
                    }
                }
                case COMMIT -> {
                    if (commit.size() < ROUND_RECORDS) {
                        commit.add(m.offset());
                    }
                }
                case ROLLBACK -> {
                    if (settle.size() < halves.maxChanges()) {
                        settle.add(new HalfStore.Change(m.offset(), state.settled(now).encode(), m.stored().revision()));
                        LOG.info("half message {} of group '{}' rolled back (by {}): dropped",
                                new HalfMessages.Id(p.topicId(), p.partition(), m.offset()), state.group(),
                                state.decidedBy());
                    }
                }
                case DELIVERED, DROPPED -> {
                    if (now - state.settledAtMs() >= HalfDecisions.SETTLED_KEPT_MS && settle.size() < halves.maxChanges()) {
                        settle.add(new HalfStore.Change(m.offset(), null, m.stored().revision()));
                    }
                }
            }
        }
        if (!settle.isEmpty() && halves.apply(p, -1, null, settle).get(TIMEOUT_S, TimeUnit.SECONDS).isPresent()) {
            dropped.add(settle.stream().filter(c -> c.value() != null).count());
        }
        if (roundDone && !commit.isEmpty() && topic != null) {
            planAndDeliver(p, topic, commit);
        }
        return undecided;
    }

    /**
     * Writes a round of committed half messages down and sends it. The scan is read first and the states after it,
     * so that a round another node delivered meanwhile (states and scan change together) either shows in the states
     * or fails the guard on the scan: a message is never planned twice.
     */
    private void planAndDeliver(PartitionId p, Topic topic, List<Long> candidates) throws Exception {
        HalfStore.Stored stored = halves.scan(p).get(TIMEOUT_S, TimeUnit.SECONDS).orElse(null);
        HalfScan scan = stored == null ? HalfScan.EMPTY : HalfScan.decode(stored.value());
        long revision = stored == null ? 0 : stored.revision();
        if (scan.intent() != null) {
            return; // another node's round: the next pass sends it again
        }
        Map<Long, HalfState> states = new HashMap<>();
        halves.messages(p, candidates.get(0), candidates.get(candidates.size() - 1) + 1).get(TIMEOUT_S, TimeUnit.SECONDS)
                .forEach(m -> states.put(m.offset(), HalfState.decode(m.stored().value())));
        List<Long> offsets = new ArrayList<>();
        long bytes = 0;
        for (long offset : candidates) {
            HalfState state = states.get(offset);
            if (state == null || state.status() != HalfState.Status.COMMIT) {
                continue;
            }
            LogRecord record = recordAt(p.half(), offset);
            long size = record == null ? 0 : sizeOf(record);
            if (!offsets.isEmpty() && bytes + size > ROUND_BYTES) {
                break; // one request of at most about this much; the rest go in the next round
            }
            offsets.add(offset);
            bytes += size;
        }
        if (offsets.isEmpty()) {
            return;
        }
        if (scan.producerId() < 0) {
            HalfScan next = scan.withProducer(appender.newProducerId().get(TIMEOUT_S, TimeUnit.SECONDS));
            revision = save(p, next, revision);
            scan = next;
        }
        HalfScan next = scan.planning(offsets, clock.millis());
        revision = save(p, next, revision);
        deliverRound(p, topic, next, revision);
    }

    private static long sizeOf(LogRecord r) {
        long size = r.value().length + (r.key() == null ? 0 : r.key().length);
        for (RecordHeader h : r.headers()) {
            size += h.key().length() + h.value().length;
        }
        return size;
    }

    /** Writes the scan under its revision; answers the new one. */
    private long save(PartitionId p, HalfScan next, long revision) throws Exception {
        OptionalLong written = halves.apply(p, revision, next.encode(), List.of()).get(TIMEOUT_S, TimeUnit.SECONDS);
        if (written.isEmpty()) {
            throw new IllegalStateException("another node moved the half scan of " + p + " meanwhile");
        }
        return written.getAsLong();
    }

    /** Gives the half messages next in the half log their state: pending, or the decision sent ahead of the scan. */
    private OptionalLong scanStep(PartitionId p, PartitionOffsets log, HalfScan scan, long revision) throws Exception {
        PartitionId half = p.half();
        long from = Math.max(scan.scanned(), log.logStartOffset());
        long end = Math.min(log.nextOffset(), from + SCAN_RECORDS);
        index.load(half).get(TIMEOUT_S, TimeUnit.SECONDS);
        FetchHandler.RangeRead read = fetch.recordsBetween(half, from, end - 1, ROUND_BYTES)
                .get(TIMEOUT_S, TimeUnit.SECONDS);
        long to = Math.min(read.readTo(), end);
        if (to <= from && from == scan.scanned()) {
            return OptionalLong.empty(); // not readable on this node yet
        }
        to = Math.max(to, from);
        Map<Long, HalfStore.Stored> ahead = new HashMap<>();
        halves.messages(p, from, to).get(TIMEOUT_S, TimeUnit.SECONDS).forEach(m -> ahead.put(m.offset(), m.stored()));
        List<HalfStore.Change> changes = new ArrayList<>();
        for (FetchHandler.OffsetRecord r : read.records()) {
            if (r.offset() < from || r.offset() >= to) {
                continue;
            }
            String group = HalfMessages.groupOf(r.record().headers());
            // Stamped by the producer's clock (a batch keeps its timestamps): one ahead would put its checks off.
            long sentAt = Math.min(r.record().timestampMs(), clock.millis());
            HalfStore.Stored decided = ahead.get(r.offset());
            if (decided != null) {
                HalfState state = HalfState.decode(decided.value());
                changes.add(new HalfStore.Change(r.offset(), state.found(group == null ? "" : group, sentAt).encode(),
                        decided.revision()));
            } else {
                changes.add(new HalfStore.Change(r.offset(), HalfState.pending(group == null ? "" : group, sentAt,
                        settings.checkIntervalMs()).encode(), 0));
            }
        }
        OptionalLong written = halves.apply(p, revision, scan.scannedTo(to).encode(), changes)
                .get(TIMEOUT_S, TimeUnit.SECONDS);
        if (written.isPresent()) {
            found.add(changes.size()); // else another node moved it, or a producer decided meanwhile: read again
        }
        return written;
    }

    /**
     * Reads the message, counts one more check in its state (one per interval, whichever node asks), then asks its
     * group. A message that cannot be read yet is not counted: its check comes at a later pass.
     */
    private void check(PartitionId p, Topic topic, HalfStore.Message m, HalfState state, long now) throws Exception {
        if (topic == null || !checks.tryAcquire()) {
            return; // the next pass asks
        }
        boolean handedOver = false;
        try {
            HalfMessages.Id id = new HalfMessages.Id(p.topicId(), p.partition(), m.offset());
            LogRecord record = recordAt(p.half(), m.offset());
            if (record == null) {
                LOG.warn("half message {} is no longer in its half log: it is rolled back", id);
                decide(p, m.offset(), false, "checks exhausted");
                return;
            }
            if (halves.apply(p, -1, null, List.of(new HalfStore.Change(m.offset(),
                    state.checked(now + settings.checkIntervalMs()).encode(), m.stored().revision())))
                    .get(TIMEOUT_S, TimeUnit.SECONDS).isEmpty()) {
                return; // decided or checked meanwhile
            }
            HalfCheck ask = HalfCheck.newBuilder().setId(id.toString()).setTopic(topic.name())
                    .setPartition(p.partition()).setRecord(toRecord(record)).setChecks(state.checks()).build();
            asked.increment();
            checker.check(state.group(), ask).whenCompleteAsync((decision, e) -> {
                checks.release();
                if (decision == HalfDecision.HALF_DECISION_COMMIT || decision == HalfDecision.HALF_DECISION_ROLLBACK) {
                    try {
                        if (decide(p, m.offset(), decision == HalfDecision.HALF_DECISION_COMMIT, "check-back")) {
                            decidedByCheck.increment();
                        }
                    } catch (Exception failed) {
                        LOG.warn("half message {}: the check-back's answer could not be written ({}); it is asked "
                                + "again at its next check", id, rootMessage(failed));
                    }
                }
            }, answers);
            handedOver = true; // the answer releases its place
        } finally {
            if (!handedOver) {
                checks.release();
            }
        }
    }

    /** The decision of a check-back or of the limit of checks, if the message is still pending. */
    private boolean decide(PartitionId p, long offset, boolean commit, String by) throws Exception {
        for (int attempt = 0; attempt < 3; attempt++) {
            var stored = halves.message(p, offset).get(TIMEOUT_S, TimeUnit.SECONDS);
            if (stored.isEmpty()) {
                return false;
            }
            HalfState state = HalfState.decode(stored.get().value());
            if (state.status() != HalfState.Status.PENDING) {
                return false;
            }
            if (halves.apply(p, -1, null, List.of(new HalfStore.Change(offset, state.decided(commit, by).encode(),
                    stored.get().revision()))).get(TIMEOUT_S, TimeUnit.SECONDS).isPresent()) {
                return true;
            }
        }
        return false;
    }

    private void giveUp(PartitionId p, HalfStore.Message m, HalfState state) throws Exception {
        if (halves.apply(p, -1, null, List.of(new HalfStore.Change(m.offset(),
                state.decided(false, "checks exhausted").encode(), m.stored().revision())))
                .get(TIMEOUT_S, TimeUnit.SECONDS).isPresent()) {
            exhausted.increment();
            LOG.warn("half message {} of group '{}' rolled back: {} checks brought no decision",
                    new HalfMessages.Id(p.topicId(), p.partition(), m.offset()), state.group(), state.checks());
        }
    }

    /**
     * Sends the round written down in the scan and settles it: stored (now or before) marks its messages delivered;
     * a producer the ingest path does not know (any more) makes way for a new one numbered from 0, with the same
     * round; a deleted topic leaves it to {@link #forgetDeleted}.
     */
    private void deliverRound(PartitionId p, Topic topic, HalfScan scan, long revision) throws Exception {
        if (topic == null) {
            return;
        }
        Optional<Topic> current = metadata.getTopic(topic.name()).get(TIMEOUT_S, TimeUnit.SECONDS);
        if (current.isEmpty() || current.get().topicId() != p.topicId()) {
            return; // deleted, perhaps created again: these messages were for the one that is gone
        }
        HalfScan.Intent intent = scan.intent();
        TopicPartitionRecords.Builder entry = TopicPartitionRecords.newBuilder().setTopic(topic.name())
                .setPartition(p.partition());
        java.util.Set<Long> lost = new java.util.HashSet<>();
        for (long offset : intent.offsets()) {
            LogRecord record = recordAt(p.half(), offset);
            if (record == null) {
                LOG.error("committed half message {} is no longer in its half log (past its retention): lost",
                        new HalfMessages.Id(p.topicId(), p.partition(), offset));
                lost.add(offset);
                continue;
            }
            entry.addRecords(toRecord(record));
        }
        boolean undeliverable = false;
        for (int attempt = 0; entry.getRecordsCount() > 0; attempt++) {
            ProduceRequest request = ProduceRequest.newBuilder().setProducerId(scan.producerId()).setTimeoutMs(30_000)
                    .addEntries(entry.setBaseSequence(scan.intent().baseSequence())).build();
            // An unknown outcome is thrown: the round stays written down, the next pass sends it again.
            Status.Code refusal = io.strata.fetch.share.AppendOutcome.of(appender, request, TIMEOUT_S + 5);
            if (refusal == null) {
                break; // stored, now or before
            }
            if (refusal == Status.Code.NOT_FOUND) {
                return; // the topic is gone
            }
            if (refusal == Status.Code.INVALID_ARGUMENT && intent.offsets().size() > 1) {
                // Nothing of it was stored: the round is written down again as its first message alone, so that a
                // message the ingest path refuses is found and refused on its own; the rest go in later rounds.
                HalfScan alone = new HalfScan(scan.scanned(), scan.producerId(), scan.nextSequence(),
                        new HalfScan.Intent(List.of(intent.offsets().get(0)), scan.nextSequence(), intent.plannedAtMs()));
                deliverRound(p, topic, alone, save(p, alone, revision));
                return;
            }
            if (refusal == Status.Code.INVALID_ARGUMENT) {
                // The ingest path will never take this record (its limits changed since it was sent): said loudly,
                // and settled, rather than holding the partition's deliveries back for good.
                LOG.error("committed half message {} is refused by the ingest path as invalid: dropped undelivered",
                        new HalfMessages.Id(p.topicId(), p.partition(), intent.offsets().get(0)));
                undeliverable = true;
                break;
            }
            if ((refusal == Status.Code.ABORTED || refusal == Status.Code.FAILED_PRECONDITION) && attempt == 0) {
                HalfScan next = scan.withProducer(appender.newProducerId().get(TIMEOUT_S, TimeUnit.SECONDS));
                revision = save(p, next, revision);
                scan = next;
                continue;
            }
            throw new IllegalStateException("the ingest path refused half messages for " + p + " (" + refusal + ")");
        }
        List<HalfStore.Change> settled = new ArrayList<>();
        Map<Long, HalfStore.Stored> states = new HashMap<>();
        halves.messages(p, intent.offsets().get(0), intent.offsets().get(intent.offsets().size() - 1) + 1)
                .get(TIMEOUT_S, TimeUnit.SECONDS).forEach(m -> states.put(m.offset(), m.stored()));
        long now = clock.millis();
        for (long offset : intent.offsets()) {
            HalfStore.Stored s = states.get(offset);
            HalfState state = s == null ? null : HalfState.decode(s.value());
            if (state != null && state.status() == HalfState.Status.COMMIT) {
                settled.add(new HalfStore.Change(offset, (undeliverable || lost.contains(offset)
                        ? state.undeliverable(now) : state.settled(now)).encode(), s.revision()));
            }
        }
        // Refused records took no sequences: the next round goes on from the same one.
        HalfScan done = new HalfScan(scan.scanned(), scan.producerId(), scan.nextSequence()
                + (undeliverable ? 0 : entry.getRecordsCount()), null);
        if (halves.apply(p, revision, done.encode(), settled).get(TIMEOUT_S, TimeUnit.SECONDS).isPresent()
                && !undeliverable) {
            delivered.add(settled.size() - lost.size());
        }
    }

    /** The half messages and scans of topics that are gone (each metadata transaction a bounded step). */
    private void forgetDeleted(Map<PartitionId, HalfStore.Stored> scans, Map<PartitionId, List<HalfStore.Message>> messages) {
        try {
            for (Map.Entry<PartitionId, List<HalfStore.Message>> e : messages.entrySet()) {
                if (deleted(e.getKey())) {
                    List<HalfStore.Change> gone = new ArrayList<>();
                    for (HalfStore.Message m : e.getValue()) {
                        if (gone.size() < halves.maxChanges()) {
                            gone.add(new HalfStore.Change(m.offset(), null, m.stored().revision()));
                        }
                    }
                    halves.apply(e.getKey(), -1, null, gone).get(TIMEOUT_S, TimeUnit.SECONDS);
                }
            }
            for (Map.Entry<PartitionId, HalfStore.Stored> e : scans.entrySet()) {
                if (deleted(e.getKey()) && !messages.containsKey(e.getKey())) {
                    halves.deleteScan(e.getKey(), e.getValue().revision()).get(TIMEOUT_S, TimeUnit.SECONDS);
                }
            }
        } catch (Exception e) {
            LOG.debug("forgetting half messages of deleted topics failed; trying again", e);
        }
    }

    private boolean deleted(PartitionId p) {
        return p.topicId() <= lastTopicId && !topics.containsKey(p.topicId());
    }

    private LogRecord recordAt(PartitionId log, long offset) throws Exception {
        index.load(log).get(TIMEOUT_S, TimeUnit.SECONDS);
        FetchHandler.RangeRead read = fetch.recordsBetween(log, offset, offset).get(TIMEOUT_S, TimeUnit.SECONDS);
        for (FetchHandler.OffsetRecord r : read.records()) {
            if (r.offset() == offset) {
                return r.record();
            }
        }
        if (read.readTo() <= offset) {
            throw new IllegalStateException("the half log of " + log.target() + " is not readable up to " + offset
                    + " on this node yet");
        }
        return null;
    }

    /** The half message as it is delivered (and checked): key, value and headers but its group's. */
    static Record toRecord(LogRecord r) {
        Record.Builder b = Record.newBuilder().setValue(ByteString.copyFrom(r.value()));
        if (r.key() != null) {
            b.setKey(ByteString.copyFrom(r.key()));
        }
        for (RecordHeader h : r.headers()) {
            if (!HalfMessages.GROUP_HEADER.equals(h.key())) {
                b.addHeaders(Header.newBuilder().setKey(h.key()).setValue(ByteString.copyFrom(h.value())));
            }
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
