package io.strata.server.console;

import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.quarkus.grpc.GrpcService;
import io.strata.api.v1.FetchRequest;
import io.strata.api.v1.FetchServiceGrpc;
import io.strata.console.api.CallerChecks;
import io.strata.console.api.ConnectErrors;
import io.strata.console.api.JsonCalls;
import io.strata.console.web.Assets;
import io.strata.server.config.StrataConfig;
import io.strata.server.grpc.RemoteAddress;
import io.strata.server.grpc.StatusBounds;
import io.strata.server.quota.QuotaGuard;
import io.strata.server.security.CallGuard;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The console on the HTTP port: its files at {@code /console/}, and its door at {@code /console/api/<Service>/<Method>},
 * where unary methods of the client port are called in JSON ({@link JsonCalls}). The door calls the node's own gRPC
 * services in-process, through the same interceptors as the client port (bounded statuses, authentication and
 * access rules, quotas), with the HTTP caller's {@code Authorization}: the console can do what its user could with
 * any client, and nothing else. Off with {@code strata.console.enabled=false}.
 *
 * <p>A browser on another site cannot use a signed-in console, nor an open node's door: calls need a JSON content type
 * (which a cross-site form cannot send without the browser asking first, and the door never answers that question),
 * and a call whose Origin is not this node is refused.
 */
@ApplicationScoped
public class ConsoleDoor {
    private static final int MAX_BODY_BYTES = 1 << 20;
    private static final String API = "/console/api/";
    private static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

    @Inject
    StrataConfig config;
    @Inject
    @GrpcService
    Instance<BindableService> services;
    @Inject
    StatusBounds statusBounds;
    @Inject
    CallGuard callGuard;
    @Inject
    QuotaGuard quotaGuard;
    @Inject
    RemoteAddress remoteAddress;
    @Inject
    io.strata.server.StrataNode node;
    @Inject
    io.strata.server.security.AccessControl access;

    private Assets assets;
    private volatile JsonCalls calls;
    private Server server;
    private ManagedChannel channel;
    private ThreadPoolExecutor executor;

    void routes(@Observes Router router) {
        if (!config.console().enabled()) {
            return;
        }
        assets = Assets.load();
        router.routeWithRegex("^/console$").handler(ctx -> ctx.redirect("/console/"));
        router.post("/console/api/*").handler(BodyHandler.create().setBodyLimit(MAX_BODY_BYTES)
                .setHandleFileUploads(false)).handler(this::call);
        router.route("/console/api/*").handler(ctx -> answer(ctx, ConnectErrors.of(io.grpc.Status.UNIMPLEMENTED
                .withDescription("the console's API takes POST with a JSON body (Connect's unary protocol)"))));
        router.get("/console/*").handler(this::asset);
    }

