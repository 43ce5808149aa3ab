package io.strata.server.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.netty.GrpcSslContexts;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import java.lang.reflect.Field;
import org.junit.jupiter.api.Test;

/**
 * The TLS handler of a node's gRPC port takes answers 240 KiB at a time once the connection is
 * talking: gRPC's negotiation adds that handler itself, when the connection becomes active, and the widening
 * handler finds it there when the first bytes come in.
 */
class WideWrapTlsTest {
    @Test
    void theTlsHandlerTheNegotiationAddsTakes240KibAPassOnceBytesComeIn() throws Exception {
        SslContext context = GrpcSslContexts.forClient().build(); // any context: only the handler's setting counts
        ChannelInboundHandlerAdapter negotiation = new ChannelInboundHandlerAdapter() {
            @Override
            public void handlerAdded(ChannelHandlerContext ctx) {
                ctx.pipeline().addBefore(ctx.name(), "tls", context.newHandler(ctx.alloc())); // as gRPC's does
            }
        };
        EmbeddedChannel channel = new EmbeddedChannel(WideWrapTls.widening(negotiation));
        SslHandler tls = channel.pipeline().get(SslHandler.class);
        assertThat(wrapBytes(tls)).as("Netty's own: one record").isEqualTo(16 * 1024);
        int handlers = channel.pipeline().names().size();

        channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {22, 3, 3, 0, 5})); // a record header, its body to come

        assertThat(wrapBytes(tls)).isEqualTo(WideWrapTls.WRAP_BYTES).isEqualTo(240 * 1024);
        assertThat(channel.pipeline().names()).as("the widening handler left").hasSize(handlers - 1);
        channel.finishAndReleaseAll();
    }

    private static int wrapBytes(SslHandler handler) throws ReflectiveOperationException {
        Field size = SslHandler.class.getDeclaredField("wrapDataSize");
        size.setAccessible(true);
        return size.getInt(handler);
    }
}
