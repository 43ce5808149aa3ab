package io.strata.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

/**
 * The admission rules against a model that keeps every batch ever stored: random chunks of plain records and
 * idempotent producers' batches — next in sequence, retries of batches sent before (stored or not), and
 * batches after a gap — admitted one chunk after another into one partition, its producer state folded from the
 * batches each admission appended. The model says a batch is stored exactly when it follows on from the
 * producer's last stored sequence (or starts at 0, from a producer the partition has no state of: any other
 * sequence from such a producer is refused as unknown); a retry of one of its last {@link ProducerBatch#RETRY_WINDOW} stored batches gets the
 * original's offset; anything else is refused and stored nowhere. Offsets stay dense, skipped positions are
 * exactly the records not stored, and nothing is ever stored twice.
 */
class ChunkAdmissionPropertiesTest {
    private static final PartitionId PARTITION = new PartitionId(3, 1);

    /** plain records, a producer's next batch, a retry of its {@code back}-th last batch sent, or a gap. */
    record Item(int kind, int producer, int count, int back) {
        @Override
        public String toString() {
            return switch (kind) {
                case 0 -> "plain" + count;
                case 1 -> "p" + producer + ".next" + count;
                case 2 -> "p" + producer + ".retry-" + back;
                default -> "p" + producer + ".gap" + count;
            };
        }
    }

    @Provide
    Arbitrary<List<List<Item>>> chunks() {
        Arbitrary<Integer> producer = Arbitraries.integers().between(1, 4);
        Arbitrary<Integer> count = Arbitraries.integers().between(1, 5);
        Arbitrary<Item> plain = count.map(c -> new Item(0, 0, c, 0));
        Arbitrary<Item> next = Combinators.combine(producer, count).as((p, c) -> new Item(1, p, c, 0));
        // Retries of batches inside the window and past it (stored too long ago to be matched).
        Arbitrary<Item> retry = Combinators.combine(producer,
                        Arbitraries.integers().between(1, ProducerBatch.RETRY_WINDOW + 5))
                .as((p, b) -> new Item(2, p, 0, b));
        Arbitrary<Item> gap = Combinators.combine(producer, count).as((p, c) -> new Item(3, p, c, 0));
        Arbitrary<Item> item = Arbitraries.frequencyOf(Tuple.of(2, plain), Tuple.of(6, next), Tuple.of(4, retry),
                Tuple.of(1, gap));
        // Up to 60 chunks: long enough histories that producers have batches past the window.
        return item.list().ofMinSize(1).ofMaxSize(6).list().ofMinSize(1).ofMaxSize(60);
    }

    private record Sent(long baseSequence, int count) {
    }

    private record Stored(long baseSequence, int count, long offset) {
    }

