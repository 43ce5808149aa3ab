package io.strata.kafka.produce;

import io.strata.kafka.KafkaApi;
import io.strata.kafka.KafkaRequest;
import io.strata.metadata.MetadataStore;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.requests.InitProducerIdRequest;
import org.apache.kafka.common.requests.InitProducerIdResponse;

/**
 * InitProducerId for idempotent producers: a producer id from the metadata store, the same sequence every
 * node allocates from (so ids are unique across nodes and doors), at epoch 0. A producer that asks again
 * (to bump its epoch after an error) gets a new id, which starts its sequences afresh just as a bumped epoch
 * would. Transactional ids are refused until Strata has transactions.
 */
public final class InitProducerIdApi implements KafkaApi {
    private final MetadataStore metadata;

    public InitProducerIdApi(MetadataStore metadata) {
        this.metadata = metadata;
    }

    @Override
    public ApiKeys key() {
        return ApiKeys.INIT_PRODUCER_ID;
    }



    @Override
    public CompletableFuture<ApiMessage> handle(KafkaRequest request) {
        InitProducerIdRequestData data = ((InitProducerIdRequest) request.body()).data();
        if (data.transactionalId() != null) {
            return CompletableFuture.completedFuture((ApiMessage) (new InitProducerIdResponseData()
                    .setErrorCode(Errors.UNSUPPORTED_VERSION.code()).setProducerId(-1).setProducerEpoch((short) -1)));
        }
        return metadata.allocateProducerId().thenApply(id -> (ApiMessage) (new InitProducerIdResponseData()
                .setErrorCode(Errors.NONE.code()).setProducerId(id).setProducerEpoch((short) 0)));
    }
}
