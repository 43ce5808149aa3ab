package io.strata.fetch.tail;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.metadata.PartitionId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class TailReadersTest {
    private static final PartitionId A = new PartitionId(1, 0);
    private static final PartitionId B = new PartitionId(1, 1);
    private static final PartitionId C = new PartitionId(2, 0);

    // Near the end of the clock's range: its values wrap around during the tests, as System.nanoTime() may.
    private final AtomicLong nanos = new AtomicLong(Long.MAX_VALUE - 5_000_000_000L);
    private final List<Runnable> queued = new ArrayList<>();

    private TailReaders readers(int max) {
        return new TailReaders(Duration.ofSeconds(30), max, nanos::get, queued::add);
    }

    private void runQueued() {
        List<Runnable> now = List.copyOf(queued);
        queued.clear();
        now.forEach(Runnable::run);
    }

    /** What a watcher holds after applying every update it was sent, as an ingest node does. */
    private static final class Held {
        final Set<PartitionId> wanted = new HashSet<>();
        final List<TailReaders.Update> updates = new ArrayList<>();
        boolean everything;

        void apply(TailReaders.Update u) {
            updates.add(u);
            if (u.whole()) {
                wanted.clear();
            }
            wanted.removeAll(u.removed());
            wanted.addAll(u.added());
            everything = u.everything();
        }
    }

    @Test
    void aWatcherGetsTheWholeSetFirstThenEachPartitionOnceAsItsReadersReachTheEnd() {
        TailReaders tail = readers(100);
        tail.atEnd(A);
        runQueued();
        Held held = new Held();
        tail.watch(held::apply, () -> { });
        assertThat(held.updates).singleElement().satisfies(u -> assertThat(u.whole()).isTrue());
        assertThat(held.wanted).containsExactly(A);

        tail.atEnd(B);
        tail.atEnd(B);
        tail.atEnd(A);
        runQueued();
        assertThat(held.updates).hasSize(2);
        assertThat(held.updates.get(1).added()).containsExactly(B);
        assertThat(held.wanted).containsExactlyInAnyOrder(A, B);
        assertThat(tail.partitions()).isEqualTo(2);
    }

    @Test
    void aPartitionNobodyReadsAtTheTailForTheTtlIsRemovedAndOneReadAgainStays() {
        TailReaders tail = readers(100);
        Held held = new Held();
        tail.watch(held::apply, () -> { });
        tail.atEnd(A);
        tail.atEnd(B);
        runQueued();
        nanos.addAndGet(Duration.ofSeconds(20).toNanos());
        tail.atEnd(B); // read again: its 30 s start over
        nanos.addAndGet(Duration.ofSeconds(11).toNanos());
        tail.expire(p -> false);
        runQueued();
        assertThat(held.wanted).containsExactly(B);
        assertThat(held.updates.get(held.updates.size() - 1).removed()).containsExactly(A);

        // Expired and read again before the watchers heard: they hear nothing, and keep it.
        nanos.addAndGet(Duration.ofSeconds(31).toNanos());
        tail.expire(p -> false);
        tail.atEnd(B);
        int before = held.updates.size();
        runQueued();
        assertThat(held.updates).hasSize(before);
        assertThat(held.wanted).containsExactly(B);
    }

    @Test
    void aPartitionAReaderWaitsOnLongerThanTheTtlStays() {
        TailReaders tail = readers(100);
        Held held = new Held();
        tail.watch(held::apply, () -> { });
        tail.atEnd(A);
        tail.atEnd(B);
        runQueued();
        nanos.addAndGet(Duration.ofSeconds(45).toNanos());
        tail.expire(A::equals); // a reader has waited on A for 45 s
        runQueued();
        assertThat(held.wanted).containsExactly(A);
        assertThat(tail.reads(A)).isTrue();
        assertThat(tail.reads(B)).isFalse();
        nanos.addAndGet(Duration.ofSeconds(31).toNanos());
        tail.expire(p -> false); // its wait ended 31 s ago, and nobody read it since
        runQueued();
        assertThat(held.wanted).isEmpty();
    }

    @Test
    void pastItsBoundTheNodeAsksForEverythingUntilExpiryBringsItBelowHalf() {
        TailReaders tail = readers(2);
        Held held = new Held();
        tail.watch(held::apply, () -> { });
        tail.atEnd(A);
        tail.atEnd(B);
        tail.atEnd(C);
        runQueued();
        assertThat(held.everything).isTrue();
        assertThat(tail.partitions()).isEqualTo(2);

        Held late = new Held();
        tail.watch(late::apply, () -> { });
        assertThat(late.everything).as("a watcher that comes later is told at once").isTrue();

        nanos.addAndGet(Duration.ofSeconds(31).toNanos());
        tail.expire(p -> false);
        runQueued();
        assertThat(held.everything).isFalse();
        assertThat(held.wanted).isEmpty();
        tail.atEnd(C);
        runQueued();
        assertThat(held.wanted).containsExactly(C);
        assertThat(late.wanted).containsExactly(C);
    }

    @Test
    void closingEndsEveryWatchAndAStoppedWatcherHearsNoMore() {
        TailReaders tail = readers(100);
        Held stopped = new Held();
        Runnable stop = tail.watch(stopped::apply, () -> { });
        AtomicBoolean ended = new AtomicBoolean();
        Held open = new Held();
        tail.watch(open::apply, () -> ended.set(true));
        stop.run();
        tail.atEnd(A);
        runQueued();
        assertThat(stopped.updates).hasSize(1);
        assertThat(open.wanted).containsExactly(A);
        tail.close();
        assertThat(ended).isTrue();
    }
}
