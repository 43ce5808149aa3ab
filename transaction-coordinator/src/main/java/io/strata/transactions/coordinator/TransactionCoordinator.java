package io.strata.transactions.coordinator;

import io.strata.metadata.MetadataStore;
import io.strata.metadata.PartitionId;
import io.strata.metadata.PartitionOffsets;
import io.strata.metadata.Topic;
import io.strata.metadata.txn.TransactionStore;
import io.strata.transactions.AbortMark;
import io.strata.transactions.TransactionCodec;
import io.strata.transactions.TransactionRecord;
import io.strata.transactions.Transactions;
import io.strata.transactions.TxnOffset;
import io.strata.transactions.TxnPartition;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Transactional producers' coordinator (docs/transactions.md): takes {@link Transactions}' decisions on a
 * transactional id's stored record and stores them with compare-and-set, deciding again on what another writer
 * stored first. Any node may coordinate any id, at the same time as others: the store orders them. An abort is
 * finished by whoever finds it prepared, so a coordinator that stops midway leaves nothing half done.
 * Thread-safe.
 */
public final class TransactionCoordinator {
    private static final Logger LOG = LoggerFactory.getLogger(TransactionCoordinator.class);
    /** How often one change is decided again on what another writer stored before it gives up. */
    private static final int ATTEMPTS = 16;

    /** A producer as its client holds it. */
    public record Producer(long producerId, int producerEpoch) {
    }

    /** A partition named as clients name it. */
    public record PartitionName(String topic, int partition) {
    }

    /** Another writer kept storing first: nothing of this change was stored. */
    public static final class ContendedException extends RuntimeException {
        ContendedException(String transactionalId) {
            super("transactional id " + transactionalId + " is being changed by others too; try again");
        }
    }

    /** Issues new producer ids, each to the principal a producer signed in as (where ids name their principal). */
    @FunctionalInterface
    public interface IdIssuer {
        CompletableFuture<Long> issue(String principal);

        /** Whether {@code producerId} is one the principal may be handed (one issued to it, where ids name one). */
        default boolean issuedTo(long producerId, String principal) {
            return true;
        }

        /** An issuer of {@code issue} whose ids go to the principals {@code issuedTo} says they were issued to. */
        static IdIssuer of(java.util.function.Function<String, CompletableFuture<Long>> issue,
                           java.util.function.BiPredicate<Long, String> issuedTo) {
            return new IdIssuer() {
                @Override
                public CompletableFuture<Long> issue(String principal) {
                    return issue.apply(principal);
                }

                @Override
                public boolean issuedTo(long producerId, String principal) {
                    return issuedTo.test(producerId, principal);
                }
            };
        }
    }

    private final MetadataStore metadata;
    private final IdIssuer ids;
    private final TransactionStore store;
    private final Transactions.Limits limits;
    private final Clock clock;
    private final long idExpiryMs;

    public TransactionCoordinator(MetadataStore metadata, Transactions.Limits limits, Clock clock) {
        this(metadata, limits, clock, Transactions.DEFAULT_ID_EXPIRY_MS);
    }

    /** @param idExpiryMs how long an id with no transaction open is kept unused */
    public TransactionCoordinator(MetadataStore metadata, Transactions.Limits limits, Clock clock, long idExpiryMs) {
        this(metadata, principal -> metadata.allocateProducerId(), limits, clock, idExpiryMs);
    }

    /** @param ids issues new producer ids (the metadata store's counter, bound to principals where they must be) */
    public TransactionCoordinator(MetadataStore metadata, IdIssuer ids, Transactions.Limits limits, Clock clock,
                                  long idExpiryMs) {
        this.metadata = metadata;
        this.ids = ids;
        this.store = metadata.transactions();
        this.limits = limits;
        this.clock = clock;
        this.idExpiryMs = idExpiryMs;
    }

    /**
     * A producer for the transactional id: its next epoch, fencing every producer before it; a transaction it left
     * open is aborted first (its records never read as committed).
     */
    public CompletableFuture<Producer> initProducer(String transactionalId, long timeoutMs) {
        return initProducer(transactionalId, timeoutMs, "User:ANONYMOUS");
    }

