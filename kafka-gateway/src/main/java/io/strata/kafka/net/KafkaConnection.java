package io.strata.kafka.net;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.strata.kafka.KafkaApis;
import java.util.function.Supplier;
import io.strata.kafka.KafkaRequest;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection. Requests are handled as they arrive (a producer's pipelined requests overlap on
 * their way to durability) and answered strictly in the order they came, as the protocol requires. At most
 * {@code maxInflight} are being answered at once, and answers the client has not taken are bounded by the
 * channel's write water mark: past either the connection is not read, so a client that sends faster than it is
 * answered, or does not read its answers, is held back by TCP instead of by this node's heap. A request that cannot
 * be parsed closes its connection only. Every field is touched on the connection's event loop alone.
 */
final class KafkaConnection extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaConnection.class);

    private final Supplier<KafkaApis> apis;
    private final int maxInflight;
    /** Answers in request order; null once answered with nothing (acks=0). */
    private final ArrayDeque<CompletableFuture<ByteBuffer>> answers = new ArrayDeque<>();
    private ChannelHandlerContext ctx;
    private io.strata.kafka.KafkaSession session;
    private boolean wakeScheduled;
    /** Requests read while the connection was held back for its quota, to be worked on in order. */
    private final ArrayDeque<Deferred> deferred = new ArrayDeque<>();
    private boolean deferredScheduled;

    private final io.strata.kafka.auth.KafkaGuard guard;

    /** Connections per signed-in principal; this one counts once it knows its principal. */
    private final io.strata.security.OpenCounts perPrincipal;
    private String countedPrincipal;

    KafkaConnection(Supplier<KafkaApis> apis, int maxInflight, io.strata.kafka.auth.KafkaGuard guard,
                    io.strata.security.OpenCounts perPrincipal) {
        this.perPrincipal = perPrincipal;
        this.apis = apis;
        this.maxInflight = maxInflight;
        this.guard = guard;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frame = (ByteBuf) msg;
        ByteBuffer request;
        try {
            // A copy: parsed requests keep slices of their buffer (records) past this call.
            request = ByteBuffer.allocate(frame.readableBytes());
            frame.readBytes(request);
            request.flip();
        } finally {
            frame.release();
        }
        CompletableFuture<ByteBuffer> answer;
        KafkaApis served = apis.get();
        if (served == null) {
            ctx.close(); // not ready yet: the client retries, as after any broken connection
            return;
        }
        try {
            if (session == null) {
                // A client certificate (the TLS handshake is over once a request arrives) is an identity.
                io.netty.handler.ssl.SslHandler tls = ctx.pipeline().get(io.netty.handler.ssl.SslHandler.class);
                session = new io.strata.kafka.KafkaSession((InetSocketAddress) ctx.channel().remoteAddress(),
                        tls == null ? null : guard.fromCertificate(tls.engine().getSession()));
            }
            if (countedPrincipal == null && session.identity() != null) {
                String principal = session.identity().principal();
                if (!perPrincipal.tryOpen(principal)) {
                    LOG.info("closing a Kafka connection of {} from {}: it has {} open already "
                                    + "(strata.kafka.max-connections-per-principal)", principal,
                            ctx.channel().remoteAddress(), perPrincipal.max());
                    ctx.close();
                    return;
                }
                countedPrincipal = principal;
            }
            if (throttle(request) > 0 || !deferred.isEmpty()) {
                // Over its quota: the request waits its turn, and those after it queue behind it, in order.
                CompletableFuture<ByteBuffer> later = new CompletableFuture<>();
                deferred.add(new Deferred(request, () -> handleNow(served, request, later)));
                runDeferredLater();
                answer = later;
            } else {
                answer = served.handle(request, session);
            }
        } catch (RuntimeException e) {
            LOG.debug("closing Kafka connection from {}: unreadable request: {}", ctx.channel().remoteAddress(),
                    e.toString());
            ctx.close();
            return;
        }
        answers.add(answer);
        readIfRoom();
        answer.whenComplete((r, e) -> {
            if (ctx.executor().inEventLoop()) {
                drain();
            } else {
                ctx.executor().execute(this::drain);
            }
        });
    }

    /** A request read while the connection was held back, and its work. */
    private record Deferred(ByteBuffer request, Runnable work) {
    }

    /** How long the connection must still wait: its own mute (Kafka's, after an answer over the quota). */
    private long throttle() {
        return session == null ? 0 : session.throttleRemaining();
    }

    /**
     * How long {@code request} must still wait: the connection's mute, and for a Produce or Fetch what its
     * principal owes on any connection (so opening new ones gains nothing). Group requests (heartbeats, joins,
     * commits) wait for nothing more than the mute: a member must not miss its session for a fetch's debt.
     */
    private long throttle(ByteBuffer request) {
        long wait = throttle();
        short key = request.remaining() >= 2 ? request.getShort(request.position()) : -1;
        io.strata.security.quota.QuotaMeter quotas = guard.quotas();
        if (session != null && quotas.active() && (key == org.apache.kafka.common.protocol.ApiKeys.PRODUCE.id
                || key == org.apache.kafka.common.protocol.ApiKeys.FETCH.id)) {
            io.strata.security.Identity who = session.caller(guard.required());
            if (who != null) {
                wait = Math.max(wait, quotas.owed(who));
            }
        }
        return wait;
    }

    private void runDeferredLater() {
        if (!deferredScheduled && !deferred.isEmpty()) {
            deferredScheduled = true;
            ctx.executor().schedule(this::runDeferred, Math.max(1, throttle(deferred.peek().request())),
                    java.util.concurrent.TimeUnit.NANOSECONDS);
        }
    }

    /** The deferred requests whose turn has come, in the order they arrived. */
    private void runDeferred() {
        deferredScheduled = false;
        while (!deferred.isEmpty()) {
            if (!ctx.channel().isActive()) {
                deferred.clear(); // the client gave up: its requests are not worked on after all
                return;
            }
            if (throttle(deferred.peek().request()) > 0) {
                runDeferredLater();
                return;
            }
            deferred.poll().work().run();
        }
        readIfRoom();
    }

    private void handleNow(KafkaApis served, ByteBuffer request, CompletableFuture<ByteBuffer> answer) {
        try {
            served.handle(request, session).whenComplete((r, e) -> {
                if (e != null) {
                    answer.completeExceptionally(e);
                } else {
                    answer.complete(r);
                }
            });
        } catch (RuntimeException e) {
            LOG.debug("closing Kafka connection from {}: unreadable request: {}", ctx.channel().remoteAddress(),
                    e.toString());
            ctx.close();
        }
    }

    private void drain() {
        boolean wrote = false;
        while (!answers.isEmpty() && answers.peek().isDone()) {
            CompletableFuture<ByteBuffer> done = answers.poll();
            ByteBuffer bytes;
            try {
                bytes = done.join();
            } catch (RuntimeException e) {
                LOG.warn("closing Kafka connection from {}: a request failed without an answer", ctx.channel()
                        .remoteAddress(), e);
                ctx.close();
                return;
            }
            if (bytes != null) {
                ctx.write(Unpooled.wrappedBuffer(bytes));
                wrote = true;
            }
        }
        if (wrote) {
            ctx.flush();
        }
        readIfRoom();
    }

    /**
     * Reads on while fewer than {@code maxInflight} requests are being answered and the client takes the answers:
     * a client that sends and never reads would otherwise fill this node's heap with answers.
     */
    private void readIfRoom() {
        long throttled = throttle();
        if (throttled > 0 && !wakeScheduled) {
            // Not read while its principal is over its quota (Kafka mutes the channel so): TCP holds the client.
            wakeScheduled = true;
            ctx.executor().schedule(() -> {
                wakeScheduled = false;
                readIfRoom();
            }, throttled, java.util.concurrent.TimeUnit.NANOSECONDS);
        }
        boolean room = throttled == 0 && answers.size() < maxInflight && ctx.channel().isWritable();
        if (room != ctx.channel().config().isAutoRead()) {
            ctx.channel().config().setAutoRead(room);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (countedPrincipal != null) {
            perPrincipal.close(countedPrincipal);
            countedPrincipal = null;
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        readIfRoom();
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof TooLongFrameException) {
            LOG.info("closing Kafka connection from {}: {}", ctx.channel().remoteAddress(), cause.getMessage());
        } else {
            LOG.debug("closing Kafka connection from {}", ctx.channel().remoteAddress(), cause);
        }
        ctx.close();
    }
}
