package io.strata.client;

import static io.strata.client.ReceivedAnswer.random;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.grpc.protobuf.ProtoUtils;
import io.strata.api.v1.ShareFetchResponse;
import io.strata.api.v1.SharedRecord;
import org.junit.jupiter.api.Test;

/**
 * A record's arrays are taken over from the answer the standard marshaller parsed, not copied again, and only
 * where the byte string is exactly one array of its own.
 */
class ArrayCaptureTest {
    @Test
    void aValueTheStandardMarshallerParsedIsHandedOverWithoutACopy() {
        ShareFetchResponse sent = ShareFetchResponse.newBuilder()
                .addRecords(SharedRecord.newBuilder().setOffset(3).setKey(ByteString.copyFrom(random(16, 1)))
                        .setValue(ByteString.copyFrom(random(1024, 2))))
                .addRecords(SharedRecord.newBuilder().setOffset(4).setValue(ByteString.copyFrom(random(700, 3))))
                .build();
        ShareFetchResponse parsed = ProtoUtils.marshaller(ShareFetchResponse.getDefaultInstance())
                .parse(new ReceivedAnswer(sent.toByteArray()));

        for (SharedRecord r : parsed.getRecordsList()) {
            byte[] value = ArrayCapture.bytes(r.getValue());
            assertThat(value).isEqualTo(r.getValue().toByteArray());
            assertThat(ArrayCapture.bytes(r.getValue())).as("the string's own array, not a copy").isSameAs(value);
        }
        assertThat(ArrayCapture.bytes(parsed.getRecords(0).getKey())).isEqualTo(random(16, 1));
    }

    @Test
    void onlyAClientThatDialsNodesItselfTakesTheArraysOverAnInProcessOneCopies() {
        byte[] array = random(64, 7);
        ByteString parsed = com.google.protobuf.UnsafeByteOperations.unsafeWrap(array);
        NodeRouter dialing = new NodeRouter(null, java.util.List.of("127.0.0.1:1"), address -> null,
                java.time.Duration.ofSeconds(1), java.time.Duration.ofSeconds(1));
        NodeRouter inProcess = new NodeRouter(null, java.util.List.of("127.0.0.1:1"), null,
                java.time.Duration.ofSeconds(1), java.time.Duration.ofSeconds(1));

        assertThat(dialing.answerBytes().apply(parsed)).isSameAs(array);
        // In process the answer is the sender's own message: its arrays stay the sender's.
        assertThat(inProcess.answerBytes().apply(parsed)).isNotSameAs(array).isEqualTo(array);
    }

    @Test
    void aViewIntoALargerArrayOrAStringOfSeveralPiecesIsCopied() {
        ByteString whole = ByteString.copyFrom(random(100, 4));
        ByteString view = whole.substring(10, 60);
        byte[] fromView = ArrayCapture.bytes(view);
        assertThat(fromView).hasSize(50).isEqualTo(view.toByteArray());
        assertThat(ArrayCapture.bytes(view)).as("a fresh copy each time").isNotSameAs(fromView);

        ByteString pieces = ByteString.copyFrom(random(5000, 5)).concat(ByteString.copyFrom(random(5000, 6)));
        byte[] fromPieces = ArrayCapture.bytes(pieces);
        assertThat(fromPieces).isEqualTo(pieces.toByteArray());
        assertThat(ArrayCapture.bytes(pieces)).isNotSameAs(fromPieces);
        assertThat(ArrayCapture.bytes(ByteString.EMPTY)).isEmpty();
    }
}
