package io.strata.queues.share;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.queues.share.SharePartition.Acquired;
import io.strata.queues.share.SharePartition.Answer;
import java.util.List;
import org.junit.jupiter.api.Test;

class SharePartitionTest {
    private static final SharePolicy POLICY = new SharePolicy(30_000, 3, 1_000, 2.0, 10_000, 100, false);

    @Test
    void membersTakeDisjointRecordsAndAnAcceptedOneIsNeverHandedOutAgain() {
        SharePartition p = new SharePartition(POLICY, 0);
        assertThat(p.acquire("a", 5, 20, 0)).containsExactly(new Acquired(0, 4, 1));
        assertThat(p.acquire("b", 5, 20, 0)).containsExactly(new Acquired(5, 9, 1));
        assertThat(p.answer("a", 0, 4, Answer.ACCEPT, -1, null, 10).applied()).isEqualTo(5);
        assertThat(p.start()).as("the done head leaves the state").isEqualTo(5);
        // b's lock runs out: its records come back, after the back-off, to anyone; a's never do.
        assertThat(p.acquire("c", 50, 20, 30_000)).containsExactly(new Acquired(10, 19, 1));
        assertThat(p.acquire("c", 50, 20, 30_999)).isEmpty();
        assertThat(p.acquire("c", 50, 20, 31_000)).containsExactly(new Acquired(5, 9, 2));
        assertThat(p.answer("b", 5, 9, Answer.ACCEPT, -1, null, 31_000).notHeld()).as("b's lock ran out").isEqualTo(5);
    }

    @Test
    void aRecordThatKeepsFailingIsArchivedAfterTheLastDeliveryWhileTheOthersFlow() {
        SharePartition p = new SharePartition(POLICY.withDeadLetter(true), 0);
        long now = 0;
        for (int delivery = 1; delivery <= 3; delivery++) {
            List<Acquired> got = p.acquire("a", 1, 10, now);
            assertThat(got).containsExactly(new Acquired(0, 0, delivery));
            var outcome = p.answer("a", 0, 0, Answer.RELEASE, -1, "exit 1", now);
            // Behind it, the next records are handed out and accepted meanwhile.
            List<Acquired> next = p.acquire("b", 1, 10, now);
            assertThat(next).hasSize(1);
            p.answer("b", next.get(0).first(), next.get(0).last(), Answer.ACCEPT, -1, null, now);
            if (delivery < 3) {
                assertThat(outcome.toDeadLetter()).isEmpty();
                now += POLICY.backoffMs(delivery); // 1 s, then 2 s
            } else {
                assertThat(outcome.toDeadLetter()).singleElement().satisfies(r -> {
                    assertThat(r.first()).isZero();
                    assertThat(r.deliveries()).isEqualTo(3);
                    assertThat(r.reason()).isEqualTo(SharePartition.ATTEMPTS_EXHAUSTED);
                    assertThat(r.error()).isEqualTo("exit 1");
                });
            }
        }
        assertThat(p.start()).as("the archived record waits for its dead-letter copy").isZero();
        assertThat(p.deadLettering()).hasSize(1);
        p.deadLettered(0, 0);
        assertThat(p.start()).isEqualTo(4);
    }

    @Test
    void whatADeletionWouldTakeIsHeldRecordsAndArchivedOnesOwedTheirCopyNotRunOutLocks() {
        SharePartition p = new SharePartition(POLICY.withDeadLetter(true), 0);
        assertThat(p.outstanding(0).isEmpty()).isTrue();
        p.acquire("a", 2, 10, 0);                      // [0, 1] until 30 s
        p.acquire("b", 3, 10, 5_000);                  // [2, 4] until 35 s
        assertThat(p.outstanding(10_000)).isEqualTo(new SharePartition.Outstanding(5, 0, 35_000));
        assertThat(p.outstanding(30_000)).as("a's lock ran out: the group's again, not a's")
                .isEqualTo(new SharePartition.Outstanding(3, 0, 35_000));
        p.answer("b", 2, 4, Answer.REJECT, -1, "bad", 10_000);
        assertThat(p.outstanding(10_000)).as("rejected, their dead-letter copies not yet written")
                .isEqualTo(new SharePartition.Outstanding(2, 3, 30_000));
        p.deadLettered(2, 4);
        p.answer("a", 0, 1, Answer.ACCEPT, -1, null, 10_000);
        assertThat(p.outstanding(10_000).isEmpty()).isTrue();
    }

