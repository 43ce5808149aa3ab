package io.strata.fetch;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.strata.api.v1.ProduceRequest;
import io.strata.api.v1.Record;
import io.strata.fetch.delay.DelayWorker;
import io.strata.format.BlockWriter;
import io.strata.format.DeliverAt;
import io.strata.format.LogRecord;
import io.strata.metadata.PartitionId;
import io.strata.queues.delay.DelayState;
import io.strata.testkit.MutableClock;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Delayed delivery over a real read path (embedded metadata store, local object store) on a clock the test moves:
 * records staged with delays from a second to an hour reach the ingest path not before their time and at the first
 * pass after it, each once, in due order, also when a node stops between sending a round and settling it. The
 * ingest path is scripted the way it answers an idempotent producer (a batch sent again is a duplicate).
 */
class DelayWorkerTest extends ReadPathFixture {
    private static final long T0 = 1_800_000_000_000L;
    private final MutableClock clock = new MutableClock(T0);
    private final ScriptedIngest appender = new ScriptedIngest();
    private final List<ProduceRequest> requests = appender.requests;
    /** What the ingest path stored, in order: the values. */
    private final List<String> stored = appender.stored;
    private int staged;

    private DelayWorker worker() {
        return new DelayWorker(metadata, handler, index, appender, objects, p -> true, clock);
    }

    private DelayWorker worker(java.util.function.BooleanSupplier owner) {
        return new DelayWorker(metadata, handler, index, appender, objects, p -> owner.getAsBoolean(), clock);
    }

    /** Commits records to partition 0's staging log, each due {@code delays[i]} ms from now. */
    private void stage(long... delays) {
        BlockWriter writer = new BlockWriter(3);
        PartitionId staging = topic.partition(0).staging();
        for (long d : delays) {
            String value = "d" + d + "-" + staged++;
            writer.append(topic.topicId(), staging.partition(), new LogRecord(null,
                    value.getBytes(StandardCharsets.UTF_8), List.of(DeliverAt.header(clock.millis() + d)), clock.millis()));
        }
        commitBlock(writer);
    }

    private DelayState state() {
        return DelayState.decode(metadata.delays().load(topic.partition(0)).join().orElseThrow().state());
    }

