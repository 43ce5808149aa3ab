package io.strata.queues.delay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

/**
 * The decisions of delayed delivery without storage: buckets read back segment by segment as written, rounds that
 * deliver every entry once, never before its time, in due order, and that replay to the same records from what
 * they wrote down; and the stored state read back as it was.
 */
class DelayedDeliveryCoreTest {

    private static List<DelayedEntry> entries(Random random, int count, long offsetBase) {
        List<DelayedEntry> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            byte[] record = ("r" + (offsetBase + i) + "-".repeat(random.nextInt(40))).getBytes(StandardCharsets.UTF_8);
            out.add(new DelayedEntry(1_000 + random.nextInt(5_000), offsetBase + i, record));
        }
        out.sort(DelayedEntry.ORDER);
        return out;
    }

    /** The whole object read as a reader does: trailer, footer, then each segment on its own. */
    private static List<List<DelayedEntry>> read(byte[] object) {
        ByteBuffer all = ByteBuffer.wrap(object);
        DelayBucketCodec.Trailer trailer = DelayBucketCodec.trailer(all.slice(object.length
                - DelayBucketCodec.TRAILER_BYTES, DelayBucketCodec.TRAILER_BYTES), object.length);
        DelayBucketCodec.Footer footer = DelayBucketCodec.footer(all.slice(object.length
                - DelayBucketCodec.TRAILER_BYTES - trailer.footerLength(), trailer.footerLength()), trailer,
                object.length);
        List<List<DelayedEntry>> segments = new ArrayList<>();
        for (DelayBucketCodec.Segment s : footer.segments()) {
            segments.add(DelayBucketCodec.segment(all.slice((int) s.byteOffset(), s.byteLength()), s));
        }
        return segments;
    }

    @Property(tries = 200)
    void aBucketReadsBackSegmentBySegmentAsItWasWritten(@ForAll long seed, @ForAll @IntRange(min = 1, max = 300) int count,
                                                       @ForAll @IntRange(min = 1, max = 2_000) int segmentBytes) {
        List<DelayedEntry> written = entries(new Random(seed), count, 7);
        byte[] object = DelayBucketCodec.encode(written, segmentBytes);
        List<List<DelayedEntry>> segments = read(object);
        List<DelayedEntry> back = new ArrayList<>();
        segments.forEach(back::addAll);
        assertThat(back).hasSize(written.size());
        for (int i = 0; i < back.size(); i++) {
            assertThat(back.get(i).dueMs()).isEqualTo(written.get(i).dueMs());
            assertThat(back.get(i).offset()).isEqualTo(written.get(i).offset());
            assertThat(back.get(i).record()).isEqualTo(written.get(i).record());
        }
    }

    @Test
    void aDamagedBucketIsRefusedNeverRead() {
        byte[] object = DelayBucketCodec.encode(entries(new Random(1), 50, 0), 200);
        byte[] flipped = object.clone();
        flipped[10] ^= 0x20;
        assertThatThrownBy(() -> read(flipped)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("CRC32C");
        byte[] cut = java.util.Arrays.copyOf(object, object.length - 1);
        assertThatThrownBy(() -> read(cut)).isInstanceOf(IllegalArgumentException.class);
        // Every byte of the footer and trailer is covered: a flip anywhere there is refused too.
        int footerStart = object.length - DelayBucketCodec.TRAILER_BYTES - ByteBuffer.wrap(object,
                object.length - DelayBucketCodec.TRAILER_BYTES, 4).getInt();
        for (int i = footerStart; i < object.length; i++) {
            byte[] damaged = object.clone();
            damaged[i] ^= 0x01;
            assertThatThrownBy(() -> read(damaged)).as("byte %d flipped", i).isInstanceOf(IllegalArgumentException.class);
        }
        assertThat(read(DelayBucketCodec.encode(List.of(), 100))).as("an empty bucket").isEmpty();
        assertThatThrownBy(() -> DelayBucketCodec.encode(List.of(new DelayedEntry(5, 1, new byte[0]),
                new DelayedEntry(4, 2, new byte[0])), 100)).as("out of order").isInstanceOf(IllegalArgumentException.class);
    }

    /**
     * Buckets in segments, delivered in rounds as time passes, a segment loaded when its predecessor is delivered:
     * every entry is delivered exactly once, never before its time, rounds in due order, and each round's takes
     * replay to exactly its entries.
     */
    @Property(tries = 300)
    void roundsDeliverEveryEntryOnceNeverEarlyInDueOrderAndReplayAsPlanned(
            @ForAll long seed, @ForAll @IntRange(min = 1, max = 5) int bucketCount,
            @ForAll @IntRange(min = 1, max = 40) int maxEntries, @ForAll @LongRange(min = 1, max = 400) long maxBytes) {
        Random random = new Random(seed);
        Map<String, List<List<DelayedEntry>>> buckets = new HashMap<>();
        Map<String, byte[]> objects = new HashMap<>();
        int total = 0;
        for (int b = 0; b < bucketCount; b++) {
            List<DelayedEntry> written = entries(random, 1 + random.nextInt(60), b * 1_000L);
            objects.put("b" + b, DelayBucketCodec.encode(written, 1 + random.nextInt(300)));
            buckets.put("b" + b, read(objects.get("b" + b)));
            total += written.size();
        }
        Map<String, Long> delivered = new HashMap<>();
        buckets.keySet().forEach(b -> delivered.put(b, 0L));
        Set<Long> seen = new HashSet<>();
        DelayedEntry last = null;
        long now = 0;
        int rounds = 0;
        while (seen.size() < total) {
            assertThat(rounds++).as("rounds make progress").isLessThan(100_000);
            List<DeliveryRound.Head> heads = new ArrayList<>();
            for (var e : buckets.entrySet()) {
                long done = delivered.get(e.getKey());
                List<List<DelayedEntry>> segments = e.getValue();
                long start = 0;
                int s = 0;
                while (s < segments.size() - 1 && start + segments.get(s).size() <= done) {
                    start += segments.get(s).size(); // the worker loads the segment holding its first undelivered entry
                    s++;
                }
                if (done < start + segments.get(s).size() || s == segments.size() - 1) {
                    heads.add(new DeliveryRound.Head(e.getKey(), start, segments.get(s), done, s == segments.size() - 1));
                }
            }
            DeliveryRound.Round round = DeliveryRound.plan(heads, now, maxEntries, maxBytes);
            if (round.isEmpty()) {
                now += 1 + random.nextInt(200); // nothing due yet: time passes
                continue;
            }
            assertThat(round.entries()).hasSizeLessThanOrEqualTo(maxEntries);
            List<List<DelayedEntry>> slices = new ArrayList<>();
            for (DeliveryRound.Take t : round.takes()) {
                // Read again from the bucket's bytes, as a node replaying an intent after a crash does.
                List<DelayedEntry> flat = new ArrayList<>();
                read(objects.get(t.bucket())).forEach(flat::addAll);
                slices.add(flat.subList((int) t.from(), (int) t.to()));
                assertThat(t.from()).isEqualTo(delivered.get(t.bucket()));
                delivered.put(t.bucket(), t.to());
            }
            assertThat(DeliveryRound.replay(round.takes(), slices)).as("the written-down round replays as planned")
                    .map(DelayedDeliveryCoreTest::describe).isEqualTo(round.entries().stream()
                            .map(DelayedDeliveryCoreTest::describe).toList());
            java.util.Collections.reverse(heads);
            assertThat(DeliveryRound.plan(heads, now, maxEntries, maxBytes).takes()).as("the same round, whatever "
                    + "the heads' order").isEqualTo(round.takes());
            long roundBytes = round.entries().stream().mapToLong(e -> e.record().length).sum();
            assertThat(round.entries().size() == 1 || roundBytes <= maxBytes).as("within the byte bound").isTrue();
            for (DelayedEntry e : round.entries()) {
                assertThat(e.dueMs()).as("never before its time").isLessThanOrEqualTo(now);
                assertThat(seen.add(e.offset())).as("delivered once").isTrue();
                if (last != null) {
                    assertThat(DelayedEntry.ORDER.compare(last, e)).as("in due order").isNegative();
                }
                last = e;
            }
        }
        assertThat(seen).hasSize(total);
    }

    private static String describe(DelayedEntry e) {
        return e.dueMs() + "/" + e.offset() + "/" + new String(e.record(), StandardCharsets.UTF_8);
    }

    @Test
    void theStoredStateReadsBackAsItWasAndRefusesAnythingElse() {
        DelayState state = new DelayState(1_234, List.of(new DelayState.Bucket("delay/7/3/0-99", 100, 40, 5_000, 9_000, 4_096),
                new DelayState.Bucket("delay/7/3/100-120", 21, 0, 6_000, 6_000, 900)), 88, 40,
                new DelayState.Intent(List.of(new DeliveryRound.Take("delay/7/3/0-99", 40, 45)), 40, 1_700_000_000_000L));
        byte[] stored = state.encode();
        assertThat(DelayState.decode(stored)).isEqualTo(state);
        assertThat(state.pending()).isEqualTo(81);
        assertThat(DelayState.decode(DelayState.EMPTY.encode())).isEqualTo(DelayState.EMPTY);
        for (int cut = 0; cut < stored.length; cut++) {
            byte[] shorter = java.util.Arrays.copyOf(stored, cut);
            assertThatThrownBy(() -> DelayState.decode(shorter)).isInstanceOf(IllegalArgumentException.class);
        }
        DelayState.Bucket b = new DelayState.Bucket("k", 10, 4, 0, 5, 1);
        assertThatThrownBy(() -> new DelayState(0, List.of(b, b), -1, 0, null)).as("a bucket twice")
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new DelayState(0, List.of(b), 1, 4, new DelayState.Intent(List.of(
                new DeliveryRound.Take("k", 3, 5)), 4, 0))).as("a take not from the delivered ones")
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new DelayState(0, List.of(b), 1, 4, new DelayState.Intent(List.of(
                new DeliveryRound.Take("k", 4, 11)), 4, 0))).as("a take past the bucket").isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new DelayState(0, List.of(b), 1, 4, new DelayState.Intent(List.of(
                new DeliveryRound.Take("other", 0, 1)), 4, 0))).as("a take of no bucket").isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new DelayState(0, List.of(b), 1, 4, new DelayState.Intent(List.of(
                new DeliveryRound.Take("k", 4, 6)), 3, 0))).as("not from the next sequence").isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aRoundWrittenDownIsDeliveredOrRenumberedAndMergesKeepWhatIsLeft() {
        DelayState.Bucket a = new DelayState.Bucket("a", 10, 0, 100, 200, 1_000);
        DelayState.Bucket b = new DelayState.Bucket("b", 5, 3, 150, 300, 500);
        DelayState state = new DelayState(15, List.of(a, b), 7, 20, null)
                .planning(List.of(new DeliveryRound.Take("a", 0, 10), new DeliveryRound.Take("b", 3, 4)), 5_000);
        assertThat(state.intent().baseSequence()).isEqualTo(20);
        DelayState renumbered = state.withProducer(8);
        assertThat(renumbered.intent()).as("the same round, from 0 under the new producer")
                .isEqualTo(new DelayState.Intent(state.intent().takes(), 0, 5_000));
        DelayState delivered = state.roundDelivered();
        assertThat(delivered.intent()).isNull();
        assertThat(delivered.nextSequence()).isEqualTo(31);
        assertThat(delivered.buckets()).as("a delivered in full goes").containsExactly(
                new DelayState.Bucket("b", 5, 4, 150, 300, 500));
        DelayState.Bucket merged = new DelayState.Bucket("m", 1, 0, 300, 300, 80);
        assertThat(delivered.scannedTo(20, null).merged(java.util.Set.of("b"), merged).buckets()).containsExactly(merged);
        assertThatThrownBy(() -> delivered.merged(java.util.Set.of("b"), new DelayState.Bucket("m", 2, 0, 1, 1, 1)))
                .as("a merge that lost or gained entries").isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> state.merged(java.util.Set.of("b"), merged)).as("not while a round is under way")
                .isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> delivered.scannedTo(10, null)).isInstanceOf(IllegalArgumentException.class);
    }
}
