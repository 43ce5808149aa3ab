package io.strata.client;

import io.grpc.KnownLength;
import java.io.ByteArrayInputStream;
import java.util.Random;

/** An answer's bytes as gRPC hands them to a marshaller (a stream that knows its length), and test payloads. */
final class ReceivedAnswer extends ByteArrayInputStream implements KnownLength {
    ReceivedAnswer(byte[] bytes) {
        super(bytes);
    }

    /** {@code n} bytes drawn from {@code seed}: the same for the same seed. */
    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }
}
