package io.strata.client;

import io.grpc.StatusRuntimeException;
import io.strata.api.v1.ConsumedRecord;
import io.strata.api.v1.FetchRequest;
import io.strata.api.v1.FetchResponse;
import io.strata.api.v1.FetchServiceGrpc.FetchServiceBlockingStub;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

/**
 * Reads assigned partitions of one topic with unary Fetch calls, keeping a position per partition (the
 * next offset to read). A partition with no position yet starts at its end, looked up on first use;
 * {@link #seek}, {@link #seekToBeginning} and {@link #seekToEnd} change that. No consumer group: the
 * positions live in this object only.
 *
 * <p>Not thread-safe: one thread polls. Holds no threads or connections; nothing to close.
 */
public final class Consumer {
    private final String topic;
    private final FetchServiceBlockingStub stub;
    private final Admin admin;
    private final ConsumerConfig config;
    private final Duration deadline;
    private final List<Integer> assignment = new ArrayList<>();
    private final Map<Integer, Long> positions = new HashMap<>();
    /** Where a partition without a position starts; resolved through ListOffsets before it is fetched. */
    private final Map<Integer, OffsetQuery> pendingStarts = new HashMap<>();
    private int cursor;

    Consumer(String topic, FetchServiceBlockingStub stub, Admin admin, ConsumerConfig config, Duration deadline) {
        this.topic = topic;
        this.stub = stub;
        this.admin = admin;
        this.config = config;
        this.deadline = deadline;
    }

    public String topic() {
        return topic;
    }

    /** Reads these partitions from now on; positions of partitions that stay assigned are kept. */
    public void assign(Collection<Integer> partitions) {
        List<Integer> next = List.copyOf(new LinkedHashSet<>(partitions));
        if (next.stream().anyMatch(p -> p < 0)) {
            throw new IllegalArgumentException("partitions are numbered from 0: " + partitions);
        }
        positions.keySet().retainAll(next);
        pendingStarts.keySet().retainAll(next);
        for (int p : next) {
            if (!positions.containsKey(p)) {
                pendingStarts.putIfAbsent(p, OffsetQuery.latest());
            }
        }
        assignment.clear();
        assignment.addAll(next);
        cursor = 0;
    }

    /** Assigns every partition of the topic; throws StrataException (NOT_FOUND) for an unknown topic. */
    public void assignAll() {
        assign(IntStream.range(0, admin.describeTopic(topic).partitions()).boxed().toList());
    }

    public List<Integer> assignment() {
        return List.copyOf(assignment);
    }

    public void seek(int partition, long offset) {
        requireAssigned(partition);
        if (offset < 0) {
            throw new IllegalArgumentException("offsets are not negative: " + offset);
        }
        pendingStarts.remove(partition);
        positions.put(partition, offset);
    }

    /** Every assigned partition restarts at its log start, as it is when next polled. */
    public void seekToBeginning() {
        restartAll(OffsetQuery.earliest());
    }

    /** Every assigned partition restarts at its end, as it is when next polled. */
    public void seekToEnd() {
        restartAll(OffsetQuery.latest());
    }

    /** The next offset to read from the partition, looked up first if it has no position yet. */
    public long position(int partition) {
        requireAssigned(partition);
        resolve(partition);
        return positions.get(partition);
    }

    /**
     * Answers the records available from the assigned partitions, waiting up to {@code timeout} for some.
     * Each call starts at the next partition in turn; when none has records it long-polls them one by one
     * (one at most {@link ConsumerConfig#longPollCap()} while several are assigned). Each partition's records
     * come in offset order. Empty when nothing came within the timeout.
     *
     * @throws StrataException when a call fails; positions then stay where the last answer left them
     */
    public List<ConsumerRecord> poll(Duration timeout) {
        if (assignment.isEmpty()) {
            throw new IllegalStateException("assign partitions of '" + topic + "' before polling");
        }
        long until = System.nanoTime() + timeout.toNanos();
        int n = assignment.size();
        List<ConsumerRecord> out = new ArrayList<>();
        while (true) {
            if (n > 1) {
                for (int i = 0; i < n; i++) {
                    fetch(assignment.get((cursor + i) % n), 0, out);
                }
                cursor = (cursor + 1) % n;
                if (!out.isEmpty()) {
                    return out;
                }
            }
            long remainingMs = TimeUnit.NANOSECONDS.toMillis(until - System.nanoTime());
            if (remainingMs <= 0 && n > 1) {
                return out;
            }
            long waitMs = Math.max(0, n > 1 ? Math.min(remainingMs, config.longPollCap().toMillis()) : remainingMs);
            int partition = assignment.get(cursor);
            cursor = (cursor + 1) % n;
            fetch(partition, waitMs, out);
            if (!out.isEmpty() || until - System.nanoTime() <= 0) {
                return out;
            }
        }
    }

    private void fetch(int partition, long waitMs, List<ConsumerRecord> out) {
        resolve(partition);
        FetchRequest request = FetchRequest.newBuilder().setTopic(topic).setPartition(partition)
                .setOffset(positions.get(partition)).setMaxBytes(config.maxBytes())
                .setMaxWaitMs((int) Math.min(Integer.MAX_VALUE, waitMs)).build();
        FetchResponse response;
        try {
            response = stub.withDeadlineAfter(deadline.toMillis() + waitMs, TimeUnit.MILLISECONDS).fetch(request);
        } catch (StatusRuntimeException e) {
            throw StrataException.from(e);
        }
        for (ConsumedRecord r : response.getRecordsList()) {
            out.add(new ConsumerRecord(topic, partition, r.getOffset(), r.getTimestampMs(),
                    r.hasKey() ? r.getKey().toByteArray() : null, r.getValue().toByteArray(),
                    r.getHeadersList().stream()
                            .map(h -> new RecordHeader(h.getKey(), h.getValue().toByteArray())).toList()));
        }
        positions.put(partition, response.getNextOffset());
    }

    private void resolve(int partition) {
        OffsetQuery start = pendingStarts.get(partition);
        if (start != null) {
            positions.put(partition, admin.listOffsets(topic, partition, start).offset());
            pendingStarts.remove(partition);
        }
    }

    private void restartAll(OffsetQuery start) {
        for (int p : assignment) {
            positions.remove(p);
            pendingStarts.put(p, start);
        }
    }

    private void requireAssigned(int partition) {
        if (!assignment.contains(partition)) {
            throw new IllegalStateException("partition " + partition + " of '" + topic + "' is not assigned");
        }
    }
}
