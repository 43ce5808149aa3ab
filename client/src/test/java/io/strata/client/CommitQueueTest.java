package io.strata.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class CommitQueueTest {
    /** A store that answers each commit when told to, and keeps what comes last per partition, as the server does. */
    private static final class Store {
        final List<Map<Integer, Long>> sent = new ArrayList<>();
        final List<Consumer<StrataException>> unanswered = new ArrayList<>();
        final Map<Integer, Long> committed = new java.util.HashMap<>();

        synchronized void send(Map<Integer, Long> offsets, Map<Integer, Long> epochs, Consumer<StrataException> done) {
            sent.add(Map.copyOf(offsets));
            committed.putAll(offsets);
            unanswered.add(done);
        }

        void answerFirst() {
            Consumer<StrataException> done;
            synchronized (this) {
                done = unanswered.remove(0);
            }
            done.accept(null);
        }

        synchronized int inFlight() {
            return unanswered.size();
        }
    }

    /** A store that answers each commit soon, on threads of its own, counting the most commits ever out at once. */
    private static final class Overlaps {
        final java.util.concurrent.atomic.AtomicInteger out = new java.util.concurrent.atomic.AtomicInteger();
        final java.util.concurrent.atomic.AtomicInteger mostOut = new java.util.concurrent.atomic.AtomicInteger();
        final java.util.concurrent.ExecutorService answers = java.util.concurrent.Executors.newFixedThreadPool(2);

        void started() {
            mostOut.accumulateAndGet(out.incrementAndGet(), Math::max);
        }

        void send(Map<Integer, Long> offsets, Map<Integer, Long> epochs, Consumer<StrataException> done) {
            started();
            answers.execute(() -> {
                out.decrementAndGet();
                done.accept(null);
            });
        }
    }

    @Test
    void commitsMadeWhileOneIsInFlightGoAsOneWithEachPartitionsNewestOffset() {
        Store store = new Store();
        CommitQueue queue = new CommitQueue(store::send, Duration.ofSeconds(30));
        List<StrataException> outcomes = new ArrayList<>();
        queue.async(Map.of(0, 10L), Map.of(), outcomes::add);
        for (long offset = 11; offset <= 1_000; offset++) {
            queue.async(Map.of(0, offset, 1, offset * 2), Map.of(), outcomes::add);
        }
        assertThat(store.inFlight()).as("one at a time").isEqualTo(1);
        store.answerFirst();
        assertThat(store.sent).containsExactly(Map.of(0, 10L), Map.of(0, 1_000L, 1, 2_000L));
        store.answerFirst();
        assertThat(outcomes).hasSize(991).containsOnlyNulls();
    }

    @Test
    void callbacksHearInTheOrderTheirCommitsWentEvenWhenALaterOneIsAnsweredFirst() {
        List<Consumer<StrataException>> answers = new ArrayList<>();
        // The second commit goes once the first is answered, and is answered at once, on the same thread: before
        // the first's callbacks were told.
        CommitQueue queue = new CommitQueue((offsets, epochs, done) -> {
            if (offsets.get(0) == 2L) {
                done.accept(null);
            } else {
                answers.add(done);
            }
        }, Duration.ofSeconds(30));
        List<Long> heard = new ArrayList<>();
        queue.async(Map.of(0, 1L), Map.of(), failure -> heard.add(1L));
        queue.async(Map.of(0, 2L), Map.of(), failure -> heard.add(2L));
        answers.get(0).accept(null);
        assertThat(heard).containsExactly(1L, 2L);
    }

    @Test
    void commitsMadeFromManyThreadsAtOnceStillGoOneAtATimeAndAllAreHeard() throws Exception {
        Overlaps overlaps = new Overlaps();
        CommitQueue queue = new CommitQueue(overlaps::send, Duration.ofSeconds(30));
        java.util.concurrent.atomic.AtomicInteger heard = new java.util.concurrent.atomic.AtomicInteger();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            int thread = t;
            Thread committer = new Thread(() -> {
                for (long i = 0; i < 2_000; i++) {
                    queue.async(Map.of(thread, i), Map.of(), failure -> heard.incrementAndGet());
                }
            });
            committer.start();
            threads.add(committer);
        }
        for (Thread t : threads) {
            t.join();
        }
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (heard.get() < 16_000 && System.nanoTime() < until) {
            Thread.sleep(5);
        }
        overlaps.answers.shutdown();
        assertThat(heard.get()).isEqualTo(16_000);
        assertThat(overlaps.mostOut.get()).as("never two commits in flight").isEqualTo(1);
    }

    @Test
    void synchronousCommitsFromManyThreadsAmongAsynchronousOnesNeverOverlapAnyCommit() throws Exception {
        Overlaps overlaps = new Overlaps();
        CommitQueue queue = new CommitQueue(overlaps::send, Duration.ofSeconds(30));
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            int thread = t;
            Thread committer = new Thread(() -> {
                for (long i = 0; i < 300; i++) {
                    queue.async(Map.of(thread, i), Map.of(), failure -> { });
                    queue.sync(() -> {
                        overlaps.started();
                        Thread.onSpinWait();
                        overlaps.out.decrementAndGet();
                    });
                }
            });
            committer.start();
            threads.add(committer);
        }
        for (Thread t : threads) {
            t.join();
        }
        overlaps.answers.shutdown();
        assertThat(overlaps.answers.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        assertThat(overlaps.mostOut.get()).as("never two commits in flight, synchronous or not").isEqualTo(1);
    }

    @Test
    void aSyncCommitGoesAfterEveryCommitMadeBeforeItAndBeforeThoseMadeMeanwhile() throws Exception {
        Store store = new Store();
        CommitQueue queue = new CommitQueue(store::send, Duration.ofSeconds(30));
        queue.async(Map.of(0, 5L), Map.of(), failure -> { });
        queue.async(Map.of(0, 7L), Map.of(), failure -> { }); // pending behind the first
        CompletableFuture<Void> sync = CompletableFuture.runAsync(() -> queue.sync(() -> store.send(Map.of(0, 9L),
                Map.of(), failure -> { })));
        Thread.sleep(100);
        assertThat(sync).as("waiting for the one in flight").isNotDone();
        store.answerFirst(); // 5 answered: 7 goes, the sync still waits for it
        Thread.sleep(100);
        assertThat(sync).isNotDone();
        queue.async(Map.of(0, 11L), Map.of(), failure -> { }); // made while the sync waits: goes after it
        store.answerFirst();
        sync.get(10, TimeUnit.SECONDS);
        store.answerFirst(); // the sync's own answer slot in this fake store
        assertThat(store.sent).containsExactly(Map.of(0, 5L), Map.of(0, 7L), Map.of(0, 9L), Map.of(0, 11L));
        assertThat(store.committed).containsEntry(0, 11L);
    }

    @Test
    void theCommitSentBeforeASyncOneGetsAWholePatienceOfItsOwnEvenWhenTheOneBeforeItWasSlow() throws Exception {
        Store store = new Store();
        CommitQueue queue = new CommitQueue(store::send, Duration.ofMillis(400));
        queue.async(Map.of(0, 5L), Map.of(), failure -> { });
        queue.async(Map.of(0, 7L), Map.of(), failure -> { });
        CompletableFuture<Void> sync = CompletableFuture.runAsync(() -> queue.sync(() -> store.send(Map.of(0, 9L),
                Map.of(), failure -> { })));
        Thread.sleep(300);
        store.answerFirst(); // 5, late in the sync's patience: 7 goes now
        Thread.sleep(250); // past the patience the sync began with, within 7's own
        assertThat(sync).as("waiting for 7, which is older").isNotDone();
        store.answerFirst();
        sync.get(10, TimeUnit.SECONDS);
        assertThat(store.sent).containsExactly(Map.of(0, 5L), Map.of(0, 7L), Map.of(0, 9L));
    }

    @Test
    void aSenderThatThrowsFailsItsCommitsAndTheQueueGoesOn() {
        List<StrataException> outcomes = new ArrayList<>();
        Store store = new Store();
        java.util.concurrent.atomic.AtomicBoolean broken = new java.util.concurrent.atomic.AtomicBoolean(true);
        CommitQueue queue = new CommitQueue((offsets, epochs, done) -> {
            if (broken.getAndSet(false)) {
                throw new IllegalStateException("no channel");
            }
            store.send(offsets, epochs, done);
        }, Duration.ofSeconds(30));
        queue.async(Map.of(0, 5L), Map.of(), outcomes::add);
        queue.async(Map.of(0, 6L), Map.of(), outcomes::add);
        assertThat(outcomes).hasSize(1).allSatisfy(f -> assertThat(f).isNotNull());
        assertThat(store.sent).containsExactly(Map.of(0, 6L));
    }

    @Test
    void aCallbackThatThrowsDoesNotKeepTheOthersMergedWithItFromHearing() {
        Store store = new Store();
        CommitQueue queue = new CommitQueue(store::send, Duration.ofSeconds(30));
        List<String> heard = new ArrayList<>();
        queue.async(Map.of(0, 1L), Map.of(), failure -> heard.add("first"));
        queue.async(Map.of(0, 2L), Map.of(), failure -> {
            throw new IllegalStateException("the application's callback");
        });
        queue.async(Map.of(0, 3L), Map.of(), failure -> heard.add("third"));
        store.answerFirst();
        store.answerFirst();
        assertThat(heard).containsExactly("first", "third");
        queue.async(Map.of(0, 4L), Map.of(), failure -> heard.add("fourth"));
        store.answerFirst();
        assertThat(heard).containsExactly("first", "third", "fourth");
    }

    @Test
    void aCommitUnansweredForAWholePatienceDoesNotHoldTheNextForever() {
        Store store = new Store();
        CommitQueue queue = new CommitQueue(store::send, Duration.ofMillis(200));
        queue.async(Map.of(0, 5L), Map.of(), failure -> { }); // never answered
        queue.sync(() -> store.send(Map.of(0, 9L), Map.of(), failure -> { }));
        assertThat(store.sent).containsExactly(Map.of(0, 5L), Map.of(0, 9L));
    }
}
