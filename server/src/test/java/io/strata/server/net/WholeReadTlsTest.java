package io.strata.server.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.netty.GrpcSslContexts;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import java.lang.reflect.Field;
import javax.net.ssl.SSLEngine;
import org.junit.jupiter.api.Test;

/**
 * The engines a node's gRPC contexts hand out decrypt every whole TLS record of a read in one call (Netty's mode
 * without JDK compatibility), where the context's own {@code newEngine} takes one record a call. The Java
 * client's twin of this class has a test that runs a handshake and counts the unwraps; here the engine's mode is
 * read where Netty keeps it.
 */
class WholeReadTlsTest {
    @Test
    void engineDecryptsAWholeReadAtOnce() throws Exception {
        assertThat(OpenSsl.isAvailable()).as("BoringSSL (netty-tcnative) loads here").isTrue();
        SslContext context = GrpcSslContexts.forClient().build();
        SSLEngine wholeRead = new WholeReadTls(context).newEngine(ByteBufAllocator.DEFAULT, "localhost", 443);
        SSLEngine ownChoice = context.newEngine(ByteBufAllocator.DEFAULT, "localhost", 443);
        assertThat(recordAtATime(wholeRead)).isFalse();
        assertThat(recordAtATime(ownChoice)).as("what gRPC would get without the wrapper").isTrue();
    }

    private static boolean recordAtATime(SSLEngine engine) throws ReflectiveOperationException {
        for (Class<?> c = engine.getClass(); c != null; c = c.getSuperclass()) {
            try {
                Field mode = c.getDeclaredField("jdkCompatibilityMode");
                mode.setAccessible(true);
                return mode.getBoolean(engine);
            } catch (NoSuchFieldException e) {
                // declared higher up (ReferenceCountedOpenSslEngine)
            }
        }
        throw new AssertionError(engine.getClass() + " has no jdkCompatibilityMode: not Netty's OpenSSL engine");
    }
}