    @Test
    void aRecordDeliveredAsOftenAsALoweredLimitAllowsIsArchivedNotHandedOutAgain() {
        SharePartition p = new SharePartition(POLICY.withDeadLetter(true), 0); // 3 deliveries
        p.acquire("a", 2, 2, 0);
        p.answer("a", 0, 1, Answer.RELEASE, 0, null, 0);
        p.acquire("a", 2, 2, 0);
        p.answer("a", 0, 1, Answer.RELEASE, 0, null, 0); // each delivered twice, available again
        SharePartition lowered = p.withPolicy(new SharePolicy(30_000, 2, 1_000, 2.0, 10_000, 100, true));
        assertThat(lowered.acquire("a", 2, 2, 0)).as("no third delivery").isEmpty();
        assertThat(lowered.deadLettering()).singleElement().satisfies(r -> {
            assertThat(r.first()).isZero();
            assertThat(r.last()).isEqualTo(1);
            assertThat(r.reason()).isEqualTo(SharePartition.ATTEMPTS_EXHAUSTED);
            assertThat(r.error()).isEqualTo("delivered 2 times; the group allows 2");
        });
    }

    @Test
    void releaseWithADelayAndRejectAreTheMembersOwnAnswers() {
        SharePartition p = new SharePartition(POLICY, 0);
        p.acquire("a", 3, 3, 0);
        p.answer("a", 0, 0, Answer.RELEASE, 5_000, null, 0);
        p.answer("a", 1, 1, Answer.RELEASE, 0, null, 0);
        p.answer("a", 2, 2, Answer.REJECT, -1, "bad json", 0);
        assertThat(p.acquire("b", 10, 3, 0)).containsExactly(new Acquired(1, 1, 2));
        assertThat(p.acquire("b", 10, 3, 4_999)).isEmpty();
        assertThat(p.acquire("b", 10, 3, 5_000)).containsExactly(new Acquired(0, 0, 2));
        assertThat(p.nextDeadlineMs(5_000)).as("the lock of offset 1, taken at 0").isEqualTo(30_000);
    }

    @Test
    void anAnswerToAnEarlierDeliveryDoesNotApplyToTheRecordHandedOutAgain() {
        SharePartition p = new SharePartition(POLICY, 0);
        p.acquire("a", 2, 2, 0);
        assertThat(p.answer("a", 0, 1, 1, Answer.RELEASE, 0, null, 0).applied()).isEqualTo(2);
        assertThat(p.acquire("a", 2, 2, 0)).as("back to the same member at once").containsExactly(new Acquired(0, 1, 2));
        // The first release sent again (its call's outcome was unknown to the member): it answered delivery 1.
        var again = p.answer("a", 0, 1, 1, Answer.RELEASE, 0, null, 0);
        assertThat(again.applied()).isZero();
        assertThat(again.notHeld()).isEqualTo(2);
        assertThat(p.acquire("b", 2, 2, 0)).as("delivery 2 is still a's").isEmpty();
        assertThat(p.answer("a", 0, 1, 2, Answer.ACCEPT, -1, null, 0).applied()).isEqualTo(2);
        assertThat(p.start()).isEqualTo(2);
    }

    @Test
    void theWindowBoundsWhatIsInFlightWhateverTheBacklog() {
        SharePartition p = new SharePartition(new SharePolicy(30_000, 5, 0, 1, 0, 10, false), 100);
        assertThat(p.acquire("a", 1_000, 1_000_000, 0)).containsExactly(new Acquired(100, 109, 1));
        assertThat(p.acquire("b", 1_000, 1_000_000, 0)).isEmpty();
        p.answer("a", 100, 104, Answer.ACCEPT, -1, null, 0);
        assertThat(p.acquire("b", 1_000, 1_000_000, 0)).containsExactly(new Acquired(110, 114, 1));
        assertThat(p.end() - p.start()).isEqualTo(10);
    }

    @Test
    void aMemberThatLeavesGivesBackWhatItHeld() {
        SharePartition p = new SharePartition(POLICY, 0);
        p.acquire("a", 4, 4, 0);
        p.answer("a", 1, 1, Answer.ACCEPT, -1, null, 0);
        p.releaseMember("a", 10);
        assertThat(p.acquire("b", 10, 4, 1_010)).containsExactly(new Acquired(0, 0, 2), new Acquired(2, 3, 2));
    }

    @Test
    void retentionTakesWhatWasNotDoneBeforeTheNewLogStart() {
        SharePartition p = new SharePartition(POLICY, 0);
        p.acquire("a", 10, 10, 0);
        p.logStartMoved(6);
        assertThat(p.start()).isEqualTo(6);
        assertThat(p.answer("a", 0, 9, Answer.ACCEPT, -1, null, 0).applied()).isEqualTo(4);
        assertThat(p.start()).isEqualTo(10);
        p.logStartMoved(50);
        assertThat(p.acquire("a", 10, 55, 0)).containsExactly(new Acquired(50, 54, 1));
    }

