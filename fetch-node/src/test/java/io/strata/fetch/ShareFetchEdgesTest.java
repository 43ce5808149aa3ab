package io.strata.fetch;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.strata.api.v1.ShareAck;
import io.strata.api.v1.ShareAcknowledgeRequest;
import io.strata.api.v1.ShareAnswer;
import io.strata.api.v1.ShareFetchRequest;
import io.strata.api.v1.ShareFetchResponse;
import io.strata.api.v1.SharedRecord;
import io.strata.fetch.share.DeadLetterGuard;
import io.strata.fetch.share.RecordAppender;
import io.strata.fetch.share.ShareHandler;
import io.strata.metadata.share.ShareStateStore;
import io.strata.queues.share.SharePolicy;
import io.strata.testkit.MutableClock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A share fetch at its edges, over the real read path and share state (embedded metadata, local objects): a
 * partition's state changed elsewhere (another node, the group deleted) while this node holds it with nothing
 * left to hand out is read again once held unchanged a while, and at once when this node deleted the group
 * itself; records acquired for a member that went away are given back uncounted; records whose lock ran out
 * before the answer are not sent.
 */
class ShareFetchEdgesTest extends ReadPathFixture {
    private final MutableClock clock = new MutableClock(1_000_000);
    /** Run by the share state store after each write it is asked for, before it answers. */
    private volatile Runnable afterSave = () -> { };
    private ExecutorService work;
    private ShareHandler shares;

    @BeforeEach
    void startShares() {
        work = Executors.newFixedThreadPool(2);
        RecordAppender none = new RecordAppender() {
            @Override
            public CompletableFuture<Long> newProducerId() {
                return CompletableFuture.failedFuture(new IllegalStateException("no dead letters here"));
            }

            @Override
            public CompletableFuture<io.strata.api.v1.ProduceResponse> append(io.strata.api.v1.ProduceRequest r) {
                return CompletableFuture.failedFuture(new IllegalStateException("no dead letters here"));
            }
        };
        ShareStateStore store = metadata.shares();
        ShareStateStore watched = new ShareStateStore() {
            @Override
            public CompletableFuture<java.util.Optional<Stored>> load(String group, long topicId, int partition) {
                return store.load(group, topicId, partition);
            }

            @Override
            public CompletableFuture<java.util.OptionalLong> save(String group, long topicId, int partition,
                                                                  byte[] state, long expectedRevision) {
                return store.save(group, topicId, partition, state, expectedRevision).thenApply(saved -> {
                    afterSave.run();
                    return saved;
                });
            }

            @Override
            public CompletableFuture<Map<Integer, Stored>> loadTopic(String group, long topicId) {
                return store.loadTopic(group, topicId);
            }

            @Override
            public CompletableFuture<List<Named>> list(String group) {
                return store.list(group);
            }

            @Override
            public CompletableFuture<List<Named>> delete(List<Named> states) {
                return store.delete(states);
            }
        };
        shares = new ShareHandler(handler, index, watched, metadata.groupSettings(), SharePolicy.DEFAULT,
                none, DeadLetterGuard.OPEN, clock, timer, work, work);
    }

    @AfterEach
    void stopShares() {
        work.shutdownNow();
    }

    private List<Long> fetch() {
        return fetchAs("m").getRecordsList().stream().map(SharedRecord::getOffset).toList();
    }

    private ShareFetchResponse fetchAs(String member) {
        return shares.shareFetch(ShareFetchRequest.newBuilder().setGroup("g").setTopic("t").setMemberId(member)
                .addPartitions(0).build()).join();
    }

    private void acceptAll(List<Long> offsets) {
        shares.shareAcknowledge(ShareAcknowledgeRequest.newBuilder().setGroup("g").setTopic("t").setMemberId("m")
                .addAcks(ShareAck.newBuilder().setPartition(0).setFirstOffset(offsets.get(0))
                        .setLastOffset(offsets.get(offsets.size() - 1)).setAnswer(ShareAnswer.SHARE_ANSWER_ACCEPT))
                .build()).join();
    }

