package io.strata.kafka;

import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;

/**
 * One Kafka API as the door serves it: the versions it answers correctly (only those are offered in
 * ApiVersions) and how. A failed future is answered with the request's own error response, the failure
 * mapped by {@link KafkaErrors}; a future completed with null sends nothing (a Produce with {@code acks=0}).
 */
public interface KafkaApi {
    ApiKeys key();

    /** The oldest version served; by default the oldest the Kafka library knows. */
    default short minVersion() {
        return key().oldestVersion();
    }

    /** The newest version served; by default the newest the Kafka library knows. */
    default short maxVersion() {
        return key().latestVersion();
    }

    CompletableFuture<ApiMessage> handle(KafkaRequest request);

    /** An API served by {@code handler} at versions {@code min} to {@code max}. */
    static KafkaApi of(ApiKeys key, int min, int max,
                       java.util.function.Function<KafkaRequest, CompletableFuture<ApiMessage>> handler) {
        return new KafkaApi() {
            @Override
            public ApiKeys key() {
                return key;
            }

            @Override
            public short minVersion() {
                return (short) min;
            }

            @Override
            public short maxVersion() {
                return (short) max;
            }

            @Override
            public CompletableFuture<ApiMessage> handle(KafkaRequest request) {
                return handler.apply(request);
            }
        };
    }
}
