package io.strata.console.api;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * Unary gRPC methods called in JSON, as Connect's unary protocol does it ({@code POST /<service>/<method>}, a JSON
 * body in the proto3 mapping, a JSON answer or a Connect error): the console's door, and anyone's with curl. Every
 * call goes through {@code channel} to the node's own services, so it meets the same authentication, access rules,
 * quotas and validation as a gRPC client: the caller's {@code Authorization} header travels as the call's. Nothing
 * here answers from a source of its own.
 *
 * <p>Bounded: at most {@code maxConcurrent} calls at once (more are refused with resource_exhausted), each with a
 * deadline (the caller's {@code Connect-Timeout-Ms}, at least a second and at most {@code maxTimeout}), an answer of
 * at most {@link #MAX_ANSWER_CHARS}, and a method may have its request shaped before it is sent (the fetch path's
 * page capped, say). A call keeps its slot until it is answered or its deadline passes, even when its HTTP client
 * went away: a client that keeps leaving cannot pile work up past the bound.
 */
public final class JsonCalls {
    /** An HTTP answer: its status and JSON body. */
    public record Answer(int status, String json) {
    }

    /** Metadata that names the HTTP caller's address to the node's services (read only from in-process calls). */
    public static final Metadata.Key<String> CALLER = Metadata.Key.of("strata-console-caller",
            Metadata.ASCII_STRING_MARSHALLER);
    private static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization",
            Metadata.ASCII_STRING_MARSHALLER);
    private static final JsonFormat.Printer PRINTER = JsonFormat.printer().alwaysPrintFieldsWithNoPresence()
            .omittingInsignificantWhitespace();
    private static final JsonFormat.Parser PARSER = JsonFormat.parser();
    /** The longest answer: a page shows no more, and the door never holds more in memory for one call. */
    public static final int MAX_ANSWER_CHARS = 16 << 20;
    /** The shortest deadline: a call cut shorter would free its slot while the node still works on it. */
    private static final long MIN_TIMEOUT_MS = 1_000;

    private final Channel channel;
    private final Map<String, ServerMethodDefinition<?, ?>> methods = new HashMap<>();
    private final Map<String, UnaryOperator<Message>> shapers;
    private final Semaphore slots;
    private final Duration defaultTimeout;
    private final Duration maxTimeout;
    private final Executor printer;

    /**
     * @param services   the services whose unary methods may be called (streams are not: JSON answers are whole)
     * @param shapers    per full method name, what a request becomes before it is sent
     * @param printer    where answers are turned into JSON: not the thread that completed the call, which may be
     *                   a store client's event loop
     */
    public JsonCalls(Channel channel, List<ServerServiceDefinition> services, Map<String, UnaryOperator<Message>> shapers,
                     int maxConcurrent, Duration defaultTimeout, Duration maxTimeout, Executor printer) {
        this.channel = channel;
        for (ServerServiceDefinition service : services) {
            for (ServerMethodDefinition<?, ?> m : service.getMethods()) {
                MethodDescriptor<?, ?> d = m.getMethodDescriptor();
                if (d.getType() == MethodDescriptor.MethodType.UNARY
                        && d.getRequestMarshaller() instanceof MethodDescriptor.PrototypeMarshaller<?> p
                        && p.getMessagePrototype() instanceof Message) {
                    methods.put(d.getFullMethodName(), m);
                }
            }
        }
        this.shapers = Map.copyOf(shapers);
        this.slots = new Semaphore(maxConcurrent);
        this.defaultTimeout = defaultTimeout;
        this.maxTimeout = maxTimeout;
        this.printer = printer;
    }

    /** Whether {@code fullMethod} ("strata.v1.AdminService/ListTopics") may be called here. */
    public boolean callable(String fullMethod) {
        return methods.containsKey(fullMethod);
    }

    /**
     * Calls {@code fullMethod} with the request {@code json} on behalf of a caller who sent {@code authorization}
     * (null without one) from {@code callerAddress}; {@code timeoutMs} is its Connect-Timeout-Ms header or null.
     * The answer never fails: errors are Connect errors.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    public CompletableFuture<Answer> call(String fullMethod, String json, String authorization, String timeoutMs,
                                          String callerAddress) {
        ServerMethodDefinition<?, ?> method = methods.get(fullMethod);
        if (method == null) {
            return done(Status.NOT_FOUND.withDescription("no unary method " + fullMethod
                    + " (methods are called as /<package.Service>/<Method>; streams are not served in JSON)"));
        }
        Duration timeout;
        try {
            timeout = timeoutMs == null || timeoutMs.isBlank() ? defaultTimeout
                    : Duration.ofMillis(Math.max(MIN_TIMEOUT_MS, Long.parseLong(timeoutMs.trim())));
        } catch (NumberFormatException e) {
            return done(Status.INVALID_ARGUMENT.withDescription("Connect-Timeout-Ms is not a number: " + timeoutMs));
        }
        if (timeout.compareTo(maxTimeout) > 0) {
            timeout = maxTimeout;
        }
        MethodDescriptor<Message, Message> descriptor = (MethodDescriptor) method.getMethodDescriptor();
        Message prototype = (Message) ((MethodDescriptor.PrototypeMarshaller<?>) descriptor.getRequestMarshaller())
                .getMessagePrototype();
        Message request;
        try {
            Message.Builder builder = prototype.newBuilderForType();
            PARSER.merge(json == null || json.isBlank() ? "{}" : json, builder);
            request = builder.build();
        } catch (InvalidProtocolBufferException | RuntimeException e) {
            return done(Status.INVALID_ARGUMENT.withDescription("the request is not a " + prototype
                    .getDescriptorForType().getFullName() + " in JSON: " + e.getMessage()));
        }
        UnaryOperator<Message> shaper = shapers.get(fullMethod);
        if (shaper != null) {
            request = shaper.apply(request);
        }
        if (!slots.tryAcquire()) {
            return done(Status.RESOURCE_EXHAUSTED.withDescription("too many console calls at once on this node; "
                    + "try again"));
        }
        Metadata headers = new Metadata();
        if (authorization != null && !authorization.isBlank()) {
            headers.put(AUTHORIZATION, authorization);
        }
        if (callerAddress != null) {
            headers.put(CALLER, callerAddress);
        }
        Channel withHeaders = ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(headers));
        CompletableFuture<Answer> answer = new CompletableFuture<>();
        try {
            var future = ClientCalls.futureUnaryCall(withHeaders.newCall(descriptor,
                    CallOptions.DEFAULT.withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)), request);
            future.addListener(() -> {
                slots.release();
                try {
                    Message reply = future.get();
                    // JSON takes about 4/3 of the binary size for bytes, more for small numbers: refused before
                    // it is printed, so an answer too large never takes the memory.
                    if (reply.getSerializedSize() > MAX_ANSWER_CHARS / 2) {
                        answer.complete(ConnectErrors.of(Status.RESOURCE_EXHAUSTED.withDescription("the answer is "
                                + reply.getSerializedSize() + " bytes, more than the console takes: ask for less")));
                        return;
                    }
                    String printed = PRINTER.print(reply);
                    answer.complete(printed.length() <= MAX_ANSWER_CHARS ? new Answer(200, printed)
                            : ConnectErrors.of(Status.RESOURCE_EXHAUSTED.withDescription("the answer is "
                            + printed.length() + " characters, more than the console takes (" + MAX_ANSWER_CHARS
                            + "): ask for less")));
                } catch (java.util.concurrent.CancellationException e) {
                    answer.complete(ConnectErrors.of(Status.CANCELLED));
                } catch (java.util.concurrent.ExecutionException e) {
                    answer.complete(ConnectErrors.of(Status.fromThrowable(e.getCause())));
                } catch (InvalidProtocolBufferException e) {
                    answer.complete(ConnectErrors.of(Status.INTERNAL.withDescription("the answer has no JSON form: "
                            + e.getMessage())));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    answer.complete(ConnectErrors.of(Status.CANCELLED));
                } catch (RuntimeException e) {
                    answer.complete(ConnectErrors.of(Status.INTERNAL.withDescription(String.valueOf(e))));
                }
            }, printer);
        } catch (RuntimeException e) {
            slots.release();
            answer.complete(ConnectErrors.of(Status.fromThrowable(e)));
        }
        return answer;
    }

    private static CompletableFuture<Answer> done(Status status) {
        return CompletableFuture.completedFuture(ConnectErrors.of(status));
    }
}