    /** As {@link #initProducer(String, long)}, a new producer id (when one is needed) issued to {@code principal}. */
    public CompletableFuture<Producer> initProducer(String transactionalId, long timeoutMs, String principal) {
        return initProducer(transactionalId, timeoutMs, principal, null);
    }

    /**
     * As {@link #initProducer(String, long, String)}, by a producer that names the producer it is now
     * ({@code current}, Kafka's epoch bump after an error, KIP-360): decided only while that is still the id's
     * producer, PRODUCER_FENCED otherwise (on the record as stored, so a zombie's bump can never fence its
     * successor).
     */
    public CompletableFuture<Producer> initProducer(String transactionalId, long timeoutMs, String principal,
                                                    Producer current) {
        try {
            Transactions.checkId(transactionalId);
        } catch (RuntimeException bad) {
            return CompletableFuture.failedFuture(bad);
        }
        // A new producer id is taken from the store before deciding, only when the decision will need one (an id
        // never seen, whose epochs are used up, or whose producer was issued to another principal), by the same
        // rule the decision applies; should another writer change that meanwhile, the init is refused as
        // contended rather than blocking for an id inside the decision.
        java.util.function.LongPredicate callersOwn = id -> ids.issuedTo(id, principal);
        return store.load(transactionalId).thenCompose(found -> {
            boolean needsId = Transactions.needsNewProducerId(
                    found.map(stored -> TransactionCodec.decode(stored.record())), callersOwn);
            return (needsId ? ids.issue(principal) : CompletableFuture.completedFuture(-1L));
        }).thenCompose(newId -> {
            // The producer is the one this call's stored decision issued, not whatever the record holds once the
            // abort it prepared is finished: by then a producer initialised after it may hold the record.
            java.util.concurrent.atomic.AtomicReference<TransactionRecord> decided =
                    new java.util.concurrent.atomic.AtomicReference<>();
            return change(transactionalId, stored -> {
                if (current != null && stored.isPresent() && (stored.get().producerId() != current.producerId()
                        || stored.get().producerEpoch() != current.producerEpoch())) {
                    throw new io.strata.transactions.TransactionException(
                            io.strata.transactions.TransactionError.PRODUCER_FENCED, "producer " + current.producerId()
                            + " at epoch " + current.producerEpoch() + " is no longer transactional id "
                            + transactionalId + "'s producer");
                }
                TransactionRecord next = Transactions.init(stored, transactionalId, timeoutMs, limits, callersOwn, () -> {
                    if (newId < 0) {
                        throw new ContendedException(transactionalId);
                    }
                    return newId;
                }, clock.millis());
                decided.set(next);
                return next;
            }, ATTEMPTS).thenApply(r -> new Producer(decided.get().producerId(), decided.get().producerEpoch()));
        });
    }

    /**
     * Adds partitions the producer is about to write to (beginning a transaction when none is open), each from the
     * partition's end now: its records there come after.
     */
    public CompletableFuture<TransactionRecord> addPartitions(String transactionalId, long producerId,
                                                              int producerEpoch, List<PartitionName> partitions) {
        return resolve(partitions).thenCompose(this::starts).thenCompose(starts -> change(transactionalId,
                current -> Transactions.add(current.orElse(null), producerId, producerEpoch, starts, List.of(), limits,
                        clock.millis()), ATTEMPTS));
    }

    /**
     * Adds partitions for the batches about to write to them, to the transaction they name by its epoch, beginning
     * it when it is the producer's next ({@link Transactions#addNamed}): an ingest node's part of a produce request
     * that adds its own partitions. The partitions are the node's, resolved already.
     */
    public CompletableFuture<TransactionRecord> addForBatches(String transactionalId, long producerId, long txnEpoch,
                                                              java.util.Collection<PartitionId> partitions) {
        return starts(List.copyOf(partitions)).thenCompose(starts -> change(transactionalId, current ->
                Transactions.addNamed(current.orElse(null), producerId, txnEpoch, starts, limits, clock.millis()),
                ATTEMPTS));
    }

    /** Each partition from its end now: a transaction's records there come after. */
    private CompletableFuture<List<TxnPartition>> starts(List<PartitionId> partitions) {
        return metadata.offsets(partitions).thenApply(offsets -> offsets.stream().map(o -> new TxnPartition(
                o.partition().topicId(), o.partition().partition(), o.nextOffset())).toList());
    }

