package io.strata.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.strata.api.ErrorReason;
import io.strata.api.v1.ProduceError;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

class RefusalsTest {

    private static StrataException answered(Status.Code code, String message, String reason) {
        return StrataException.of(ProduceError.newBuilder().setCode(code.value()).setMessage(message)
                .setReason(reason).build());
    }

    @Test
    void aNamedRefusalEndsTheTransactionByItsNameWhateverItsWords() {
        assertThat(Refusals.endsTransaction(answered(Status.Code.FAILED_PRECONDITION, "reworded", "PRODUCER_FENCED")))
                .isTrue();
        assertThat(Refusals.fenced(answered(Status.Code.FAILED_PRECONDITION, "reworded", "PRODUCER_FENCED"))).isTrue();
        for (String ending : new String[] {"TRANSACTION_NOT_OPEN", "INVALID_STATE", "INVALID_PRODUCER"}) {
            assertThat(Refusals.endsTransaction(answered(Status.Code.FAILED_PRECONDITION, "reworded", ending)))
                    .as(ending).isTrue();
        }
        // A gap named as such is a gap, even in words that once meant the transaction was over.
        StrataException gap = answered(Status.Code.FAILED_PRECONDITION, "is no longer open", "SEQUENCE_GAP");
        assertThat(Refusals.endsTransaction(gap)).isFalse();
        assertThat(Refusals.fenced(answered(Status.Code.FAILED_PRECONDITION, "producer fenced: x", "INVALID_STATE")))
                .isFalse();
        assertThat(Refusals.endsTransaction(answered(Status.Code.NOT_FOUND, "x", "UNKNOWN_TRANSACTIONAL_ID")))
                .isFalse();
    }

    @Test
    void aRefusalFromANodeThatNamesNoneIsReadByItsWords() {
        assertThat(Refusals.fenced(answered(Status.Code.FAILED_PRECONDITION, "producer fenced: a newer one", "")))
                .isTrue();
        assertThat(Refusals.endsTransaction(answered(Status.Code.FAILED_PRECONDITION,
                "partition 1 of topic id 7 was not added to the transaction of tx", ""))).isTrue();
        assertThat(Refusals.endsTransaction(answered(Status.Code.FAILED_PRECONDITION,
                "sequence gap: expected 3", ""))).isFalse();
    }

    @Test
    void aFailedCallsReasonComesFromItsTrailerThroughWrappers() {
        StrataException e = StrataException.from(new CompletionException(ErrorReason.failure(
                Status.FAILED_PRECONDITION.withDescription("producer fenced: a newer producer took over"),
                ErrorReason.PRODUCER_FENCED)));
        assertThat(e.reason()).isEqualTo(ErrorReason.PRODUCER_FENCED);
        assertThat(StrataException.from(Status.FAILED_PRECONDITION.withDescription("x").asRuntimeException()).reason())
                .isEmpty();
    }
}
