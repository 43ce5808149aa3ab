package io.strata.fetch;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.strata.api.v1.HalfCheck;
import io.strata.api.v1.HalfDecision;
import io.strata.fetch.half.HalfWorker;
import io.strata.format.BlockWriter;
import io.strata.format.HalfMessages;
import io.strata.format.LogRecord;
import io.strata.metadata.PartitionId;
import io.strata.metadata.half.HalfStore;
import io.strata.testkit.MutableClock;
import io.strata.transactions.half.HalfDecisions;
import io.strata.transactions.half.HalfScan;
import io.strata.transactions.half.HalfState;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Half messages over a real read path (embedded metadata store, local object store) on a clock the test moves: each
 * waits unseen until decided, a committed one reaches the ingest path once (also when the node stops between sending
 * it and settling it, and when it was committed before the node found it in its half log), a rolled-back one never;
 * an undecided one is checked once per interval with its group, and rolled back after the most checks.
 */
class HalfWorkerTest extends ReadPathFixture {
    private static final long T0 = 1_800_000_000_000L;
    private static final HalfWorker.Settings EVERY_SECOND_THREE_TIMES = new HalfWorker.Settings(1_000, 3);
    private final MutableClock clock = new MutableClock(T0);
    private final ScriptedIngest ingest = new ScriptedIngest();
    private final Map<String, Integer> checks = new ConcurrentHashMap<>();
    private volatile Function<HalfCheck, HalfDecision> producer = c -> HalfDecision.HALF_DECISION_UNKNOWN;
    private int sent;

    private HalfWorker worker() {
        return new HalfWorker(metadata, handler, index, ingest, (group, check) -> {
            assertThat(group).isEqualTo("shop");
            checks.merge(check.getRecord().getValue().toStringUtf8(), 1, Integer::sum);
            return CompletableFuture.completedFuture(producer.apply(check));
        }, p -> true, EVERY_SECOND_THREE_TIMES, clock, Runnable::run);
    }

    /** Commits half messages of group "shop" to partition 0's half log. */
    private void send(String... values) {
        BlockWriter writer = new BlockWriter(3);
        for (String value : values) {
            writer.append(topic.topicId(), topic.partition(0).half().partition(), new LogRecord(null,
                    value.getBytes(StandardCharsets.UTF_8), List.of(HalfMessages.groupHeader("shop")), clock.millis()));
            sent++;
        }
        commitBlock(writer);
    }

    private HalfStore halves() {
        return metadata.halves();
    }

    private HalfState state(long offset) {
        return HalfState.decode(halves().message(topic.partition(0), offset).join().orElseThrow().value());
    }

    /** As the door decides: from pending (or ahead of the scan), under the guards it read. */
    private void decide(long offset, boolean commit) {
        PartitionId p = topic.partition(0);
        var scan = halves().scan(p).join();
        var message = halves().message(p, offset).join();
        HalfDecisions.Outcome o = HalfDecisions.decide(message.map(m -> HalfState.decode(m.value())).orElse(null),
                scan.map(s -> HalfScan.decode(s.value()).scanned() > offset).orElse(false), commit, "producer");
        assertThat(halves().apply(p, message.isPresent() ? -1 : scan.map(HalfStore.Stored::revision).orElse(0L), null,
                List.of(new HalfStore.Change(offset, o.write().encode(),
                        message.map(HalfStore.Stored::revision).orElse(0L)))).join()).isPresent();
    }

