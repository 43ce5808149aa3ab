package io.strata.fetch.grpc;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.strata.api.v1.ConsumedRecord;
import io.strata.api.v1.FetchRequest;
import io.strata.api.v1.FetchResponse;
import io.strata.api.v1.Header;
import io.strata.api.v1.ListOffsetsRequest;
import io.strata.api.v1.ListOffsetsResponse;
import io.strata.fetch.FetchSettings;
import io.strata.fetch.cache.ChunkCache;
import io.strata.fetch.index.IndexView;
import io.strata.fetch.index.PartitionIndex;
import io.strata.metadata.ChunkRef;
import io.strata.metadata.PartitionId;
import io.strata.metadata.Topic;
import io.strata.metadata.TopicCache;
import io.strata.format.ChunkCodec;
import io.strata.format.LogRecord;
import io.strata.format.RecordHeader;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Answers fetches and offset look-ups from the index view and the chunk cache. Request errors fail the
 * answer with a {@link StatusRuntimeException} carrying the precise status; storage failures pass through
 * for the gRPC layer to map. Thread-safe.
 */
public final class FetchHandler {
    private final IndexView index;
    private final ChunkCache cache;
    private final TopicCache topics;
    private final FetchSettings settings;

    public FetchHandler(IndexView index, ChunkCache cache, TopicCache topics, FetchSettings settings) {
        this.index = index;
        this.cache = cache;
        this.topics = topics;
        this.settings = settings;
    }

    public CompletableFuture<FetchResponse> fetch(FetchRequest request) {
        if (request.getOffset() < 0 || request.getMaxBytes() < 0 || request.getMaxWaitMs() < 0) {
            return CompletableFuture.failedFuture(Status.INVALID_ARGUMENT
                    .withDescription("offset, max_bytes and max_wait_ms must not be negative").asRuntimeException());
        }
        int maxBytes = request.getMaxBytes() == 0 ? settings.defaultMaxBytes()
                : Math.min(request.getMaxBytes(), settings.maxMaxBytes());
        Duration maxWait = Duration.ofMillis(Math.min(request.getMaxWaitMs(), settings.maxWait().toMillis()));
        long offset = request.getOffset();
        return resolve(request.getTopic(), request.getPartition()).thenCompose(pid -> {
            PartitionIndex partition = index.partition(pid);
            long start = partition.logStartOffset();
            long end = partition.endOffset();
            if (offset < start || offset > end) {
                throw outOfRange(request.getTopic(), request.getPartition(), offset, start, end);
            }
            if (offset < end) {
                return read(pid, offset, maxBytes);
            }
            if (maxWait.isZero()) {
                return CompletableFuture.completedFuture(empty(pid, offset));
            }
            // At the end: wait for the commit that extends the partition (or the deadline), then look again.
            return index.awaitBeyond(pid, offset, maxWait).thenCompose(grown ->
                    index.partition(pid).endOffset() > offset ? read(pid, offset, maxBytes)
                            : CompletableFuture.completedFuture(empty(pid, offset)));
        });
    }

    public CompletableFuture<ListOffsetsResponse> listOffsets(ListOffsetsRequest request) {
        return resolve(request.getTopic(), request.getPartition()).thenCompose(pid -> {
            PartitionIndex partition = index.partition(pid);
            if (request.hasTimestampMs()) {
                return offsetForTimestamp(partition, request.getTimestampMs());
            }
            long offset = switch (request.getPosition()) {
                case OFFSET_SPEC_EARLIEST -> partition.logStartOffset();
                case OFFSET_SPEC_LATEST -> partition.endOffset();
                default -> throw Status.INVALID_ARGUMENT.withDescription("unknown offset spec "
                        + request.getPositionValue()).asRuntimeException();
            };
            return CompletableFuture.completedFuture(
                    ListOffsetsResponse.newBuilder().setOffset(offset).setTimestampMs(-1).build());
        });
    }

