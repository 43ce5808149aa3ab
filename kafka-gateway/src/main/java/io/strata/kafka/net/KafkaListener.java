package io.strata.kafka.net;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.strata.kafka.KafkaApis;
import java.util.function.Supplier;
import io.strata.kafka.KafkaSettings;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * The Kafka listener: Netty's TCP server, a length-prefixed frame per request (bounded by
 * {@link KafkaSettings#maxRequestBytes} before anything is buffered), and a {@link KafkaConnection} per client.
 * Owns its event loop threads ({@code strata-kafka-*}) and closes them in {@link #close}.
 */
public final class KafkaListener implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(KafkaListener.class);
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final Channel server;

    private KafkaListener(EventLoopGroup boss, EventLoopGroup workers, Channel server) {
        this.boss = boss;
        this.workers = workers;
        this.server = server;
    }

    /**
     * Listens on the settings' host and port; fails with a message naming the port when it cannot. {@code apis}
     * is asked for each request (null until the node is ready to answer: such a request closes its connection),
     * so what answers may depend on the port bound here.
     */
    public static KafkaListener start(KafkaSettings settings, Supplier<KafkaApis> apis) throws IOException {
        return start(settings, apis, io.strata.kafka.auth.KafkaGuard.OPEN);
    }

    /** The same, taking a connection's client certificate for its identity as {@code guard} maps it. */
    public static KafkaListener start(KafkaSettings settings, Supplier<KafkaApis> apis,
                                      io.strata.kafka.auth.KafkaGuard guard) throws IOException {
        EventLoopGroup boss = new NioEventLoopGroup(1, new DefaultThreadFactory("strata-kafka-accept", true));
        // Parsing and encoding run here; the work behind a request runs on the roles' own threads.
        EventLoopGroup workers = new NioEventLoopGroup(Math.max(2, Runtime.getRuntime().availableProcessors()),
                new DefaultThreadFactory("strata-kafka-io", true));
        io.strata.security.OpenCounts perAddress = new io.strata.security.OpenCounts(settings.maxConnectionsPerAddress());
        io.strata.security.OpenCounts perPrincipal = new io.strata.security.OpenCounts(
                settings.maxConnectionsPerPrincipal());
        try {
            Channel server = new ServerBootstrap().group(boss, workers).channel(NioServerSocketChannel.class)
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.SO_KEEPALIVE, true)
                    // Past 16 MiB of answers not yet taken by the client, the connection stops reading requests.
                    .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK,
                            new io.netty.channel.WriteBufferWaterMark(4 << 20, 16 << 20))
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel channel) {
                            String address = channel.remoteAddress().getAddress().getHostAddress();
                            if (!perAddress.tryOpen(address)) {
                                LOG.info("closing a Kafka connection from {}: it has {} open already "
                                        + "(strata.kafka.max-connections-per-address)", address, perAddress.max());
                                channel.close();
                                return;
                            }
                            channel.closeFuture().addListener(f -> perAddress.close(address));
                            if (settings.tls() != null) {
                                channel.pipeline().addLast("tls", settings.tls().newHandler(channel.alloc()));
                            }
                            channel.pipeline()
                                    .addLast("frames", new LengthFieldBasedFrameDecoder(settings.maxRequestBytes(),
                                            0, 4, 0, 4, true))
                                    .addLast("requests", new KafkaConnection(apis, settings.maxInflightRequests(), guard,
                                            perPrincipal));
                        }
                    })
                    .bind(new InetSocketAddress(settings.host(), settings.port())).sync().channel();
            return new KafkaListener(boss, workers, server);
        } catch (Exception e) {
            boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw new IOException("cannot listen for Kafka clients on " + settings.host() + ":" + settings.port()
                    + " (strata.kafka.port; 0 turns the listener off): " + e.getMessage(), e);
        }
    }

    public int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** Stops accepting, closes every connection (requests in flight are not answered: clients retry elsewhere). */
    @Override
    public void close() {
        server.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        boss.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