    private void asset(RoutingContext ctx) {
        String path = ctx.normalizedPath().substring("/console/".length());
        Assets.Asset a = assets.get(path);
        HttpServerResponse response = ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, a.contentType())
                .putHeader(HttpHeaders.ETAG, a.etag()).putHeader("Cache-Control", "no-cache")
                .putHeader("X-Content-Type-Options", "nosniff").putHeader("Content-Security-Policy", CSP)
                .putHeader("X-Frame-Options", "DENY").putHeader("Referrer-Policy", "no-referrer");
        if (a.etag().equals(ctx.request().getHeader(HttpHeaders.IF_NONE_MATCH))) {
            response.setStatusCode(304).end();
        } else {
            response.end(io.vertx.core.buffer.Buffer.buffer(a.bytes()));
        }
    }

    private void call(RoutingContext ctx) {
        String path = ctx.normalizedPath();
        String method = path.length() > API.length() ? path.substring(API.length()) : "";
        java.util.Set<String> allowed = new java.util.HashSet<>();
        config.console().allowedHosts().orElse(java.util.Set.of())
                .forEach(h -> allowed.add(h.trim().toLowerCase(java.util.Locale.ROOT)));
        String advertised = node.advertisedHost();
        if (advertised != null) {
            allowed.add(advertised.toLowerCase(java.util.Locale.ROOT));
        }
        // The Host header, or HTTP/2's :authority: what the browser addressed.
        var authority = ctx.request().authority();
        var refused = CallerChecks.refusal(ctx.request().getHeader(HttpHeaders.CONTENT_TYPE),
                ctx.request().getHeader(HttpHeaders.ORIGIN), authority == null ? null : authority.toString(), allowed);
        if (refused.isPresent()) {
            answer(ctx, ConnectErrors.of(refused.get().status(),
                    refused.get().status() == 415 ? "invalid_argument" : "permission_denied", refused.get().message()));
            return;
        }
        if ("required".equals(config.tls().clientAuth()) && !access.required()) {
            // The client port lets in only callers with a certificate; the door cannot ask for one.
            answer(ctx, ConnectErrors.of(io.grpc.Status.PERMISSION_DENIED.withDescription("the client port takes only "
                    + "callers with a client certificate (strata.tls.client-auth=required), which the console cannot "
                    + "check: require authentication (strata.auth.mode=required) to use the console")));
            return;
        }
        var remote = ctx.request().remoteAddress();
        CompletableFuture<JsonCalls.Answer> result = calls().call(method, ctx.body().asString(),
                ctx.request().getHeader(HttpHeaders.AUTHORIZATION), ctx.request().getHeader("Connect-Timeout-Ms"),
                remote == null ? null : io.strata.security.ClientAddress.of(remote.host(), remote.port()));
        result.thenAccept(a -> answer(ctx, a));
    }

    private static void answer(RoutingContext ctx, JsonCalls.Answer a) {
        if (ctx.response().ended() || ctx.response().closed()) {
            return;
        }
        ctx.response().setStatusCode(a.status()).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                .putHeader("Cache-Control", "no-store").putHeader("X-Content-Type-Options", "nosniff").end(a.json());
    }

    /** The door, built at its first call: the client port's services are all registered by then. */
    private JsonCalls calls() {
        JsonCalls c = calls;
        if (c != null) {
            return c;
        }
        synchronized (this) {
            if (calls == null) {
                calls = open();
            }
            return calls;
        }
    }

    private JsonCalls open() {
        StrataConfig.Console c = config.console();
        // Services answer on these threads (some block on the metadata store): bounded, as the calls are.
        int threads = Math.max(2, Math.min(8, c.maxConcurrentCalls()));
        // Unbounded queue: the calls are bounded (maxConcurrentCalls) before they get here, and a task the
        // transport could not hand over would leave its call unanswered.
        executor = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS, new java.util.concurrent.LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, "strata-console-call");
                    t.setDaemon(true);
                    return t;
                });
        executor.allowCoreThreadTimeOut(true);
        // Outermost first, as the client port orders them by priority.
        List<ServerInterceptor> outerFirst = new ArrayList<>(List.of(statusBounds, callGuard, quotaGuard, remoteAddress));
        outerFirst.sort(Comparator.comparingInt(ConsoleDoor::priority).reversed());
        List<ServerInterceptor> innerFirst = new ArrayList<>(outerFirst);
        java.util.Collections.reverse(innerFirst); // ServerInterceptors.intercept calls the last one first
        String name = "strata-console-" + java.util.UUID.randomUUID();
        InProcessServerBuilder builder = InProcessServerBuilder.forName(name).executor(executor);
        List<ServerServiceDefinition> definitions = new ArrayList<>();
        for (BindableService s : services) {
            ServerServiceDefinition d = s.bindService();
            if (d.getServiceDescriptor().getName().startsWith("strata.v1.")) {
                definitions.add(d);
                builder.addService(ServerInterceptors.intercept(d, innerFirst));
            }
        }
        try {
            server = builder.build().start();
        } catch (IOException e) {
            executor.shutdownNow();
            throw new IllegalStateException("the console's in-process server did not start", e);
        }
        // Answers are handed back on the thread that closed the call: nothing to queue behind the services.
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
        int maxFetchBytes = c.maxFetchBytes();
        return new JsonCalls(channel, definitions, Map.of(FetchServiceGrpc.getFetchMethod().getFullMethodName(),
                m -> {
                    FetchRequest r = (FetchRequest) m;
                    // A page of the record browser reads a bounded slice of the partition, and never waits long.
                    return r.toBuilder().setMaxBytes(r.getMaxBytes() <= 0 ? maxFetchBytes
                                    : Math.min(r.getMaxBytes(), maxFetchBytes))
                            .setMaxWaitMs(Math.min(Math.max(0, r.getMaxWaitMs()), 1_000)).build();
                }), c.maxConcurrentCalls(), Duration.ofSeconds(15), c.callTimeout(), executor);
    }

    private static int priority(ServerInterceptor i) {
        return i instanceof jakarta.enterprise.inject.spi.Prioritized p ? p.getPriority() : 0;
    }

    /** The console's address as a person opens it, from the HTTP settings and the node's advertised host. */
    public static String url(String advertisedHost) {
        var cfg = org.eclipse.microprofile.config.ConfigProvider.getConfig();
        boolean tls = cfg.getOptionalValue("strata.tls.certificate", String.class).isPresent()
                || cfg.getOptionalValue("strata.tls.key-store", String.class).isPresent();
        int port = cfg.getOptionalValue("quarkus.http.port", Integer.class).orElse(9401);
        String host = cfg.getOptionalValue("quarkus.http.host", String.class).orElse("127.0.0.1");
        if ("0.0.0.0".equals(host) || "::".equals(host)) {
            host = advertisedHost;
        }
        return (tls ? "https://" : "http://") + (host.contains(":") ? "[" + host + "]" : host) + ":" + port + "/console/";
    }

    @PreDestroy
    synchronized void close() {
        if (channel != null) {
            channel.shutdownNow();
        }
        if (server != null) {
            server.shutdownNow();
        }
        if (executor != null) {
            executor.shutdownNow();
        }
    }
}