    /** Passes until the worker has given every half message sent its state (the index follows commits a moment later). */
    private void scanAll(HalfWorker worker) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline) {
            worker.runOnce();
            var s = halves().scan(topic.partition(0)).join();
            if (s.isPresent() && HalfScan.decode(s.get().value()).scanned() >= sent) {
                return;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("the half log was not read to " + sent);
    }

    @Test
    void aHalfMessageWaitsUntilDecidedAndACommittedOneIsDeliveredOnceEvenWhenTheAnswerToItsSendIsLost()
            throws Exception {
        send("one", "two", "three");
        HalfWorker first = worker();
        scanAll(first);
        assertThat(state(1).status()).isEqualTo(HalfState.Status.PENDING);
        first.runOnce();
        assertThat(ingest.stored).as("nothing decided, nothing delivered").isEmpty();

        decide(0, true);
        decide(1, false);
        decide(2, true);
        ingest.answer = r -> ingest.store(r).thenCompose(stored -> CompletableFuture.failedFuture(
                Status.UNAVAILABLE.withDescription("the node stopped before it answered").asRuntimeException()));
        first.runOnce();
        assertThat(ingest.stored).as("stored, but unanswered").containsExactly("one", "three");
        assertThat(HalfScan.decode(halves().scan(topic.partition(0)).join().orElseThrow().value()).intent())
                .as("the round stays written down").isNotNull();

        ingest.answer = ingest::store;
        HalfWorker next = worker(); // another node, knowing only what is stored
        next.runOnce();
        assertThat(ingest.requests.get(1)).as("the same batch, same producer and sequence")
                .isEqualTo(ingest.requests.get(0));
        assertThat(ingest.stored).as("once").containsExactly("one", "three");
        assertThat(state(0).status()).isEqualTo(HalfState.Status.DELIVERED);
        assertThat(state(2).status()).isEqualTo(HalfState.Status.DELIVERED);
        next.runOnce();
        assertThat(state(1).status()).isEqualTo(HalfState.Status.DROPPED);
        assertThat(ingest.stored).containsExactly("one", "three");
        assertThat(ingest.requests.get(0).getEntries(0).getRecords(0).getHeadersList())
                .as("its group's header is not delivered").isEmpty();

        clock.advanceMillis(HalfDecisions.SETTLED_KEPT_MS);
        next.runOnce();
        assertThat(halves().messages().join()).as("settled states go after ten minutes").isEmpty();
    }

    @Test
    void aHalfMessageCommittedBeforeTheNodeFoundItIsDeliveredWithItsGroup() throws Exception {
        send("early");
        decide(0, true); // the producer was quicker than the scan
        HalfWorker worker = worker();
        scanAll(worker);
        assertThat(state(0).group()).isEqualTo("shop");
        worker.runOnce();
        assertThat(ingest.stored).containsExactly("early");
        assertThat(state(0).status()).isEqualTo(HalfState.Status.DELIVERED);
        assertThat(checks).as("never checked").isEmpty();
    }

    @Test
    void committedHalfMessagesGoInRoundsOfAboutAMebibyteAndOneTheIngestPathRefusesIsDroppedAloneNotRetried()
            throws Exception {
        String big = "x".repeat(600 << 10);
        send("a" + big, "b" + big, "refused", "c" + big);
        HalfWorker worker = worker();
        scanAll(worker);
        for (long offset = 0; offset < 4; offset++) {
            decide(offset, true);
        }
        ingest.answer = r -> r.getEntries(0).getRecordsList().stream()
                .anyMatch(record -> record.getValue().toStringUtf8().equals("refused"))
                ? CompletableFuture.failedFuture(Status.INVALID_ARGUMENT.withDescription("too large").asRuntimeException())
                : ingest.store(r);
        for (int pass = 0; pass < 8; pass++) {
            worker.runOnce();
        }
        assertThat(ingest.requests).as("no request past about a mebibyte of records")
                .allMatch(r -> r.getEntries(0).getSerializedSize() < (1_300 << 10));
        assertThat(ingest.stored).extracting(v -> v.substring(0, 1)).as("each once, in order").containsExactly("a", "b",
                "c");
        assertThat(state(2).status()).isEqualTo(HalfState.Status.DROPPED);
        assertThat(state(2).decidedBy()).isEqualTo("producer, undeliverable");
        assertThat(ingest.requests.stream().filter(r -> r.getEntries(0).getRecordsList().stream()
                .anyMatch(record -> record.getValue().toStringUtf8().equals("refused")) && r.getEntries(0)
                .getRecordsCount() == 1)).as("the refused one sent alone once, never again").hasSize(1);
        assertThat(HalfScan.decode(halves().scan(topic.partition(0)).join().orElseThrow().value()).nextSequence())
                .as("the refused record took no sequence").isEqualTo(3);
    }

    @Test
    void anUndecidedHalfMessageIsCheckedOncePerIntervalAndRolledBackAfterTheMostChecks() throws Exception {
        send("known-late", "never-known");
        producer = c -> c.getRecord().getValue().toStringUtf8().equals("known-late") && c.getChecks() == 1
                ? HalfDecision.HALF_DECISION_COMMIT : HalfDecision.HALF_DECISION_UNKNOWN;
        HalfWorker worker = worker();
        scanAll(worker);
        worker.runOnce();
        assertThat(checks).as("not before its interval").isEmpty();
        for (int second = 1; second <= 4; second++) {
            clock.advanceMillis(1_000);
            worker.runOnce();
            worker.runOnce(); // a second pass within the interval asks nothing more
        }
        assertThat(checks).containsEntry("known-late", 2).containsEntry("never-known", 3);
        assertThat(ingest.stored).containsExactly("known-late");
        assertThat(state(0).decidedBy()).isEqualTo("check-back");
        assertThat(state(1).status()).isEqualTo(HalfState.Status.DROPPED);
        assertThat(state(1).decidedBy()).isEqualTo("checks exhausted");
        assertThat(worker.checksExhausted()).isEqualTo(1);
        assertThat(worker.decidedByCheck()).isEqualTo(1);
    }
}
