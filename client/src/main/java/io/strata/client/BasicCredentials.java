package io.strata.client;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Puts credentials on every call, as the {@code authorization} header nodes check: a user name and password
 * ({@code Basic}), or a bearer token ({@code Bearer}: a JWT), read again from its file when the file changes (a
 * Kubernetes projected service-account token is rotated in place).
 */
final class BasicCredentials implements ClientInterceptor {
    private static final Metadata.Key<String> AUTHORIZATION =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    private final java.util.function.Supplier<String> header;

    BasicCredentials(String user, String password) {
        String basic = "Basic " + Base64.getEncoder().encodeToString((user + ":" + password)
                .getBytes(StandardCharsets.UTF_8));
        this.header = () -> basic;
    }

    private BasicCredentials(java.util.function.Supplier<String> header) {
        this.header = header;
    }

    static BasicCredentials token(String token) {
        String bearer = "Bearer " + token.trim();
        return new BasicCredentials(() -> bearer);
    }

    /** The token in {@code file}, read again whenever the file's modification time changes. */
    static BasicCredentials tokenFile(java.nio.file.Path file) {
        Object lock = new Object();
        String[] cached = new String[1];
        long[] seen = {Long.MIN_VALUE};
        return new BasicCredentials(() -> {
            synchronized (lock) {
                try {
                    long modified = java.nio.file.Files.getLastModifiedTime(file).toMillis();
                    if (modified != seen[0] || cached[0] == null) {
                        cached[0] = "Bearer " + java.nio.file.Files.readString(file, StandardCharsets.UTF_8).trim();
                        seen[0] = modified;
                    }
                } catch (java.io.IOException e) {
                    if (cached[0] == null) {
                        throw new IllegalStateException("cannot read the token file " + file + ": " + e.getMessage(), e);
                    }
                }
                return cached[0];
            }
        });
    }

    @Override
    public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
        return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
            @Override
            public void start(Listener<R> listener, Metadata headers) {
                headers.put(AUTHORIZATION, header.get());
                super.start(listener, headers);
            }
        };
    }

    @Override
    public String toString() {
        return "BasicCredentials[***]"; // never the password
    }
}
