package io.strata.client;

import static io.strata.client.ReceivedAnswer.random;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.strata.api.v1.FetchChunksResponse;
import io.strata.api.v1.RawChunk;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class AliasingMarshallerTest {
    private final AliasingMarshaller<FetchChunksResponse> marshaller =
            new AliasingMarshaller<>(FetchChunksResponse.getDefaultInstance());

    @Test
    void parsedChunksAreViewsOfTheReceivedMessageNotCopies() {
        FetchChunksResponse sent = FetchChunksResponse.newBuilder().setNextOffset(7).setEndOffset(9)
                .addChunks(RawChunk.newBuilder().setBaseOffset(0).setData(ByteString.copyFrom(random(5000, 1))))
                .addChunks(RawChunk.newBuilder().setBaseOffset(5).setData(ByteString.copyFrom(random(3000, 2))))
                .build();
        byte[] wire = sent.toByteArray();

        FetchChunksResponse parsed = marshaller.parse(new ReceivedAnswer(wire));

        assertThat(parsed).isEqualTo(sent);
        ByteBuffer first = RawChunks.arrayView(parsed.getChunks(0).getData());
        ByteBuffer second = RawChunks.arrayView(parsed.getChunks(1).getData());
        // Both chunks live in the one array the message was read into, each at its place in it.
        assertThat(first.hasArray()).isTrue();
        assertThat(first.array()).isSameAs(second.array()).hasSize(wire.length);
        assertThat(first.arrayOffset()).isPositive();
        assertThat(first).isEqualTo(ByteBuffer.wrap(random(5000, 1)));
        assertThat(second).isEqualTo(ByteBuffer.wrap(random(3000, 2)));
    }

    @Test
    void aStreamOfUnknownLengthIsReadWhole() {
        FetchChunksResponse sent = FetchChunksResponse.newBuilder()
                .addChunks(RawChunk.newBuilder().setData(ByteString.copyFrom(random(70_000, 3)))).build();
        InputStream unknownLength = new java.io.BufferedInputStream(new ByteArrayInputStream(sent.toByteArray()), 512);

        assertThat(marshaller.parse(unknownLength)).isEqualTo(sent);
    }

    @Test
    void aMalformedAnswerIsAnInternalErrorNotAMessage() {
        byte[] truncated = java.util.Arrays.copyOf(FetchChunksResponse.newBuilder()
                .addChunks(RawChunk.newBuilder().setData(ByteString.copyFrom(random(100, 4)))).build().toByteArray(),
                50);

        assertThatThrownBy(() -> marshaller.parse(new ReceivedAnswer(truncated)))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL));
    }

    @Test
    void aByteStringInPiecesIsViewedThroughACopy() {
        ByteString pieces = ByteString.copyFrom(random(2000, 5)).concat(ByteString.copyFrom(random(2000, 6)));

        ByteBuffer view = RawChunks.arrayView(pieces);

        assertThat(view.hasArray()).isTrue();
        assertThat(view).isEqualTo(pieces.asReadOnlyByteBuffer());
    }
}
