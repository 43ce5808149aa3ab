package io.strata.format;

/**
 * What a record batch's header says, once checked: {@code recordCount} records that inflate to
 * {@code uncompressedLength} bytes, with timestamps in [{@code minTimestampMs}, {@code maxTimestampMs}];
 * the batch occupies {@code sizeBytes} bytes (header and frame).
 */
public record BatchInfo(int recordCount, int uncompressedLength, long minTimestampMs, long maxTimestampMs,
                        int sizeBytes) {
}