    /** Passes until the worker has read the staging log to {@code end} (the index view follows commits a moment later). */
    private void scanTo(DelayWorker worker, long end) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline) {
            worker.runOnce();
            var s = metadata.delays().load(topic.partition(0)).join();
            if (s.isPresent() && DelayState.decode(s.get().state()).scanned() >= end) {
                return;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("the staging log was not read to " + end);
    }

    @Test
    void recordsFromASecondToAnHourAheadComeNotBeforeTheirTimeAndAtTheFirstPassAfterItEachOnce() throws Exception {
        stage(3_600_000, 1_000, 60_000, 2_000, 1_000);
        DelayWorker worker = worker();
        scanTo(worker, 5);
        assertThat(stored).as("nothing is due yet").isEmpty();
        assertThat(state().pending()).isEqualTo(5);

        clock.advanceMillis(999);
        worker.runOnce();
        assertThat(stored).as("a millisecond before its time").isEmpty();
        clock.advanceMillis(1);
        worker.runOnce();
        assertThat(stored).as("due at 1 s, in the order staged").containsExactly("d1000-1", "d1000-4");
        clock.advanceMillis(1_000);
        worker.runOnce();
        assertThat(stored).endsWith("d2000-3").hasSize(3);
        clock.advanceMillis(58_000 - 1);
        worker.runOnce();
        assertThat(stored).hasSize(3);
        clock.advanceMillis(1);
        worker.runOnce();
        assertThat(stored).endsWith("d60000-2").hasSize(4);
        clock.set(T0 + 3_600_000 - 1);
        worker.runOnce();
        assertThat(stored).hasSize(4);
        clock.advanceMillis(1);
        worker.runOnce();
        assertThat(stored).containsExactly("d1000-1", "d1000-4", "d2000-3", "d60000-2", "d3600000-0");
        assertThat(state().pending()).isZero();
        assertThat(state().buckets()).as("buckets delivered in full are gone").isEmpty();
        assertThat(worker.delivered()).isEqualTo(5);
    }

    @Test
    void aPartitionWhoseTopicTheWorkersListingMissedKeepsItsDelayedRecords() throws Exception {
        stage(1_000, 2_000);
        scanTo(worker(), 2);
        long revision = metadata.delays().load(topic.partition(0)).join().orElseThrow().revision();
        // A worker whose first listing of the topics was taken before the topic existed (it was created, and its
        // records staged by another node, between that listing and the read of the delay states).
        java.util.concurrent.atomic.AtomicBoolean stale = new java.util.concurrent.atomic.AtomicBoolean(true);
        io.strata.metadata.MetadataStore lagging = intercepted((method, args, real) ->
                method.equals("listTopics") && stale.getAndSet(false)
                        ? java.util.concurrent.CompletableFuture.completedFuture(List.of()) : real.get());
        DelayWorker late = new DelayWorker(lagging, handler, index, appender, objects, p -> true, clock);
        late.runOnce();
        assertThat(metadata.delays().load(topic.partition(0)).join()).as("the state is not taken for a deleted "
                + "topic's").hasValueSatisfying(s -> assertThat(s.revision()).isEqualTo(revision));
        clock.advanceMillis(2_000);
        for (int i = 0; i < 5 && stored.size() < 2; i++) {
            late.runOnce();
        }
        assertThat(stored).as("its records come, once the topics are read again").hasSize(2);
    }

    @Test
    void aRoundWhoseAnswerWasLostIsSentAgainByTheNextNodeAndStoredOnce() throws Exception {
        stage(1_000, 1_000, 1_000);
        DelayWorker first = worker();
        scanTo(first, 3);
        appender.answer = r -> appender.store(r).thenCompose(stored -> CompletableFuture.failedFuture(
                Status.UNAVAILABLE.withDescription("the node stopped before it answered").asRuntimeException()));
        clock.advanceMillis(1_000);
        first.runOnce();
        assertThat(stored).as("stored, but unanswered").hasSize(3);
        assertThat(state().intent()).as("the round stays written down").isNotNull();

        appender.answer = appender::store;
        DelayWorker next = worker(); // another node, knowing only what is stored
        next.runOnce();
        assertThat(requests).hasSize(2);
        assertThat(requests.get(1)).as("the same batch, same producer and sequence").isEqualTo(requests.get(0));
        assertThat(stored).as("once").containsExactly("d1000-0", "d1000-1", "d1000-2");
        assertThat(state().intent()).isNull();
        assertThat(state().nextSequence()).isEqualTo(3);
        assertThat(next.replayed()).isEqualTo(1);
    }

    @Test
    void aProducerTheIngestPathForgotMakesWayForANewOneNumberedFromZero() throws Exception {
        stage(1_000);
        DelayWorker worker = worker();
        scanTo(worker, 1);
        AtomicInteger refusals = new AtomicInteger();
        appender.answer = r -> refusals.getAndIncrement() == 0
                ? CompletableFuture.failedFuture(Status.ABORTED.withDescription("unknown producer").asRuntimeException())
                : appender.store(r);
        clock.advanceMillis(1_000);
        worker.runOnce();
        assertThat(stored).containsExactly("d1000-0");
        assertThat(requests.get(1).getProducerId()).isNotEqualTo(requests.get(0).getProducerId());
        assertThat(requests.get(1).getEntries(0).getBaseSequence()).isZero();
        assertThat(state().nextSequence()).isEqualTo(1);
    }

    @Test
    void manySmallScansAreMergedIntoFewBucketsAndStillComeOutInDueOrder() throws Exception {
        DelayWorker worker = worker();
        List<Long> dues = new ArrayList<>();
        for (int scan = 0; scan < 24; scan++) {
            long d = 10_000 + (scan * 7_919L) % 5_000; // out of order across scans
            stage(d, d + 1);
            dues.add(clock.millis() + d);
            dues.add(clock.millis() + d + 1);
            scanTo(worker, 2L * (scan + 1));
        }
        assertThat(state().buckets().size()).as("merged past the most a partition keeps").isLessThanOrEqualTo(17);
        assertThat(state().pending()).isEqualTo(48);
        clock.advanceMillis(20_000);
        worker.runOnce();
        assertThat(stored).hasSize(48).doesNotHaveDuplicates();
        List<Long> deliveredDues = new ArrayList<>();
        for (ProduceRequest r : requests) {
            for (Record record : r.getEntries(0).getRecordsList()) {
                deliveredDues.add(record.getHeadersList().stream()
                        .filter(h -> h.getKey().equals(DeliverAt.HEADER)).mapToLong(h -> Long.parseLong(h.getValue()
                                .toStringUtf8())).findFirst().orElseThrow());
            }
        }
        assertThat(deliveredDues).isSorted();
    }

    @Test
    void aNodeThatSawARoundWrittenDownLongAgoDoesNotSendItAgainOnceAnotherSettledIt() throws Exception {
        stage(1_000, 1_000);
        DelayWorker owner = worker();
        scanTo(owner, 2);
        appender.answer = r -> appender.store(r).thenCompose(x -> CompletableFuture.failedFuture(
                Status.UNAVAILABLE.withDescription("no answer").asRuntimeException()));
        clock.advanceMillis(1_000);
        owner.runOnce();
        java.util.concurrent.atomic.AtomicBoolean owns = new java.util.concurrent.atomic.AtomicBoolean(false);
        DelayWorker other = worker(owns::get);
        other.runOnce(); // lists the partition's state, round and all, but does not own it
        appender.answer = appender::store;
        clock.advanceMillis(1_000);
        owner.runOnce(); // sends it again, stored once, settles it
        assertThat(state().intent()).isNull();
        int sent = requests.size();
        owns.set(true);
        clock.advanceMillis(1);
        other.runOnce();
        assertThat(requests).as("the settled round is not sent again from an old copy").hasSize(sent);
        assertThat(stored).containsExactly("d1000-0", "d1000-1");
        assertThat(other.pending()).isZero();
    }
}