    @Test
    void recordsGivenBackAreNotCountedAndNothingIsHandedOutPastTheCallersLogEnd() {
        SharePartition p = new SharePartition(POLICY, 0);
        p.acquire("a", 10, 10, 0);
        p.answer("a", 0, 9, Answer.GIVE_BACK, -1, null, 0);
        // A node whose view of the log lags (it sees 4 records) hands out only what it can read.
        assertThat(p.acquire("b", 10, 4, 0)).containsExactly(new Acquired(0, 3, 1));
        assertThat(p.acquire("b", 10, 10, 0)).containsExactly(new Acquired(4, 9, 1));
        // A member's own delay is held to the back-off's longest.
        p.answer("b", 4, 4, Answer.RELEASE, Long.MAX_VALUE / 2, null, 0);
        assertThat(p.acquire("c", 1, 10, POLICY.backoffMaxMs())).containsExactly(new Acquired(4, 4, 2));
    }

    @Test
    void deadLetterCopiesAreNumberedInTheOrderTheirRecordsWereArchivedAndKeepTheirNumbersThroughSplits() {
        SharePartition p = new SharePartition(POLICY.withDeadLetter(true), 0);
        p.acquire("a", 10, 10, 0);
        p.answer("a", 6, 8, Answer.REJECT, -1, "bad", 0);
        p.answer("a", 1, 2, Answer.REJECT, -1, "", 0);
        assertThat(p.deadLettering()).extracting(StateRun::first).containsExactly(6L, 1L);
        assertThat(p.deadLettering().get(0).deadLetterSequence(8)).isEqualTo(2);
        assertThat(p.deadLettering().get(1).deadLetterSequence(1)).isEqualTo(3);
        assertThat(p.deadLettering().get(0).reason()).isEqualTo(SharePartition.REJECTED);
        assertThat(p.deadLettering().get(0).error()).isEqualTo("bad");
        // The copy of 6 is written: 7 and 8 keep their numbers.
        p.deadLettered(6, 6);
        assertThat(p.deadLettering().get(0).first()).isEqualTo(7);
        assertThat(p.deadLettering().get(0).deadLetterSequence(7)).isEqualTo(1);
        // A new writer (a new producer) numbers what still waits from 0, in the same order.
        p.useDeadLetterWriter(new SharePartition.DeadLetterWriter(9, "dlq", 0));
        assertThat(p.deadLettering()).extracting(r -> r.deadLetterSequence(r.first())).containsExactly(0L, 2L);
        assertThat(p.nextDeadLetterSequence()).isEqualTo(4);
        p.answer("a", 0, 0, Answer.REJECT, -1, null, 0);
        assertThat(p.deadLettering().get(2).deadLetterSequence(0)).isEqualTo(4);
    }

    @Test
    void theStoredStateReadsBackAsItWasAndRefusesAnythingElse() {
        SharePartition p = new SharePartition(POLICY.withDeadLetter(true), 7);
        p.acquire("member-é", 5, 100, 0);
        p.acquire("other", 5, 100, 0);
        p.answer("member-é", 8, 9, Answer.REJECT, -1, "no", 0);
        p.answer("other", 12, 12, Answer.ACCEPT, -1, null, 0);
        SharePartition plain = new SharePartition(POLICY, 3);
        plain.acquire("m", 4, 10, 0);
        assertThat(ShareStateCodec.encode(plain)[1]).as("version 1 until it dead-letters: older nodes read it")
                .isEqualTo((byte) 1);
        assertThat(ShareStateCodec.decode(ShareStateCodec.encode(plain), POLICY).runs()).isEqualTo(plain.runs());
        p.useDeadLetterWriter(new SharePartition.DeadLetterWriter(42, "dlq", 3));
        byte[] stored = ShareStateCodec.encode(p);
        SharePartition read = ShareStateCodec.decode(stored, p.policy());
        assertThat(read.runs()).isEqualTo(p.runs());
        assertThat(read.deadLetterWriter()).isEqualTo(new SharePartition.DeadLetterWriter(42, "dlq", 3));
        assertThat(read.nextDeadLetterSequence()).isEqualTo(2);
        assertThat(read.start()).isEqualTo(7);
        assertThat(read.end()).isEqualTo(17);
        for (int cut = 0; cut < stored.length; cut++) {
            byte[] shorter = java.util.Arrays.copyOf(stored, cut);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> ShareStateCodec.decode(shorter, POLICY))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }
}
