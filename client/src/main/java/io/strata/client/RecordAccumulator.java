package io.strata.client;

import io.strata.format.BatchCodec;
import io.strata.format.ByteArrayPool;
import io.strata.format.LogRecord;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The records a {@link Producer} holds, as a queue of batches per partition. Holds no threads; thread-safe
 * (one lock, held only for bookkeeping, never during a call).
 *
 * <p>Which partitions may send is the sender's to say ({@link #drainReady}'s room): it pipelines
 * several requests per partition on one ordered stream, and holds a partition back while it retries.
 */
final class RecordAccumulator {
    /** Asks {@link #append} to pick the topic's sticky partition for a record without key or partition. */
    static final int STICKY = -1;

    record TopicPartition(String topic, int partition) {
        @Override
        public String toString() {
            return topic + "/" + partition;
        }
    }

    /** What an append did: the batch it created (for the linger timer), and whether a batch became ready. */
    record Appended(ProducerBatch created, boolean ready) {}

    /** Room past the batch size for the record that fills a batch, so that it seldom outgrows its array. */
    private static final int POOL_SLACK = 16 << 10;

    private final ProducerConfig config;
    /** Where batch buffers come from and go back to: their memory is allocated once (ByteArrayPool says why). */
    private final ByteArrayPool pool;
    private final Map<TopicPartition, ArrayDeque<ProducerBatch>> queues = new LinkedHashMap<>();
    /** The size a partition's last batch reached: where its next batch's buffer starts. */
    private final Map<TopicPartition, Integer> lastBatchBytes = new HashMap<>();
    private final Set<ProducerBatch> incomplete = new HashSet<>();
    /** Unkeyed records of a topic go to one partition until its batch leaves, as Kafka's sticky partitioner. */
    private final Map<String, Integer> sticky = new HashMap<>();
    private int flushesInProgress;

    RecordAccumulator(ProducerConfig config) {
        this.config = config;
        // One size for record buffers and compressed batches: a full batch plus a record's worth of slack.
        int poolBufferSize = BatchCodec.maxBuiltSize(config.maxBatchBytes() + POOL_SLACK);
        this.pool = new ByteArrayPool(poolBufferSize, Math.max(2, config.bufferBytes() / poolBufferSize));
    }

    synchronized Appended append(String topic, int partition, int partitionCount, LogRecord record, int size,
                                 int permits, CompletableFuture<RecordMetadata> future) {
        int target = partition == STICKY ? sticky.computeIfAbsent(topic,
                t -> ThreadLocalRandom.current().nextInt(partitionCount)) : partition;
        TopicPartition tp = new TopicPartition(topic, target);
        ArrayDeque<ProducerBatch> queue = queues.computeIfAbsent(tp, k -> new ArrayDeque<>());
        ProducerBatch tail = queue.peekLast();
        ProducerBatch created = null;
        if (tail == null || (!tail.records.isEmpty() && tail.bytes + size > config.maxBatchBytes())) {
            int expected = Math.min(config.maxBatchBytes() + 8192,
                    lastBatchBytes.getOrDefault(tp, 4096) + lastBatchBytes.getOrDefault(tp, 4096) / 4 + 1024);
            created = new ProducerBatch(topic, target, expected, pool);
            created.lingered = config.linger().isZero();
            queue.addLast(created);
            incomplete.add(created);
            tail = created;
        }
        tail.add(record, permits, future);
        if (partition == STICKY && tail.isFull(config.maxBatchBytes())) {
            sticky.remove(topic);
        }
        return new Appended(created, isReady(queue));
    }

    synchronized void lingerExpired(ProducerBatch batch) {
        batch.lingered = true;
    }

    /**
     * Takes the ready batches of every partition that has room (a partition's ready batches oldest first, at
     * most {@code room} of them, so a partition's records keep flowing however long a request takes), up
     * to the request size limit (always at least one). Empty when nothing is ready.
     */
    synchronized List<ProducerBatch> drainReady(java.util.function.ToIntFunction<TopicPartition> room) {
        List<ProducerBatch> drained = new ArrayList<>();
        long requestBytes = 0;
        for (Iterator<Map.Entry<TopicPartition, ArrayDeque<ProducerBatch>>> it = queues.entrySet().iterator();
             it.hasNext(); ) {
            Map.Entry<TopicPartition, ArrayDeque<ProducerBatch>> entry = it.next();
            ArrayDeque<ProducerBatch> queue = entry.getValue();
            int mayTake = isReady(queue) ? room.applyAsInt(entry.getKey()) : 0;
            if (mayTake <= 0) {
                continue;
            }
            ProducerBatch head = queue.peekFirst();
            if (!drained.isEmpty() && requestBytes + head.bytes > config.maxRequestBytes()) {
                continue;
            }
            do {
                lastBatchBytes.put(entry.getKey(), head.bytes);
                queue.pollFirst();
                drained.add(head);
                requestBytes += head.bytes;
                Integer stickyPartition = sticky.get(head.topic);
                if (stickyPartition != null && stickyPartition == head.partition) {
                    sticky.remove(head.topic);
                }
                head = queue.peekFirst();
            } while (--mayTake > 0 && head != null && isReady(queue)
                    && requestBytes + head.bytes <= config.maxRequestBytes());
            if (queue.isEmpty()) {
                it.remove();
            }
        }
        return drained;
    }

    /** Whether no batch waits to be sent. */
    synchronized boolean isEmpty() {
        return queues.isEmpty();
    }

    /** The batch is done (its futures are completed, either way). */
    synchronized void completed(ProducerBatch batch) {
        incomplete.remove(batch);
    }

    /** Makes every batch ready until {@link #endFlush}; answers what was buffered or in flight at the start. */
    synchronized List<CompletableFuture<Void>> beginFlush() {
        flushesInProgress++;
        return incomplete.stream().map(b -> b.done).toList();
    }

    synchronized void endFlush() {
        flushesInProgress--;
    }

    private boolean isReady(ArrayDeque<ProducerBatch> queue) {
        ProducerBatch head = queue.peekFirst();
        // A batch with a successor was closed for being full, even if it is a few bytes short of the limit.
        return head != null && (head.lingered || flushesInProgress > 0 || queue.size() > 1
                || head.isFull(config.maxBatchBytes()));
    }
}
