package io.strata.client;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.protobuf.ProtoUtils;
import java.io.IOException;
import java.io.InputStream;

/**
 * Parses answers whose bulk is {@code bytes} fields (stored chunks) without copying those fields: the
 * message is read from the transport into one array of its exact size, and its byte strings are views of
 * that array. gRPC's standard marshaller reads the message into a scratch array and then copies every
 * bytes field out of it again, so each chunk crossed memory twice more before it was decoded. The array
 * lives as long as the answer does, as the copies did. Writing messages is the standard marshaller's.
 */
final class AliasingMarshaller<T extends Message> implements MethodDescriptor.Marshaller<T> {
    private final Parser<T> parser;
    private final MethodDescriptor.Marshaller<T> standard;

    @SuppressWarnings("unchecked")
    AliasingMarshaller(T defaultInstance) {
        this.parser = (Parser<T>) defaultInstance.getParserForType();
        this.standard = ProtoUtils.marshaller(defaultInstance);
    }

    @Override
    public InputStream stream(T value) {
        return standard.stream(value);
    }

    @Override
    public T parse(InputStream stream) {
        try {
            CodedInputStream in = UnsafeByteOperations.unsafeWrap(readAll(stream)).newCodedInput();
            in.enableAliasing(true);
            T message = parser.parseFrom(in);
            in.checkLastTagWas(0);
            return message;
        } catch (InvalidProtocolBufferException e) {
            throw Status.INTERNAL.withDescription("an answer is not a valid message: " + e.getMessage())
                    .withCause(e).asRuntimeException();
        } catch (IOException e) {
            throw Status.INTERNAL.withDescription("an answer could not be read: " + e.getMessage())
                    .withCause(e).asRuntimeException();
        }
    }

    /** The stream's bytes in one array: of the known length at once (gRPC's streams know it), else grown. */
    private static byte[] readAll(InputStream stream) throws IOException {
        if (!(stream instanceof KnownLength)) {
            return stream.readAllBytes();
        }
        byte[] bytes = new byte[stream.available()];
        int read = stream.readNBytes(bytes, 0, bytes.length);
        if (read != bytes.length || stream.read() != -1) {
            throw new IOException("the message is not the " + bytes.length + " bytes its stream announced");
        }
        return bytes;
    }
}