    /** Begins a transaction of the producer when none is open (Kafka's AddOffsetsToTxn counts one begun). */
    public CompletableFuture<TransactionRecord> begin(String transactionalId, long producerId, int producerEpoch) {
        return change(transactionalId, current -> Transactions.begin(current.orElse(null), producerId, producerEpoch,
                clock.millis()), ATTEMPTS);
    }

    /** A consumer group's position to commit with the transaction: where the group reads the partition next. */
    public record GroupPosition(String topic, int partition, long offset, String metadata, long ownerEpoch) {
    }

    /**
     * Adds group offsets to commit with the open transaction (beginning one when none is open), as member
     * {@code memberId} of {@code group}, which must own each partition under the given ownership epoch now
     * ({@link io.strata.transactions.TransactionError#NOT_GROUP_OWNER} otherwise, nothing changed). The commit writes
     * them only while that ownership stands, and aborts the transaction otherwise (docs/transactions.md).
     */
    public CompletableFuture<TransactionRecord> addOffsets(String transactionalId, long producerId, int producerEpoch,
                                                           String group, String memberId, List<GroupPosition> positions) {
        if (!io.strata.metadata.group.GroupNames.validGroup(group) || memberId == null || memberId.isEmpty()
                || positions.isEmpty()) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("group offsets in a transaction name "
                    + "a valid group, the member committing them and at least one partition"));
        }
        List<PartitionName> names = positions.stream().map(p -> new PartitionName(p.topic(), p.partition())).toList();
        return resolve(names).thenCombine(metadata.groups().read(group), (ids, snapshot) -> {
            List<TxnOffset> offsets = new ArrayList<>();
            for (int i = 0; i < positions.size(); i++) {
                GroupPosition p = positions.get(i);
                io.strata.metadata.group.PartitionOwner owner = snapshot.owners().get(
                        new io.strata.metadata.group.TopicPartition(p.topic(), p.partition()));
                if (owner == null || !owner.memberId().equals(memberId) || owner.epoch() != p.ownerEpoch()) {
                    throw new io.strata.transactions.TransactionException(
                            io.strata.transactions.TransactionError.NOT_GROUP_OWNER, "member " + memberId + " of group "
                            + group + " does not own " + p.topic() + "/" + p.partition() + (owner == null ? ""
                            : " (its ownership moved)") + ": its offsets cannot be committed");
                }
                offsets.add(new TxnOffset(group, p.topic(), ids.get(i).topicId(), p.partition(), p.offset(),
                        p.metadata(), memberId, p.ownerEpoch()));
            }
            return offsets;
        }).thenCompose(offsets -> change(transactionalId, current -> Transactions.add(current.orElse(null),
                producerId, producerEpoch, List.of(), offsets, limits, clock.millis()), ATTEMPTS));
    }

    /**
     * Commits the open transaction, writing its group offsets with it while each member still owns its partitions;
     * a transaction whose member lost one is aborted instead (NOT_GROUP_OWNER). Asked again after it committed,
     * answers the same.
     */
    public CompletableFuture<TransactionRecord> commit(String transactionalId, long producerId, int producerEpoch) {
        return commit(transactionalId, producerId, producerEpoch, 0);
    }

    /** The commit of the transaction named by its epoch ({@code txnEpoch}; 0: whichever is open). */
    public CompletableFuture<TransactionRecord> commit(String transactionalId, long producerId, int producerEpoch,
                                                       long txnEpoch) {
        return commit(transactionalId, producerId, producerEpoch, txnEpoch, ATTEMPTS);
    }

    private CompletableFuture<TransactionRecord> commit(String transactionalId, long producerId, int producerEpoch,
                                                        long txnEpoch, int attemptsLeft) {
        return store.load(transactionalId).thenCompose(found -> {
            Optional<TransactionRecord> current = found.map(s -> TransactionCodec.decode(s.record()));
            Transactions.Commit decided = Transactions.commit(current.orElse(null), producerId, producerEpoch,
                    txnEpoch, clock.millis());
            if (decided.repeated()) {
                return CompletableFuture.completedFuture(decided.record());
            }
            return owners(decided.offsets()).thenCompose(owners -> {
                List<TransactionStore.GroupOffset> writes = new ArrayList<>();
                for (TxnOffset o : decided.offsets()) {
                    io.strata.metadata.group.PartitionOwner owner = owners.get(o);
                    if (owner == null || !owner.memberId().equals(o.memberId()) || owner.epoch() != o.ownerEpoch()) {
                        // A zombie's output never commits: the member that read the input lost it meanwhile.
                        long named = decided.record().txnEpoch();
                        return abort(transactionalId, producerId, producerEpoch, named).thenCompose(after ->
                                after.lastOutcome() == TransactionRecord.Outcome.COMMITTED
                                        ? CompletableFuture.completedFuture(after) // another commit of it won
                                        : CompletableFuture.failedFuture(new io.strata.transactions.TransactionException(
                                        io.strata.transactions.TransactionError.NOT_GROUP_OWNER, "member "
                                        + o.memberId() + " of group " + o.group() + " no longer owns " + o.topic() + "/"
                                        + o.partition() + ": the transaction was aborted")));
                    }
                    writes.add(new TransactionStore.GroupOffset(o.group(), o.topic(), o.partition(), o.topicId(),
                            o.offset(), o.metadata(), o.memberId(), o.ownerEpoch(), owner.revision()));
                }
                return store.save(transactionalId, TransactionCodec.encode(decided.record()),
                        found.get().revision(), open(current.get()), null, writes).thenCompose(saved -> {
                    if (saved.isPresent()) {
                        return CompletableFuture.completedFuture(decided.record());
                    }
                    if (attemptsLeft <= 1) {
                        return CompletableFuture.failedFuture(new ContendedException(transactionalId));
                    }
                    return commit(transactionalId, producerId, producerEpoch, txnEpoch, attemptsLeft - 1);
                });
            });
        });
    }

    /** The owners of the offsets' partitions now, one read per group. */
    private CompletableFuture<Map<TxnOffset, io.strata.metadata.group.PartitionOwner>> owners(List<TxnOffset> offsets) {
        Map<String, CompletableFuture<io.strata.metadata.group.GroupSnapshot>> groups = new LinkedHashMap<>();
        offsets.forEach(o -> groups.computeIfAbsent(o.group(), g -> metadata.groups().read(g)));
        return CompletableFuture.allOf(groups.values().toArray(CompletableFuture[]::new)).thenApply(v -> {
            Map<TxnOffset, io.strata.metadata.group.PartitionOwner> out = new java.util.HashMap<>();
            for (TxnOffset o : offsets) {
                io.strata.metadata.group.PartitionOwner owner = groups.get(o.group()).join().owners().get(
                        new io.strata.metadata.group.TopicPartition(o.topic(), o.partition()));
                if (owner != null) {
                    out.put(o, owner);
                }
            }
            return out;
        });
    }

    /** Aborts the open transaction, marking every partition it may have written to. */
    public CompletableFuture<TransactionRecord> abort(String transactionalId, long producerId, int producerEpoch) {
        return abort(transactionalId, producerId, producerEpoch, 0);
    }

    /** Aborts the transaction named by its epoch (0: whichever is open); one ended already is answered as it is. */
    public CompletableFuture<TransactionRecord> abort(String transactionalId, long producerId, int producerEpoch,
                                                      long txnEpoch) {
        return change(transactionalId, current -> Transactions.abort(current.orElse(null), producerId,
                producerEpoch, txnEpoch, clock.millis()), ATTEMPTS);
    }

    /**
     * An operator's abort: the open transaction of the id is aborted and its producer fenced, as if it had timed
     * out. Answers the record as it stands after (nothing changes when no transaction is open).
     */
    public CompletableFuture<TransactionRecord> forceAbort(String transactionalId) {
        return change(transactionalId, current -> current.map(r -> Transactions.fence(r, clock.millis()))
                .orElseThrow(() -> new io.strata.transactions.TransactionException(
                io.strata.transactions.TransactionError.UNKNOWN_TRANSACTIONAL_ID, "no transactional id "
                + transactionalId)), ATTEMPTS);
    }

    /**
     * An operator's abort of one transaction, named by what its records carry (Kafka's WriteTxnMarkers, as {@code
     * kafka-transactions.sh abort} sends it): aborted and its producer fenced as by {@link #forceAbort(String)}
     * while it is still the one open on the id; otherwise it is left as it is (it ended meanwhile, and another may
     * have begun: that one is not touched; an abort the id holds prepared is finished, as every change of the id
     * finishes it). Answers the record as it stands after (empty when the id is gone).
     */
    public CompletableFuture<Optional<TransactionRecord>> forceAbort(String transactionalId, long txnProducerId,
                                                                     long txnEpoch) {
        return change(transactionalId, current -> current.map(r -> r.state() != TransactionRecord.State.READY
                && r.txnProducerId() == txnProducerId && r.txnEpoch() == txnEpoch ? Transactions.fence(r, clock.millis())
                : r).orElse(null), ATTEMPTS).thenApply(Optional::ofNullable);
    }

    /**
     * One pass of the cluster's timeout: every transaction open past its timeout is aborted and its producer
     * fenced, and every abort a stopped coordinator left prepared is finished. Ids idle past
     * {@link Transactions#DEFAULT_ID_EXPIRY_MS} are forgotten, so the records stay bounded by the ids in use.
     * Answers how many transactions were ended.
     */
    public CompletableFuture<Integer> endOverdue() {
        long now = clock.millis();
        return store.list().thenCompose(all -> {
            List<CompletableFuture<Boolean>> ended = new ArrayList<>();
            for (TransactionStore.Named n : all) {
                TransactionRecord r = decode(n.transactionalId(), n.stored());
                if (r == null) {
                    continue;
                }
                if (Transactions.idle(r, now, idExpiryMs)) {
                    // Removed only as it was read: a producer that came back meanwhile keeps its id.
                    store.delete(n.transactionalId(), n.stored().revision()).thenAccept(gone -> {
                        if (gone) {
                            LOG.info("transactional id {} forgotten: unused since {}", n.transactionalId(),
                                    java.time.Instant.ofEpochMilli(r.updatedAtMs()));
                        }
                    });
                    continue;
                }
                boolean overdue = Transactions.expire(r, now).isPresent();
                // A prepared abort untouched for a while: its coordinator stopped before finishing it.
                boolean abandoned = r.state() == TransactionRecord.State.PREPARE_ABORT
                        && now - r.updatedAtMs() >= Math.min(r.timeoutMs(), 10_000);
                if (!overdue && !abandoned) {
                    continue;
                }
                ended.add(change(n.transactionalId(), current -> current.map(c -> Transactions.expire(c, now)
                        .orElse(c)).orElse(null), ATTEMPTS).handle((after, failure) -> {
                            if (failure != null) {
                                LOG.warn("ending overdue transaction of {} failed (tried again next pass): {}",
                                        n.transactionalId(), failure.toString());
                                return false;
                            }
                            if (after == null || after.state() != TransactionRecord.State.READY
                                    || after.lastOutcome() != TransactionRecord.Outcome.ABORTED
                                    || after.txnProducerId() != r.txnProducerId() || after.txnEpoch() != r.txnEpoch()) {
                                return false; // it ended otherwise meanwhile (committed, or gone)
                            }
                            LOG.info("{} transaction of {} (producer {}, epoch {}) aborted: {}",
                                    overdue ? "overdue" : "abandoned", n.transactionalId(), r.txnProducerId(),
                                    r.txnEpoch(), overdue ? "open past its " + r.timeoutMs() + " ms timeout"
                                            : "its abort was left unfinished");
                            return true;
                        }));
            }
            return CompletableFuture.allOf(ended.toArray(CompletableFuture[]::new))
                    .thenApply(v -> (int) ended.stream().filter(CompletableFuture::join).count());
        });
    }

    /** Every transactional id's record (operators' view). */
    public CompletableFuture<List<TransactionRecord>> list() {
        return store.list().thenApply(all -> all.stream().map(n -> decode(n.transactionalId(), n.stored()))
                .filter(java.util.Objects::nonNull).toList());
    }

    public CompletableFuture<Optional<TransactionRecord>> describe(String transactionalId) {
        return store.load(transactionalId).thenApply(found -> found.map(s -> TransactionCodec.decode(s.record())));
    }

    /**
     * Loads the record, decides, stores the decision over the revision it was taken on (deciding again on what
     * another writer stored first), and finishes an abort the decision prepared. A decision that changes nothing
     * stores nothing.
     */
    private CompletableFuture<TransactionRecord> change(String transactionalId,
                                                        Function<Optional<TransactionRecord>, TransactionRecord> decide,
                                                        int attemptsLeft) {
        return store.load(transactionalId).thenCompose(found -> {
            Optional<TransactionRecord> current = found.map(s -> TransactionCodec.decode(s.record()));
            TransactionRecord next = decide.apply(current);
            if (next == null || current.isPresent() && current.get().equals(next)) {
                return next != null && next.state() == TransactionRecord.State.PREPARE_ABORT
                        ? finishAbort(transactionalId, next) : CompletableFuture.completedFuture(next);
            }
            long revision = found.map(TransactionStore.Stored::revision).orElse(0L);
            TransactionStore.Open closes = current.map(TransactionCoordinator::open).orElse(null);
            return store.save(transactionalId, TransactionCodec.encode(next), revision, closes, open(next))
                    .thenCompose(saved -> {
                if (saved.isEmpty()) {
                    if (attemptsLeft <= 1) {
                        return CompletableFuture.failedFuture(new ContendedException(transactionalId));
                    }
                    return change(transactionalId, decide, attemptsLeft - 1);
                }
                return next.state() == TransactionRecord.State.PREPARE_ABORT ? finishAbort(transactionalId, next)
                        : CompletableFuture.completedFuture(next);
            });
        });
    }

    /**
     * Marks every partition of a prepared abort, then completes it, unless whoever else got to it first did
     * (the same transaction is then no longer prepared, or not the one open).
     */
    private CompletableFuture<TransactionRecord> finishAbort(String transactionalId, TransactionRecord preparing) {
        List<TransactionStore.Aborted> marks = new ArrayList<>();
        for (AbortMark m : Transactions.abortMarks(preparing)) {
            marks.add(new TransactionStore.Aborted(m.topicId(), m.partition(), m.producerId(), m.txnEpoch(),
                    m.startOffset()));
        }
        return store.markAborted(marks).thenCompose(v -> change(transactionalId, current -> current.map(c ->
                c.state() == TransactionRecord.State.PREPARE_ABORT && c.txnProducerId() == preparing.txnProducerId()
                        && c.txnEpoch() == preparing.txnEpoch() ? Transactions.abortCompleted(c, clock.millis()) : c)
                .orElse(null), ATTEMPTS));
    }

    /** The record's open transaction, null when none is (an abort being written down is no longer open). */
    private static TransactionStore.Open open(TransactionRecord r) {
        return r.state() == TransactionRecord.State.ONGOING ? new TransactionStore.Open(r.txnProducerId(), r.txnEpoch())
                : null;
    }

    /** The partitions, each checked to exist. */
    private CompletableFuture<List<PartitionId>> resolve(List<PartitionName> partitions) {
        Map<String, CompletableFuture<Optional<Topic>>> topics = new LinkedHashMap<>();
        partitions.forEach(p -> topics.computeIfAbsent(p.topic(), metadata::getTopic));
        return CompletableFuture.allOf(topics.values().toArray(CompletableFuture[]::new)).thenApply(v -> {
            List<PartitionId> ids = new ArrayList<>();
            for (PartitionName p : partitions) {
                Topic t = topics.get(p.topic()).join().orElseThrow(() -> new IllegalArgumentException(
                        "no topic " + p.topic()));
                if (p.partition() < 0 || p.partition() >= t.partitions()) {
                    throw new IllegalArgumentException("topic " + p.topic() + " has partitions 0 to "
                            + (t.partitions() - 1) + ", not " + p.partition());
                }
                ids.add(new PartitionId(t.topicId(), p.partition()));
            }
            return ids;
        });
    }

    private static TransactionRecord decode(String transactionalId, TransactionStore.Stored stored) {
        try {
            return TransactionCodec.decode(stored.record());
        } catch (IllegalArgumentException e) {
            LOG.warn("the record of transactional id {} does not decode; left as it is: {}", transactionalId,
                    e.getMessage());
            return null;
        }
    }
}
