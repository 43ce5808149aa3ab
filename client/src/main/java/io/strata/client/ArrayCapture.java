package io.strata.client;

import com.google.protobuf.ByteOutput;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;

/**
 * The array a byte string holds, as the string hands it over ({@link UnsafeByteOperations#unsafeWriteTo}):
 * protobuf has no other way to reach it without a copy. Whole when that array was its only piece.
 */
final class ArrayCapture extends ByteOutput {
    private byte[] array;
    private int offset;
    private int length;
    private int arrays;
    private boolean other;

    private ArrayCapture() {
    }

    static ArrayCapture of(ByteString bytes) {
        ArrayCapture capture = new ArrayCapture();
        try {
            UnsafeByteOperations.unsafeWriteTo(bytes, capture);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a capture throws none
        }
        return capture;
    }

    /**
     * The bytes of a byte string the standard marshaller parsed, for a record handed to the application: the
     * string's own array where the string is exactly that array, else a copy. The standard marshaller copies every
     * bytes field out of its scratch buffer into an array of its own, which nothing else holds once the parsed
     * message is dropped; handing that array over spares a second copy of every key, value and header (a share
     * group's records went through memory twice in the member before). Only for a message that crossed the network
     * (an in-process channel hands over the sender's own message: {@link NodeRouter#answerBytes} decides) and is
     * dropped after: the application may write the array. A view into a larger array ({@link AliasingMarshaller}'s
     * strings) or a string of several pieces is copied.
     */
    static byte[] bytes(ByteString bytes) {
        ArrayCapture capture = of(bytes);
        return capture.whole() && capture.offset == 0 && capture.length == capture.array.length ? capture.array
                : bytes.toByteArray();
    }

    boolean whole() {
        return arrays == 1 && !other;
    }

    /** A buffer over the piece the string handed over (read only by contract: it is the string's). */
    ByteBuffer view() {
        return ByteBuffer.wrap(array, offset, length).slice();
    }

    @Override
    public void writeLazy(byte[] value, int offset, int length) {
        arrays++;
        this.array = value;
        this.offset = offset;
        this.length = length;
    }

    @Override
    public void write(byte[] value, int offset, int length) {
        other = true; // a transient array: never kept
    }

    @Override
    public void write(byte value) {
        other = true;
    }

    @Override
    public void write(ByteBuffer value) {
        other = true;
    }

    @Override
    public void writeLazy(ByteBuffer value) {
        other = true;
    }
}
