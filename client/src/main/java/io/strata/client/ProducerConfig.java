package io.strata.client;

import java.time.Duration;

/**
 * Batching settings of a {@link Producer}.
 *
 * @param linger           how long a partition's first buffered record waits for company before its batch is sent
 * @param maxBatchBytes    a partition's batch is closed when its records reach this many (encoded) bytes
 * @param maxRequestBytes  ready batches share one request up to this many bytes before compression (the
 *                         node counts a request's records as they inflate, 8 MiB at most); a record
 *                         larger than this is refused by {@code send}
 * @param bufferBytes      {@code send} blocks while this many bytes are buffered or in flight
 * @param idempotent       a retried request is stored once (a producer id and sequence numbers; on by default)
 * @param maxInFlightRequests requests a producer has outstanding on one node's stream at once (pipelining;
 *                         a partition's records stay in order, the node admits a stream's requests in order)
 * @param deliveryTimeout  how long a record may take, retries included, before its future fails
 * @param compressionLevel zstd level the producer compresses its batches with; 1 by default: on log-like
 *                         data it keeps most of level 3's ratio at about half its CPU, and CPU, not bytes
 *                         stored in object storage, is what limits a producer (docs/benchmarks.md)
 */
public record ProducerConfig(Duration linger, int maxBatchBytes, int maxRequestBytes, int bufferBytes,
                             boolean idempotent, int compressionLevel, int maxInFlightRequests,
                             Duration deliveryTimeout) {
    public static final ProducerConfig DEFAULT = new ProducerConfig(Duration.ofMillis(5), 512 << 10, 6 << 20,
            32 << 20, true, 1, 32, Duration.ofMinutes(2));

    public ProducerConfig {
        if (linger.isNegative()) {
            throw new IllegalArgumentException("linger must not be negative, not " + linger);
        }
        if (maxBatchBytes <= 0 || maxRequestBytes < maxBatchBytes || bufferBytes < maxBatchBytes) {
            throw new IllegalArgumentException("need 0 < maxBatchBytes <= maxRequestBytes and bufferBytes, got "
                    + maxBatchBytes + ", " + maxRequestBytes + ", " + bufferBytes);
        }
        if (compressionLevel < -7 || compressionLevel > 22) {
            throw new IllegalArgumentException("zstd levels go from -7 to 22, not " + compressionLevel);
        }
        if (maxInFlightRequests < 1 || deliveryTimeout.isNegative() || deliveryTimeout.isZero()) {
            throw new IllegalArgumentException("need at least one request in flight and a positive delivery timeout");
        }
    }

    public ProducerConfig withLinger(Duration linger) {
        return new ProducerConfig(linger, maxBatchBytes, maxRequestBytes, bufferBytes, idempotent, compressionLevel,
                maxInFlightRequests, deliveryTimeout);
    }

    public ProducerConfig withMaxBatchBytes(int maxBatchBytes) {
        return new ProducerConfig(linger, maxBatchBytes, Math.max(maxRequestBytes, maxBatchBytes),
                Math.max(bufferBytes, maxBatchBytes), idempotent, compressionLevel, maxInFlightRequests,
                deliveryTimeout);
    }

    public ProducerConfig withIdempotence(boolean idempotent) {
        return new ProducerConfig(linger, maxBatchBytes, maxRequestBytes, bufferBytes, idempotent, compressionLevel,
                maxInFlightRequests, deliveryTimeout);
    }

    public ProducerConfig withBufferBytes(int bufferBytes) {
        return new ProducerConfig(linger, maxBatchBytes, maxRequestBytes, bufferBytes, idempotent, compressionLevel,
                maxInFlightRequests, deliveryTimeout);
    }

    public ProducerConfig withCompressionLevel(int level) {
        return new ProducerConfig(linger, maxBatchBytes, maxRequestBytes, bufferBytes, idempotent, level,
                maxInFlightRequests, deliveryTimeout);
    }

    public ProducerConfig withMaxInFlightRequests(int requests) {
        return new ProducerConfig(linger, maxBatchBytes, maxRequestBytes, bufferBytes, idempotent, compressionLevel,
                requests, deliveryTimeout);
    }

    public ProducerConfig withDeliveryTimeout(Duration timeout) {
        return new ProducerConfig(linger, maxBatchBytes, maxRequestBytes, bufferBytes, idempotent, compressionLevel,
                maxInFlightRequests, timeout);
    }
}