    private void deleteStoredState() {
        var stored = metadata.shares().list("g").join();
        assertThat(metadata.shares().delete(stored).join()).hasSize(1);
    }

    @Test
    void aStateDeletedElsewhereIsSeenOnceHeldUnchangedAWhile() {
        commit(Map.of(0, values("a", 0, 3)), 1000);
        awaitEnd(0, 3);
        List<Long> first = fetch();
        assertThat(first).containsExactly(0L, 1L, 2L);
        acceptAll(first);
        deleteStoredState(); // as another node serving the deletion does
        assertThat(fetch()).as("held as this node last stored it: all done").isEmpty();
        clock.advanceMillis(ShareHandler.RESYNC_IDLE_MS);
        assertThat(fetch()).as("read again: a new group starts at the log start").containsExactly(0L, 1L, 2L);
    }

    @Test
    void aGroupThisNodeDeletedStartsAfreshAtOnce() {
        commit(Map.of(0, values("b", 0, 2)), 1000);
        awaitEnd(0, 2);
        acceptAll(fetch());
        deleteStoredState();
        shares.groupDeleted("g");
        assertThat(fetch()).containsExactly(0L, 1L);
    }

    @Test
    void recordsAcquiredForAMemberThatWentAwayMeanwhileAreGivenBackUncounted() throws Exception {
        commit(Map.of(0, values("c", 0, 2)), 1000);
        awaitEnd(0, 2);
        io.grpc.Context.CancellableContext call = io.grpc.Context.current().withCancellation();
        afterSave = () -> call.cancel(null); // the member goes away once its records are acquired
        CompletableFuture<ShareFetchResponse> gone = call.call(() -> shares.shareFetch(ShareFetchRequest.newBuilder()
                .setGroup("g").setTopic("t").setMemberId("m").addPartitions(0).build()));
        assertThat(gone).failsWithin(java.time.Duration.ofSeconds(10)).withThrowableOfType(
                java.util.concurrent.ExecutionException.class).satisfies(e -> assertThat(Status.fromThrowable(e)
                .getCode()).isEqualTo(Status.Code.CANCELLED));
        afterSave = () -> { };
        assertThat(fetchAs("m2").getRecordsList()).as("at once, to another member, as a first delivery")
                .extracting(SharedRecord::getOffset, SharedRecord::getDeliveryCount)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(0L, 1), org.assertj.core.groups.Tuple.tuple(1L, 1));
    }

    @Test
    void recordsWhoseLockRanOutBeforeTheAnswerAreNotSent() {
        commit(Map.of(0, values("d", 0, 2)), 1000);
        awaitEnd(0, 2);
        afterSave = () -> clock.advanceMillis(SharePolicy.DEFAULT.lockMs()); // the fetch took a whole lock
        ShareFetchResponse late = fetchAs("m");
        afterSave = () -> { };
        assertThat(late.getRecordsList()).as("another member may have them by now").isEmpty();
        assertThat(fetchAs("m2").getRecordsList()).as("given back as of their acquisition: at once, uncounted")
                .extracting(SharedRecord::getOffset, SharedRecord::getDeliveryCount)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(0L, 1), org.assertj.core.groups.Tuple.tuple(1L, 1));
    }

    @Test
    void theLockAnsweredIsWhatIsLeftOfItWhenTheAnswerLeaves() {
        commit(Map.of(0, values("e", 0, 1)), 1000);
        awaitEnd(0, 1);
        afterSave = () -> clock.advanceMillis(1_000);
        ShareFetchResponse answer = fetchAs("m");
        afterSave = () -> { };
        assertThat(answer.getRecordsList()).hasSize(1);
        assertThat(answer.getLockMs()).isEqualTo(SharePolicy.DEFAULT.lockMs() - 1_000);
    }
}
