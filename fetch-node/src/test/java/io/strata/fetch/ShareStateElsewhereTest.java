package io.strata.fetch;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.api.v1.ShareAck;
import io.strata.api.v1.ShareAcknowledgeRequest;
import io.strata.api.v1.ShareAnswer;
import io.strata.api.v1.ShareFetchRequest;
import io.strata.api.v1.SharedRecord;
import io.strata.fetch.share.DeadLetterGuard;
import io.strata.fetch.share.RecordAppender;
import io.strata.fetch.share.ShareHandler;
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
 * A share partition's state changed elsewhere (another node, the group deleted) while this node holds it with
 * nothing left to hand out: a fetch reads it again once it has been held unchanged a while, and at once when
 * this node deleted the group itself.
 */
class ShareStateElsewhereTest extends ReadPathFixture {
    private final MutableClock clock = new MutableClock(1_000_000);
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
        shares = new ShareHandler(handler, index, metadata.shares(), metadata.groupSettings(), SharePolicy.DEFAULT,
                none, DeadLetterGuard.OPEN, clock, timer, work, work);
    }

    @AfterEach
    void stopShares() {
        work.shutdownNow();
    }

    private List<Long> fetch() {
        return shares.shareFetch(ShareFetchRequest.newBuilder().setGroup("g").setTopic("t").setMemberId("m")
                .addPartitions(0).build()).join().getRecordsList().stream().map(SharedRecord::getOffset).toList();
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
}
