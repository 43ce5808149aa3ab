package io.strata.kafka;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.protocol.ApiMessage;

/**
 * Kafka's throttle_time_ms, which most answers carry: a client over its quota is told how long it was held back
 * (and newer clients wait that long themselves before they send to this node again, KIP-219).
 */
final class ThrottleTime {
    /** Each answer class's setThrottleTimeMs(int), or null for the few without. */
    private static final ClassValue<MethodHandle> SETTERS = new ClassValue<>() {
        @Override
        protected MethodHandle computeValue(Class<?> type) {
            try {
                return MethodHandles.publicLookup().findVirtual(type, "setThrottleTimeMs",
                        MethodType.methodType(type, int.class));
            } catch (ReflectiveOperationException e) {
                return null;
            }
        }
    };

    private ThrottleTime() {
    }

    static void set(ApiMessage answer, long nanos) {
        MethodHandle setter = SETTERS.get(answer.getClass());
        if (setter != null) {
            try {
                setter.invoke(answer, (int) Math.min(Integer.MAX_VALUE, nanos / 1_000_000));
            } catch (Throwable e) {
                throw new IllegalStateException("cannot set the throttle time of " + answer.getClass(), e);
            }
        }
    }

    /** The record bytes a Fetch answer carries: what a fetch quota counts. */
    static long recordBytes(FetchResponseData answer) {
        long bytes = 0;
        for (FetchResponseData.FetchableTopicResponse t : answer.responses()) {
            for (FetchResponseData.PartitionData p : t.partitions()) {
                if (p.records() != null) {
                    bytes += p.records().sizeInBytes();
                }
            }
        }
        return bytes;
    }
}
