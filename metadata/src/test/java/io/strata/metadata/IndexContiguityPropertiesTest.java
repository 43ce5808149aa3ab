package io.strata.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The index's contiguity under racing commits: random blocks (random partitions and record counts, some with an
 * idempotent producer's batch, some of them retries) committed all at once through the real commit protocol on
 * the embedded store, so their transactions conflict and retry. Afterwards every partition's chunks tile its
 * offsets from 0 to its end without gap or overlap, each commit's answer is what the index says, and a retried
 * batch was stored once.
 */
class IndexContiguityPropertiesTest {
    /** Records per partition of one block (0: the block has no chunk there); {@code idempotent}: partition 0 too. */
    record Block(int[] records, boolean idempotent) {
        @Override
        public String toString() {
            return java.util.Arrays.toString(records) + (idempotent ? "+idem" : "");
        }
    }

    @Provide
    Arbitrary<List<Block>> blocks() {
        return net.jqwik.api.Combinators.combine(Arbitraries.integers().between(0, 4).array(int[].class).ofSize(6),
                Arbitraries.of(true, false)).as(Block::new).list().ofMinSize(1).ofMaxSize(24);
    }

    @Property(tries = 40)
    void chunksTileEveryPartitionsOffsetsAndAnswersMatchTheIndex(@ForAll("blocks") List<Block> blocks)
            throws IOException {
        Path dir = Files.createTempDirectory("strata-index-property-");
        try (MetadataStore store = MetadataStores.embedded(dir, 4)) {
            Topic topic = store.createTopic(new TopicConfig("t", 6, -1, -1)).join();
            long producer = store.allocateProducerId().join();
            List<CompletableFuture<List<ChunkCommit>>> answers = new ArrayList<>();
            List<BlockCommit> commits = new ArrayList<>();
            for (int i = 0; i < blocks.size(); i++) {
                Block b = blocks.get(i);
                List<BlockChunk> chunks = new ArrayList<>();
                long offset = 8;
                for (int p = 0; p < 6; p++) {
                    int n = b.records()[p];
                    if (p == 0 && b.idempotent()) {
                        // The same batch (sequences 0..2) in every idempotent block: one is stored, the rest retries.
                        chunks.add(new BlockChunk(topic.partition(p), n + 3, offset, 100, 300, 1, 2, 7,
                                List.of(new ProducerBatch(producer, 0, n, 3))));
                    } else if (n > 0) {
                        chunks.add(new BlockChunk(topic.partition(p), n, offset, 100, 300, 1, 2, 7));
                    } else {
                        continue;
                    }
                    offset += 100;
                }
                if (chunks.isEmpty()) {
                    continue;
                }
                BlockCommit commit = new BlockCommit("wal/b-" + i, offset + 100, chunks);
                commits.add(commit);
                answers.add(store.commitBlock(commit));
            }
            Map<String, List<ChunkCommit>> answered = new HashMap<>();
            for (int i = 0; i < commits.size(); i++) {
                answered.put(commits.get(i).objectKey(), answers.get(i).join());
            }

            Map<PartitionId, List<ChunkRef>> refs = new HashMap<>();
            for (IndexEntry entry : store.readIndex().join().entries()) {
                for (ChunkRef ref : entry.chunks()) {
                    refs.computeIfAbsent(ref.partition(), p -> new ArrayList<>()).add(ref);
                    ChunkCommit answer = answered.get(ref.objectKey()).stream()
                            .filter(c -> c.partition().equals(ref.partition())).findFirst().orElseThrow();
                    assertThat(answer.baseOffset()).isEqualTo(ref.baseOffset());
                    assertThat(answer.recordCount()).isEqualTo(ref.recordCount());
                    assertThat(answer.skipped()).isEqualTo(ref.skipped());
                }
            }
            long idempotentStored = 0;
            for (int p = 0; p < 6; p++) {
                PartitionId partition = topic.partition(p);
                List<ChunkRef> list = new ArrayList<>(refs.getOrDefault(partition, List.of()));
                list.sort(Comparator.comparingLong(ChunkRef::baseOffset));
                long next = 0;
                for (ChunkRef ref : list) {
                    assertThat(ref.baseOffset()).as("%s starts where the previous chunk ended", ref).isEqualTo(next);
                    assertThat(ref.recordCount()).isPositive();
                    next += ref.recordCount();
                }
                assertThat(store.offsets(partition).join().nextOffset()).isEqualTo(next);
                long plain = blocks.stream().mapToLong(b -> b.records()[partition.partition()]).sum();
                if (p == 0) {
                    idempotentStored = next - plain;
                } else {
                    assertThat(next).isEqualTo(plain);
                }
            }
            boolean anyIdempotent = commits.stream().anyMatch(c -> !c.chunks().get(0).producerBatches().isEmpty());
            assertThat(idempotentStored).as("the idempotent batch stored once").isEqualTo(anyIdempotent ? 3 : 0);
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }
}
