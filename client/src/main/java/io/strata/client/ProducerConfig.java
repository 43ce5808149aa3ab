package io.strata.client;

import java.time.Duration;

/**
 * Batching settings of a {@link Producer}.
 *
 * @param linger          how long a partition's first buffered record waits for company before its batch is sent
 * @param maxBatchBytes   a partition's batch is sent at once when it reaches this many bytes
 * @param maxRequestBytes ready batches share one request up to this size; kept under gRPC's usual 4 MiB
 *                        message limit, which nodes apply to what they receive
 * @param bufferBytes     {@code send} blocks while this many bytes are buffered or in flight
 */
public record ProducerConfig(Duration linger, int maxBatchBytes, int maxRequestBytes, int bufferBytes) {
    public static final ProducerConfig DEFAULT =
            new ProducerConfig(Duration.ofMillis(5), 512 << 10, 3 << 20, 32 << 20);

    public ProducerConfig {
        if (linger.isNegative()) {
            throw new IllegalArgumentException("linger must not be negative, not " + linger);
        }
        if (maxBatchBytes <= 0 || maxRequestBytes < maxBatchBytes || bufferBytes < maxBatchBytes) {
            throw new IllegalArgumentException("need 0 < maxBatchBytes <= maxRequestBytes and bufferBytes, got "
                    + maxBatchBytes + ", " + maxRequestBytes + ", " + bufferBytes);
        }
    }

    public ProducerConfig withLinger(Duration linger) {
        return new ProducerConfig(linger, maxBatchBytes, maxRequestBytes, bufferBytes);
    }

    public ProducerConfig withMaxBatchBytes(int maxBatchBytes) {
        return new ProducerConfig(linger, maxBatchBytes, Math.max(maxRequestBytes, maxBatchBytes),
                Math.max(bufferBytes, maxBatchBytes));
    }
}
