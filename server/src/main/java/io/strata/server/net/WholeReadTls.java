package io.strata.server.net;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ApplicationProtocolNegotiator;
import io.netty.handler.ssl.SslContext;

import java.util.List;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSessionContext;

/**
 * A node's TLS context for gRPC, whose engines decrypt everything a socket read brought in at once (the Java
 * client's {@code io.strata.client.WholeReadTls} does the same with its shaded Netty). gRPC takes its engines
 * from {@link SslContext#newEngine(ByteBufAllocator, String, int)}, which for OpenSSL (BoringSSL here) makes one
 * in Netty's "JDK compatibility" mode: one TLS record, at most 16 KiB, per unwrap. A produce request of a
 * megabyte is then decrypted in some 64 calls into BoringSSL, each with an output buffer of its own, each passed
 * through the HTTP/2 decoder on its own. The engine Netty gives its own handlers ({@code newHandler}) unwraps
 * every whole record of a read in one call, which is what this context hands gRPC. For the JDK's engine both are
 * the same, so a node without BoringSSL gets what it got before.
 */
final class WholeReadTls extends SslContext {
    private final SslContext context;

    WholeReadTls(SslContext context) {
        this.context = context;
    }

    @Override
    public SSLEngine newEngine(ByteBufAllocator alloc, String peerHost, int peerPort) {
        // The handler is only a way to the engine: gRPC builds the handler that runs it.
        return context.newHandler(alloc, peerHost, peerPort).engine();
    }

    @Override
    public SSLEngine newEngine(ByteBufAllocator alloc) {
        return context.newHandler(alloc).engine();
    }

    @Override
    public boolean isClient() {
        return context.isClient();
    }

    @Override
    public List<String> cipherSuites() {
        return context.cipherSuites();
    }

    @Override
    @SuppressWarnings("deprecation")
    public ApplicationProtocolNegotiator applicationProtocolNegotiator() {
        return context.applicationProtocolNegotiator();
    }

    @Override
    public SSLSessionContext sessionContext() {
        return context.sessionContext();
    }
}
