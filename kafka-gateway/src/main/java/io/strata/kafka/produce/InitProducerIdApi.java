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
 * node allocates from (so ids are unique across nodes and doors). Strata's producer state has no epochs, so every
 * id is issued at the last epoch, {@link #EPOCH}: a Java producer that would bump its epoch after an error (an
 * expired batch, a sequence gap) cannot, and asks for a new id instead, which starts its sequences afresh; a
 * librdkafka producer asks InitProducerId to bump, and gets a new id too. A bumped epoch under the old id would
 * restart its sequences at 0 against state that remembers the old ones. A transactional id's producer is
 * {@link io.strata.kafka.txn.TransactionApis}': its epochs are its own.
 */
public final class InitProducerIdApi implements KafkaApi {
    /** The one epoch of every producer id this door issues (the last there is: it cannot be bumped). */
    public static final short EPOCH = Short.MAX_VALUE;

    private final MetadataStore metadata;

    private final io.strata.kafka.auth.KafkaGuard guard;

    public InitProducerIdApi(MetadataStore metadata) {
        this(metadata, io.strata.kafka.auth.KafkaGuard.OPEN);
    }

    /** {@code guard} makes the ids name the principal they are issued to. */
    public InitProducerIdApi(MetadataStore metadata, io.strata.kafka.auth.KafkaGuard guard) {
        this(metadata, guard, null);
    }

    /** {@code transactions} serves producers with a transactional id (null: they are refused). */
    public InitProducerIdApi(MetadataStore metadata, io.strata.kafka.auth.KafkaGuard guard,
                             io.strata.kafka.txn.TransactionApis transactions) {
        this.metadata = metadata;
        this.guard = guard;
        this.transactions = transactions;
    }

    private final io.strata.kafka.txn.TransactionApis transactions;

    @Override
    public ApiKeys key() {
        return ApiKeys.INIT_PRODUCER_ID;
    }



    @Override
    public CompletableFuture<ApiMessage> handle(KafkaRequest request) {
        InitProducerIdRequestData data = ((InitProducerIdRequest) request.body()).data();
        if (data.transactionalId() != null && transactions != null) {
            return transactions.initProducerId(request, data);
        }
        if (data.transactionalId() != null) {
            return CompletableFuture.completedFuture((ApiMessage) (new InitProducerIdResponseData()
                    .setErrorCode(Errors.UNSUPPORTED_VERSION.code()).setProducerId(-1).setProducerEpoch((short) -1)));
        }
        io.strata.security.Identity who = request.session().caller(guard.required());
        return metadata.allocateProducerId().thenApply(counter -> (ApiMessage) (new InitProducerIdResponseData()
                .setErrorCode(Errors.NONE.code()).setProducerId(guard.producerId(counter, who))
                .setProducerEpoch(EPOCH)));
    }
}
