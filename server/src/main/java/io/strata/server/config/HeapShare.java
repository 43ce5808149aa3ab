package io.strata.server.config;

import java.util.Optional;

/**
 * A size a role keeps on its heap (the fetch node's memory tier of chunks, the segment compaction builds), bounded
 * by a share of that heap: the size set, or the default when none is, cut to {@code cap}. A default cut to fit a
 * smaller heap is what the operator asked for by sizing the heap (a fetch node at {@code -Xmx512m} keeps 128 MiB of
 * chunks), so only a size they set and the heap cannot hold is worth a warning; the roles log the size they use.
 *
 * @param bytes     the size to use
 * @param setAndCut whether a size set was cut (the caller warns)
 */
public record HeapShare(long bytes, boolean setAndCut) {
    /**
     * The heap the JVM was given ({@code -Xmx}, or its share of the container's memory): the same under every
     * collector, where {@link Runtime#maxMemory()} is {@code -Xmx} under G1 but leaves a survivor space out under
     * Serial, which the JVM picks on one CPU or under 1.75 GiB (a Kubernetes pod with a CPU limit of 1).
     */
    public static long maxHeap() {
        try {
            return Long.parseLong(java.lang.management.ManagementFactory.getPlatformMXBean(
                    com.sun.management.HotSpotDiagnosticMXBean.class).getVMOption("MaxHeapSize").getValue());
        } catch (RuntimeException e) {
            return Runtime.getRuntime().maxMemory(); // a JVM without HotSpot's flags
        }
    }

    public static HeapShare of(Optional<Long> set, long byDefault, long cap) {
        long wanted = set.orElse(byDefault);
        long bytes = Math.min(wanted, cap);
        return new HeapShare(bytes, set.isPresent() && bytes < wanted);
    }
}
