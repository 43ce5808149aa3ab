package io.strata.fetch;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.strata.api.v1.PartitionAppend;
import io.strata.api.v1.ProduceRequest;
import io.strata.api.v1.ProduceResponse;
import io.strata.api.v1.ShareAck;
import io.strata.api.v1.ShareAcknowledgeRequest;
import io.strata.api.v1.ShareAnswer;
import io.strata.api.v1.ShareFetchRequest;
import io.strata.api.v1.SharedRecord;
import io.strata.fetch.share.DeadLetterGuard;
import io.strata.fetch.share.RecordAppender;
import io.strata.fetch.share.ShareHandler;
import io.strata.metadata.TopicConfig;
import io.strata.metadata.group.GroupSettings;
import io.strata.queues.share.SharePartition;
import io.strata.queues.share.SharePolicy;
import io.strata.queues.share.ShareStateCodec;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Dead-letter copies over the real read path and share state (embedded metadata, local objects); the ingest path's
 * answers are scripted, as the ingest path gives them (ChunkAdmission's rules are proved on their own): a copy
 * goes again under the same producer and sequence when its answer was lost, and under a new producer, numbered
 * from 0, when the ingest path no longer knows the old one.
 */
class ShareDeadLettersTest extends ReadPathFixture {
    private final List<ProduceRequest> sent = new CopyOnWriteArrayList<>();
    private final AtomicLong producerIds = new AtomicLong(100);
    private volatile Function<ProduceRequest, CompletableFuture<ProduceResponse>> ingest;
    private ExecutorService work;
    private ShareHandler shares;

    @BeforeEach
    void startShares() {
        work = Executors.newFixedThreadPool(2);
        metadata.createTopic(new TopicConfig("dlq", 1, -1, -1)).join();
        metadata.groupSettings().save("g", new GroupSettings("dlq", 2, 0, Optional.empty())).join();
        RecordAppender appender = new RecordAppender() {
            @Override
            public CompletableFuture<Long> newProducerId() {
                return CompletableFuture.completedFuture(producerIds.getAndAdd(100));
            }

            @Override
            public CompletableFuture<ProduceResponse> append(ProduceRequest request) {
                sent.add(request);
                return ingest.apply(request);
            }
        };
        shares = new ShareHandler(handler, index, metadata.shares(), metadata.groupSettings(), SharePolicy.DEFAULT,
                appender, DeadLetterGuard.OPEN, Clock.systemUTC(), timer, work, work);
    }

    @AfterEach
    void stopShares() {
        work.shutdownNow();
    }

    private static ProduceResponse stored(ProduceRequest request) {
        ProduceResponse.Builder b = ProduceResponse.newBuilder();
        for (int i = 0; i < request.getEntriesCount(); i++) {
            b.addAppends(PartitionAppend.newBuilder().setEntryIndex(i).setTopic("dlq").setPartition(0)
                    .setBaseOffset(i).setRecordCount(1));
        }
        return b.build();
    }

    private List<SharedRecord> take(int count) {
        List<SharedRecord> got = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (got.size() < count && System.nanoTime() < deadline) {
            got.addAll(shares.shareFetch(ShareFetchRequest.newBuilder().setGroup("g").setTopic("t").setMemberId("m")
                    .addPartitions(0).setMaxWaitMs(500).build()).join().getRecordsList());
        }
        return got;
    }

    private void answer(long offset, ShareAnswer answer, String note) {
        answer(offset, 0, answer, note);
    }

    /** Answers delivery {@code deliveries} of the record at {@code offset} (0: whichever the member holds). */
    private io.strata.api.v1.ShareAckResult answer(long offset, int deliveries, ShareAnswer answer, String note) {
        return shares.shareAcknowledge(ShareAcknowledgeRequest.newBuilder().setGroup("g").setTopic("t").setMemberId("m")
                .addAcks(ShareAck.newBuilder().setPartition(0).setFirstOffset(offset).setLastOffset(offset)
                        .setDeliveryCount(deliveries).setAnswer(answer).setNote(note)).build()).join().getResults(0);
    }

    private SharePartition stored() {
        return ShareStateCodec.decode(metadata.shares().load("g", topic.topicId(), 0).join().orElseThrow().state(),
                SharePolicy.DEFAULT);
    }

    private void awaitDone(long start) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (stored().start() < start && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(stored().start()).as("every record done, the rejected one once its copy is written").isEqualTo(start);
    }

    @Test
    void aCopyWhoseAnswerWasLostGoesAgainAsTheSameBatchAndAnUnknownProducerMakesWayForANewOne() throws Exception {
        commit(Map.of(0, values("a", 0, 3)), 1000);
        awaitEnd(0, 3);
        // The first producer is unknown to the ingest path (its state expired): every entry refused, so the call fails.
        // Under the next one, the first answer is lost after the write; the copy is sent again.
        java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
        ingest = request -> switch (calls.incrementAndGet()) {
            case 1 -> CompletableFuture.failedFuture(Status.ABORTED.withDescription("unknown producer")
                    .asRuntimeException());
            case 2 -> CompletableFuture.failedFuture(Status.UNAVAILABLE.withDescription("the answer was lost")
                    .asRuntimeException());
            default -> CompletableFuture.completedFuture(stored(request));
        };
        assertThat(take(3)).extracting(SharedRecord::getOffset).containsExactly(0L, 1L, 2L);
        answer(0, ShareAnswer.SHARE_ANSWER_ACCEPT, "");
        answer(1, ShareAnswer.SHARE_ANSWER_REJECT, "not a job");
        answer(2, ShareAnswer.SHARE_ANSWER_ACCEPT, "");
        awaitDone(3);

        assertThat(sent).hasSize(3);
        assertThat(sent.get(0).getProducerId()).isEqualTo(100);
        assertThat(sent.get(1).getProducerId()).as("a new producer after the refusal").isEqualTo(200);
        assertThat(sent.get(1).getEntries(0).getBaseSequence()).as("numbered from 0 again").isZero();
        assertThat(sent.get(2)).as("the lost one again: the same producer, sequence and record").isEqualTo(sent.get(1));
        var copy = sent.get(2).getEntries(0).getRecords(0);
        assertThat(copy.getValue().toStringUtf8()).isEqualTo("a1");
        assertThat(copy.getHeadersList()).extracting(h -> h.getKey() + "=" + h.getValue().toStringUtf8())
                .contains("strata.dlq.topic=t", "strata.dlq.partition=0", "strata.dlq.offset=1", "strata.dlq.group=g",
                        "strata.dlq.delivery-count=1", "strata.dlq.reason=rejected", "strata.dlq.error=not a job");
        assertThat(shares.deadLettered()).isEqualTo(1);
    }

    @Test
    void aRecordFailingOnItsLastDeliveryIsCopiedAndAGroupWithoutATopicArchivesWithoutOne() throws Exception {
        commit(Map.of(0, values("b", 0, 2)), 1000);
        awaitEnd(0, 2);
        ingest = request -> CompletableFuture.completedFuture(stored(request));
        take(2);
        answer(0, ShareAnswer.SHARE_ANSWER_ACCEPT, "");
        answer(1, ShareAnswer.SHARE_ANSWER_RELEASE, "first try");
        metadata.groupSettings().save("g", new GroupSettings("dlq", 2, 0, Optional.of(
                new GroupSettings.Backoff(0, 1, 0)))).join(); // no back-off: the second delivery at once
        Thread.sleep(1_100); // the node reads a group's settings at most once a second
        List<SharedRecord> again = take(1);
        assertThat(again).singleElement().satisfies(r -> assertThat(r.getDeliveryCount()).isEqualTo(2));
        // The first release sent again (its call's outcome unknown to the member) answers delivery 1, which is over.
        assertThat(answer(1, 1, ShareAnswer.SHARE_ANSWER_RELEASE, "first try")).satisfies(r -> {
            assertThat(r.getApplied()).isZero();
            assertThat(r.getNotHeld()).isEqualTo(1);
        });
        assertThat(sent).as("delivery 2 was not failed by it").isEmpty();
        answer(1, 2, ShareAnswer.SHARE_ANSWER_RELEASE, "second try");
        awaitDone(2);
        assertThat(sent).singleElement().satisfies(r -> assertThat(r.getEntries(0).getRecords(0).getHeadersList())
                .extracting(h -> h.getKey() + "=" + h.getValue().toStringUtf8())
                .contains("strata.dlq.reason=delivery-attempts-exhausted", "strata.dlq.error=second try",
                        "strata.dlq.delivery-count=2"));

        // Without a topic, a rejected record is simply archived.
        metadata.groupSettings().save("g", GroupSettings.DEFAULTS).join();
        Thread.sleep(1_100);
        commit(Map.of(0, values("c", 0, 1)), 2000);
        awaitEnd(0, 3);
        take(1);
        answer(2, ShareAnswer.SHARE_ANSWER_REJECT, "no");
        awaitDone(3);
        assertThat(sent).as("no copy without a topic").hasSize(1);
    }
}
