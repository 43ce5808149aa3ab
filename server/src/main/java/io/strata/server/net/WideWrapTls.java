package io.strata.server.net;

import io.grpc.netty.GrpcHttp2ConnectionHandler;
import io.grpc.netty.InternalProtocolNegotiator;
import io.grpc.netty.InternalProtocolNegotiators;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AsciiString;

/**
 * gRPC's server TLS, whose handler takes up to {@value #WRAP_BYTES} bytes of answers from its queue at a time.
 * Netty's {@link SslHandler} otherwise takes one TLS record's worth (16 KiB) per pass, and gives each record an
 * output buffer, a write and a promise of its own: some 150,000 of each for a catch-up read of 2.5 GB. Given
 * more, it has the engine seal the records one after another (still 16 KiB a call) into one buffer and writes
 * that once. The records on the wire are the same. gRPC builds that handler itself, so its size is set when the
 * first bytes come in, by a handler that goes before it and leaves once it has. 15 records, not 16: with their
 * overhead, 16 would round the output buffer up to the pool's next size class (320 KiB).
 */
final class WideWrapTls implements InternalProtocolNegotiator.ProtocolNegotiator {
    static final int WRAP_BYTES = 15 * 16 * 1024;
    private static final org.jboss.logging.Logger LOG = org.jboss.logging.Logger.getLogger(WideWrapTls.class);
    private final InternalProtocolNegotiator.ProtocolNegotiator tls;

    WideWrapTls(SslContext context) {
        // What NettyServerBuilder.sslContext checks, and this way of giving it TLS does not.
        if (!context.isServer() || !context.applicationProtocolNegotiator().protocols().contains("h2")) {
            throw new IllegalArgumentException("a gRPC port's TLS needs a server context that offers h2 by ALPN");
        }
        this.tls = InternalProtocolNegotiators.serverTls(context);
    }

    @Override
    public AsciiString scheme() {
        return tls.scheme();
    }

    @Override
    public ChannelHandler newHandler(GrpcHttp2ConnectionHandler grpcHandler) {
        return widening(tls.newHandler(grpcHandler));
    }

    /** A handler that puts {@code negotiation} after itself and widens the wraps of the TLS handler that adds. */
    static ChannelHandler widening(ChannelHandler negotiation) {
        return new ChannelInboundHandlerAdapter() {
            @Override
            public void handlerAdded(ChannelHandlerContext ctx) {
                ctx.pipeline().addAfter(ctx.name(), null, negotiation);
            }

            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                // TLS's handler is in place by now: it is added when the connection becomes active.
                SslHandler ssl = ctx.pipeline().get(SslHandler.class);
                if (ssl != null) {
                    ssl.setWrapDataSize(WRAP_BYTES);
                } else {
                    LOG.warn("no TLS handler before gRPC's first read: answers are encrypted a record a write");
                }
                ctx.pipeline().remove(this);
                ctx.fireChannelRead(msg);
            }
        };
    }

    @Override
    public void close() {
        tls.close();
    }
}