    @Property(tries = 300)
    void onlyBatchesThatFollowOnAreStoredRetriesGetTheirOriginalOffsetsAndOffsetsStayDense(
            @ForAll("chunks") List<List<Item>> chunks) {
        ProducerStates states = new ProducerStates();
        long ledgerNext = 0;
        Map<Integer, List<Sent>> sent = new HashMap<>();
        Map<Integer, Long> nextToSend = new HashMap<>();
        Map<Integer, List<Stored>> stored = new HashMap<>();
        long nextOffset = 0;
        long now = 1_000;
        for (List<Item> chunkItems : chunks) {
            List<ProducerBatch> batches = new ArrayList<>();
            List<Integer> producerOf = new ArrayList<>();
            int position = 0;
            List<int[]> plainRanges = new ArrayList<>();
            for (Item item : chunkItems) {
                if (item.kind() == 0) {
                    plainRanges.add(new int[] {position, item.count()});
                    position += item.count();
                    continue;
                }
                List<Sent> mine = sent.computeIfAbsent(item.producer(), p -> new ArrayList<>());
                Sent batch;
                if (item.kind() == 2 && !mine.isEmpty()) {
                    batch = mine.get(Math.max(0, mine.size() - item.back()));
                } else {
                    long next = nextToSend.getOrDefault(item.producer(), 0L);
                    int count = Math.max(1, item.count());
                    batch = new Sent(item.kind() == 3 ? next + 1 + count : next, count);
                    if (item.kind() != 3) {
                        nextToSend.put(item.producer(), next + count);
                        mine.add(batch);
                    }
                }
                batches.add(new ProducerBatch(item.producer(), batch.baseSequence(), position, batch.count()));
                producerOf.add(item.producer());
                position += batch.count();
            }
            if (position == 0) {
                continue;
            }
            BlockChunk chunk = new BlockChunk(PARTITION, position, 8, 100, 300, now, now, 7, batches);
            long at = now++;
            ChunkAdmission.Admitted admitted = ChunkAdmission.admit(ledgerNext, id -> states.get(PARTITION, id), chunk,
                    "wal/x", at);
            ChunkCommit commit = admitted.commit();

            // The model, in position order: what each batch must get, and the offsets of plain records.
            List<int[]> notStored = new ArrayList<>();
            int b = 0;
            int plain = 0;
            for (int p = 0; p < position; ) {
                if (plain < plainRanges.size() && plainRanges.get(plain)[0] == p) {
                    int[] range = plainRanges.get(plain++);
                    for (int i = 0; i < range[1]; i++) {
                        assertThat(commit.offsetAt(p + i)).as("plain record at %d", p + i).isEqualTo(nextOffset++);
                    }
                    p += range[1];
                    continue;
                }
                ProducerBatch batch = batches.get(b);
                List<Stored> history = stored.computeIfAbsent(producerOf.get(b), x -> new ArrayList<>());
                BatchOutcome outcome = commit.batches().get(b);
                long last = history.isEmpty() ? -1 : history.get(history.size() - 1).baseSequence()
                        + history.get(history.size() - 1).count() - 1;
                Stored original = history.stream().filter(s -> s.baseSequence() == batch.baseSequence()
                        && s.count() == batch.recordCount()).findFirst().orElse(null);
                int age = original == null ? -1 : history.size() - history.indexOf(original);
                if (history.isEmpty() && batch.baseSequence() != 0) {
                    assertThat(outcome).as("%s of %s", batch, chunkItems).isInstanceOf(BatchOutcome.Rejected.class)
                            .extracting(o -> ((BatchOutcome.Rejected) o).reason())
                            .isEqualTo(BatchOutcome.Reason.UNKNOWN_PRODUCER);
                    notStored.add(new int[] {p, batch.recordCount()});
                } else if (history.isEmpty() || batch.baseSequence() == last + 1) {
                    assertThat(outcome).as("%s of %s", batch, chunkItems)
                            .isEqualTo(new BatchOutcome.Appended(nextOffset));
                    history.add(new Stored(batch.baseSequence(), batch.recordCount(), nextOffset));
                    nextOffset += batch.recordCount();
                } else if (original != null && age <= ProducerBatch.RETRY_WINDOW) {
                    assertThat(outcome).as("retry %s of %s", batch, chunkItems)
                            .isEqualTo(new BatchOutcome.Duplicate(original.offset()));
                    notStored.add(new int[] {p, batch.recordCount()});
                } else {
                    assertThat(outcome).as("%s of %s", batch, chunkItems).isInstanceOf(BatchOutcome.Rejected.class);
                    notStored.add(new int[] {p, batch.recordCount()});
                }
                p += batch.recordCount();
                b++;
            }
            assertThat(commit.skipped().stream().map(r -> List.of(r.firstPosition(), r.count())).toList())
                    .isEqualTo(notStored.stream().map(r -> List.of(r[0], r[1])).toList());
            assertThat(commit.baseOffset() + commit.recordCount()).isEqualTo(nextOffset);
            assertThat(admitted.nextOffset()).isEqualTo(nextOffset);
            assertThat(admitted.appends()).as("the appended batches, as the index entry carries them")
                    .allMatch(a -> a.partition().equals(PARTITION));
            if (admitted.ref() != null) {
                assertThat(admitted.ref().recordCount()).isEqualTo(commit.recordCount());
                assertThat(admitted.ref().skipped()).isEqualTo(commit.skipped());
            }
            admitted.appends().forEach(a -> states.fold(a, at));
            ledgerNext = admitted.nextOffset();
        }
    }
}