    /** The first chunk whose newest record is at or after the time holds the answer; only it is read. */
    private CompletableFuture<ListOffsetsResponse> offsetForTimestamp(PartitionIndex partition, long timestampMs) {
        for (ChunkRef chunk : partition.chunks()) {
            if (chunk.maxTimestampMs() >= timestampMs) {
                return cache.get(chunk).thenApply(bytes -> {
                    List<LogRecord> records = decode(bytes, chunk);
                    for (int i = 0; i < records.size(); i++) {
                        if (records.get(i).timestampMs() >= timestampMs) {
                            return ListOffsetsResponse.newBuilder().setOffset(chunk.baseOffset() + i)
                                    .setTimestampMs(records.get(i).timestampMs()).build();
                        }
                    }
                    throw new IllegalStateException("chunk index says a record is at or after " + timestampMs);
                });
            }
        }
        return CompletableFuture.completedFuture(
                ListOffsetsResponse.newBuilder().setOffset(partition.endOffset()).setTimestampMs(-1).build());
    }

    private CompletableFuture<PartitionId> resolve(String topicName, int partition) {
        if (topicName.isEmpty()) {
            return CompletableFuture.failedFuture(
                    Status.INVALID_ARGUMENT.withDescription("no topic named").asRuntimeException());
        }
        return topics.get(topicName).thenApply(found -> {
            Topic topic = found.orElseThrow(() -> Status.NOT_FOUND
                    .withDescription("unknown topic '" + topicName + "'").asRuntimeException());
            if (partition < 0 || partition >= topic.partitions()) {
                throw Status.INVALID_ARGUMENT.withDescription("partition " + partition
                        + " is out of range for topic '" + topicName + "' (0.." + (topic.partitions() - 1) + ")")
                        .asRuntimeException();
            }
            return topic.partition(partition);
        });
    }

    private CompletableFuture<FetchResponse> read(PartitionId pid, long offset, int maxBytes) {
        PartitionIndex partition = index.partition(pid);
        List<ChunkRef> chunks = partition.chunksFrom(offset, maxBytes);
        if (chunks.isEmpty()) {
            // Retention moved the start past the offset between the range check and now.
            throw outOfRange("", pid.partition(), offset, partition.logStartOffset(), partition.endOffset());
        }
        List<CompletableFuture<ByteBuffer>> reads = chunks.stream().map(cache::get).toList();
        return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).thenApply(v -> {
            FetchResponse.Builder response = FetchResponse.newBuilder();
            long next = offset;
            long bytes = 0;
            outer:
            for (int c = 0; c < chunks.size(); c++) {
                ChunkRef chunk = chunks.get(c);
                List<LogRecord> records = decode(reads.get(c).join(), chunk);
                for (int i = 0; i < records.size(); i++) {
                    long recordOffset = chunk.baseOffset() + i;
                    if (recordOffset < next) {
                        continue;
                    }
                    LogRecord record = records.get(i);
                    int size = record.encodedSizeUpperBound();
                    if (response.getRecordsCount() > 0 && bytes + size > maxBytes) {
                        break outer;
                    }
                    response.addRecords(toProto(recordOffset, record));
                    bytes += size;
                    next = recordOffset + 1;
                }
            }
            return response.setNextOffset(next).setEndOffset(partition.endOffset())
                    .setLogStartOffset(partition.logStartOffset()).build();
        });
    }

    private static List<LogRecord> decode(ByteBuffer bytes, ChunkRef chunk) {
        return chunk.withOffsets(ChunkCodec.decode(bytes, chunk.crc32c(), chunk.uncompressedLength(),
                chunk.storedRecordCount()));
    }

    private FetchResponse empty(PartitionId pid, long offset) {
        PartitionIndex partition = index.partition(pid);
        return FetchResponse.newBuilder().setNextOffset(offset).setEndOffset(partition.endOffset())
                .setLogStartOffset(partition.logStartOffset()).build();
    }

    private static ConsumedRecord toProto(long offset, LogRecord record) {
        ConsumedRecord.Builder b = ConsumedRecord.newBuilder().setOffset(offset).setTimestampMs(record.timestampMs())
                .setValue(ByteString.copyFrom(record.value()));
        if (record.key() != null) {
            b.setKey(ByteString.copyFrom(record.key()));
        }
        for (RecordHeader h : record.headers()) {
            b.addHeaders(Header.newBuilder().setKey(h.key()).setValue(ByteString.copyFrom(h.value())));
        }
        return b.build();
    }

    private static StatusRuntimeException outOfRange(String topic, int partition, long offset, long start, long end) {
        return Status.OUT_OF_RANGE.withDescription("offset " + offset + " is outside the range [" + start + ", "
                + end + "] of " + (topic.isEmpty() ? "partition " : topic + "/") + partition).asRuntimeException();
    }
}
