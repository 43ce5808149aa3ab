package io.strata.client;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * The entry point: the nodes of a Strata cluster, gRPC channels to them and the stubs on those. It is given
 * one address or several (of one cluster); it learns the cluster's other nodes from them and spreads its
 * calls over the nodes as {@link NodeRouter} says, so that losing any one node (a crash, a rolling restart)
 * moves its calls to the others. Thread-safe. It owns the channels (and so gRPC's transport threads) and
 * every {@link Producer} it made: {@link #close()} closes those producers, waiting for what they hold, then
 * shuts the channels down.
 *
 * <pre>{@code
 * try (StrataClient client = StrataClient.builder().server("127.0.0.1:9400").build()) {
 *     client.admin().createTopic("orders", 3);
 *     client.producer().send("orders", null, key, value).join();
 * }
 * }</pre>
 */
public final class StrataClient implements AutoCloseable {
    private final List<ServerAddress> servers;
    private final ManagedChannel channel;
    private final Duration deadline;
    private final Admin admin;
    private final Groups groups;
    private final Transactions transactions;
    private final Security security;
    private final List<Producer> producers = new ArrayList<>();
    private final NodeRouter router;

    private StrataClient(Builder builder, ManagedChannel channel) {
        this.servers = builder.servers;
        this.channel = channel;
        this.deadline = builder.deadline;
        // With a custom channel builder (in-process, custom TLS) the client cannot dial other nodes itself.
        this.router = new NodeRouter(channel, servers.stream().map(ServerAddress::toString).toList(),
                builder.channelBuilder == null ? builder::channelTo : null, deadline, Duration.ofSeconds(30));
        this.admin = new Admin(router, null, deadline);
        this.groups = new Groups(router, deadline);
        this.transactions = new Transactions(router, deadline);
        this.security = new Security(router, deadline);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The first address the client was given. */
    public ServerAddress server() {
        return servers.get(0);
    }

    /** Every address the client was given, in order (the cluster's other nodes are learnt from them). */
    public List<ServerAddress> servers() {
        return servers;
    }

    /** The deadline of each call; a long-polling fetch gets its wait on top. */
    public Duration deadline() {
        return deadline;
    }

    /** Where its calls go, for the client's own tests. */
    NodeRouter router() {
        return router;
    }

    public Admin admin() {
        return admin;
    }

    /** Users, ACLs, and who this client is signed in as. */
    public Security security() {
        return security;
    }

    /**
     * A channel for tools that speak GroupService directly: each call goes to the node the client's calls of
     * groups go to then (every node serves groups), another one once that one is found unreachable.
     */
    public io.grpc.Channel groupChannel() {
        return new io.grpc.Channel() {
            @Override
            public <Q, R> io.grpc.ClientCall<Q, R> newCall(io.grpc.MethodDescriptor<Q, R> method,
                                                           io.grpc.CallOptions options) {
                return router.channelTo(router.home()).newCall(method, options);
            }

            @Override
            public String authority() {
                return router.channelTo(router.home()).authority();
            }
        };
    }

    /** Consumer groups: list, describe with lag, reset, delete. */
    public Groups groups() {
        return groups;
    }

    public Producer producer() {
        return producer(ProducerConfig.DEFAULT);
    }

    /** A new producer with its own batches and linger thread; this client closes it when it closes. */
    public synchronized Producer producer(ProducerConfig config) {
        Producer producer = new Producer(router, admin, config, deadline, this::forget);
        producers.add(producer);
        return producer;
    }

    /**
     * A transactional producer (docs/transactions.md): it takes {@code transactionalId}'s next epoch now, fencing
     * every earlier producer of the id (a transaction one left open is aborted), and sends its records in
     * transactions ({@link Producer#beginTransaction}, {@link Producer#commitTransaction},
     * {@link Producer#abortTransaction}). A transaction left open longer than {@code timeout} is aborted by the
     * cluster. Idempotent, whatever {@code config} says.
     */
    public synchronized Producer transactionalProducer(String transactionalId, ProducerConfig config,
                                                       Duration timeout) {
        ProducerTransaction txn = new ProducerTransaction(transactions, transactionalId, timeout);
        Producer producer = new Producer(router, admin, config.withIdempotence(true), deadline, this::forget, txn);
        producers.add(producer);
        return producer;
    }

    /** {@link #transactionalProducer(String, ProducerConfig, Duration)} with the defaults and a 60 s timeout. */
    public Producer transactionalProducer(String transactionalId) {
        return transactionalProducer(transactionalId, ProducerConfig.DEFAULT, Duration.ofSeconds(60));
    }

    /**
     * A producer of half messages in producer group {@code group} (docs/transactions.md, "Half messages with
     * check-back"); {@code listener} answers the cluster's checks of the group's undecided half messages (null: this
     * producer only sends and decides, and is never asked).
     */
    public synchronized HalfProducer halfProducer(String group, CheckBackListener listener) {
        return new HalfProducer(group, producer(ProducerConfig.DEFAULT.withIdempotence(true)), transactions, router,
                listener);
    }

        /** Transactions as operators see them: list, describe, abort. */
    public Transactions transactions() {
        return transactions;
    }

    private synchronized void forget(Producer producer) {
        producers.remove(producer);
    }

    /** Where a classic consumer group's members write the records they give up on (its dead-letter topic). */
    public DeadLetterWriter deadLetters(String group) {
        return deadLetterWriters.computeIfAbsent(group, g -> new DeadLetterWriter(this, g));
    }

    private final java.util.concurrent.ConcurrentHashMap<String, DeadLetterWriter> deadLetterWriters =
            new java.util.concurrent.ConcurrentHashMap<>();

    public Consumer consumer(String topic) {
        return consumer(topic, ConsumerConfig.DEFAULT);
    }

    /** A new consumer of one topic; it holds no threads or connections of its own. */
    public Consumer consumer(String topic, ConsumerConfig config) {
        return new Consumer(topic, router, admin, config, deadline);
    }

    @Override
    public void close() {
        List<Producer> open;
        synchronized (this) {
            open = List.copyOf(producers);
            producers.clear();
        }
        try {
            open.forEach(Producer::close);
        } finally {
            router.close();
            channel.shutdown();
            try {
                if (!channel.awaitTermination(5, TimeUnit.SECONDS)) {
                    channel.shutdownNow();
                }
            } catch (InterruptedException e) {
                channel.shutdownNow();
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * How long a TCP connection may take to be made before the node counts as unreachable and its calls fail at
     * once (Netty's default, 30 s, held every call to a node whose network drops packets for that long); shorter
     * than the router's give-up time for a whole connection, so that a connection refused so is reported as one
     * that never reached the node.
     */
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(4);
    /** How long a connection with calls out may be silent before the client pings the node. */
    static final Duration KEEP_ALIVE_TIME = Duration.ofSeconds(10);
    /** How long the client waits for a ping's answer before it takes the connection for dead. */
    static final Duration KEEP_ALIVE_TIMEOUT = Duration.ofSeconds(5);

    /** Settings of a client; not thread-safe. */
    public static final class Builder {
        private List<ServerAddress> servers;
        private boolean plaintext = true;
        /** Whether plaintext or TLS was chosen here (then the STRATA_TLS_CA environment variable does not apply). */
        private boolean transportChosen;
        private java.nio.file.Path tlsCa;
        private String tlsServerName;
        private Duration deadline = Duration.ofSeconds(30);
        private RetryPolicy produceRetry = RetryPolicy.DEFAULT;
        private ManagedChannelBuilder<?> channelBuilder;
        private String user;
        private String password;
        private String token;
        private java.nio.file.Path tokenFile;
        private java.nio.file.Path certificate;
        private java.nio.file.Path key;

        private Builder() {
        }

        /**
         * "host:port", or several separated by commas (nodes of one cluster, tried in order); default: the
         * STRATA_SERVER environment variable, else 127.0.0.1:9400.
         */
        public Builder server(String hostPorts) {
            return servers(ServerAddress.parseList(hostPorts));
        }

        public Builder server(ServerAddress address) {
            return servers(List.of(Objects.requireNonNull(address, "address")));
        }

        /**
         * Nodes of one cluster, in order of preference: the client starts with the first that answers and
         * learns the others from it. Giving several lets it start while one of them is down. With a
         * {@link #channelBuilder} the client cannot dial nodes itself: it talks to that channel only.
         */
        public Builder servers(List<ServerAddress> addresses) {
            if (addresses.isEmpty()) {
                throw new IllegalArgumentException("at least one server address is needed");
            }
            this.servers = List.copyOf(addresses);
            return this;
        }

        /** True (the default): no TLS. False: TLS with the JVM's trust store. */
        public Builder plaintext(boolean plaintext) {
            this.plaintext = plaintext;
            this.transportChosen = true;
            if (plaintext) {
                this.tlsCa = null;
            }
            return this;
        }

        /**
         * TLS, trusting the CA certificates of this PEM file (a cluster's own CA) rather than the JVM's; default:
         * the file the STRATA_TLS_CA environment variable names, if any.
         */
        public Builder tlsCa(java.nio.file.Path pemFile) {
            this.tlsCa = Objects.requireNonNull(pemFile, "pemFile");
            this.plaintext = false;
            this.transportChosen = true;
            return this;
        }

        /**
         * The name the nodes' certificates are checked against instead of the address dialled (which for nodes
         * learnt from the cluster is what they advertise, often a pod IP); default: the STRATA_TLS_SERVER_NAME
         * environment variable, else the address.
         */
        public Builder tlsServerName(String name) {
            this.tlsServerName = Objects.requireNonNull(name, "name");
            return this;
        }

        /**
         * Signs every call in as this user (a user the cluster knows: {@code strata users add}); default: the
         * STRATA_USER and STRATA_PASSWORD environment variables, if set. The password goes with each call: the
         * client speaks TLS then (the JVM's trust store, or {@link #tlsCa}) unless {@code plaintext(true)} is set.
         */
        public Builder credentials(String user, String password) {
            if (user == null || user.isEmpty() || user.indexOf(':') >= 0 || password == null) {
                throw new IllegalArgumentException("credentials are a user name (without ':') and a password");
            }
            this.user = user;
            this.password = password;
            return this;
        }

        /**
         * Signs every call in with this bearer token (a JWT of an issuer the nodes trust, strata.auth.jwt.*);
         * default: the STRATA_TOKEN environment variable. Over TLS, as {@link #credentials}.
         */
        public Builder token(String token) {
            if (token == null || token.isBlank()) {
                throw new IllegalArgumentException("a token is not blank");
            }
            this.token = token;
            this.tokenFile = null;
            return this;
        }

        /**
         * Signs every call in with the token in this file, read again when it changes (a Kubernetes projected
         * service-account token); default: the STRATA_TOKEN_FILE environment variable.
         */
        public Builder tokenFile(java.nio.file.Path file) {
            this.tokenFile = Objects.requireNonNull(file, "file");
            this.token = null;
            return this;
        }

        /**
         * Presents this client certificate (PEM; the key in PKCS#8) in the TLS handshake: an identity for nodes
         * that accept client certificates (strata.tls.client-auth); default: the STRATA_TLS_CERT and
         * STRATA_TLS_KEY environment variables, if set.
         */
        public Builder tlsCertificate(java.nio.file.Path certificatePem, java.nio.file.Path keyPem) {
            this.certificate = Objects.requireNonNull(certificatePem, "certificatePem");
            this.key = Objects.requireNonNull(keyPem, "keyPem");
            return this;
        }

        /** The deadline of every call (a Produce's retries included); default 30 s. */
        public Builder deadline(Duration deadline) {
            if (deadline.isNegative() || deadline.isZero()) {
                throw new IllegalArgumentException("the deadline must be positive, not " + deadline);
            }
            this.deadline = deadline;
            return this;
        }

        public Builder produceRetry(RetryPolicy policy) {
            this.produceRetry = Objects.requireNonNull(policy, "policy");
            return this;
        }

        /**
         * Builds the channel from this builder instead of from the server address (an in-process transport,
         * custom TLS); the retry policy is still applied, and the client still owns the channel it builds.
         */
        public Builder channelBuilder(ManagedChannelBuilder<?> builder) {
            this.channelBuilder = Objects.requireNonNull(builder, "builder");
            return this;
        }

        public StrataClient build() {
            if (servers == null) {
                servers = ServerAddress.fromEnvironment();
            }
            String caFromEnvironment = System.getenv("STRATA_TLS_CA");
            if (!transportChosen && channelBuilder == null && caFromEnvironment != null && !caFromEnvironment.isBlank()) {
                tlsCa(java.nio.file.Path.of(caFromEnvironment));
            }
            String nameFromEnvironment = System.getenv("STRATA_TLS_SERVER_NAME");
            if (tlsServerName == null && nameFromEnvironment != null && !nameFromEnvironment.isBlank()) {
                tlsServerName = nameFromEnvironment;
            }
            if (user == null && token == null && tokenFile == null && System.getenv("STRATA_USER") != null
                    && !System.getenv("STRATA_USER").isBlank()) {
                credentials(System.getenv("STRATA_USER"), java.util.Objects.requireNonNullElse(
                        System.getenv("STRATA_PASSWORD"), ""));
            }
            if (user == null && token == null && tokenFile == null) {
                if (System.getenv("STRATA_TOKEN_FILE") != null && !System.getenv("STRATA_TOKEN_FILE").isBlank()) {
                    tokenFile(java.nio.file.Path.of(System.getenv("STRATA_TOKEN_FILE")));
                } else if (System.getenv("STRATA_TOKEN") != null && !System.getenv("STRATA_TOKEN").isBlank()) {
                    token(System.getenv("STRATA_TOKEN"));
                }
            }
            if (certificate == null && System.getenv("STRATA_TLS_CERT") != null && System.getenv("STRATA_TLS_KEY") != null) {
                tlsCertificate(java.nio.file.Path.of(System.getenv("STRATA_TLS_CERT")),
                        java.nio.file.Path.of(System.getenv("STRATA_TLS_KEY")));
            }
            if ((certificate != null || user != null || token != null || tokenFile != null) && plaintext
                    && !transportChosen) {
                // Credentials are TLS, with the JVM's trust store unless a CA is given: a password never goes out in
                // clear unless plaintext(true) says so.
                plaintext = false;
            }
            if (channelBuilder != null && (tlsCa != null || tlsServerName != null || certificate != null)) {
                throw new IllegalArgumentException("a channel builder brings its own transport: set TLS on it, "
                        + "not with tlsCa, tlsServerName or tlsCertificate");
            }
            if (certificate != null && plaintext) {
                throw new IllegalArgumentException("a client certificate needs TLS, not plaintext");
            }
            ManagedChannelBuilder<?> b = channelBuilder != null ? channelBuilder : dial(servers.get(0));
            return new StrataClient(this, configure(b).build());
        }

        /** A channel to another node of the cluster, set up as the bootstrap one. */
        ManagedChannel channelTo(String address) {
            return configure(dial(ServerAddress.parse(address))).build();
        }

        private ManagedChannelBuilder<?> dial(ServerAddress address) {
            // Keep-alive pings on connections with calls out: a node that is frozen or cut off (no RST, no FIN)
            // is found within 15 s and its calls fail UNAVAILABLE, so they move to other nodes instead of
            // waiting out their deadlines. Nodes permit pings this often (quarkus.grpc.server.netty.*).
            NettyChannelBuilder b = NettyChannelBuilder.forAddress(address.host(), address.port())
                    .withOption(ChannelOption.ALLOCATOR, TransportBuffers.ALLOCATOR)
                    .withOption(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) CONNECT_TIMEOUT.toMillis())
                    .keepAliveTime(KEEP_ALIVE_TIME.toMillis(), TimeUnit.MILLISECONDS)
                    .keepAliveTimeout(KEEP_ALIVE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            if (plaintext) {
                b.usePlaintext();
            } else {
                b.sslContext(new WholeReadTls(tlsContext()));
                if (tlsServerName != null) {
                    b.overrideAuthority(tlsServerName);
                }
            }
            return b;
        }

        /** TLS with the given CA (the JDK's trusted ones without) and client certificate, if any. */
        private io.grpc.netty.shaded.io.netty.handler.ssl.SslContext tlsContext() {
            var context = io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts.forClient();
            try {
                if (tlsCa != null) {
                    context.trustManager(tlsCa.toFile());
                }
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("cannot read the CA certificates of " + tlsCa + ": "
                        + e.getMessage(), e);
            }
            try {
                if (certificate != null) {
                    context.keyManager(certificate.toFile(), key.toFile());
                }
                return context.build();
            } catch (javax.net.ssl.SSLException | IllegalArgumentException e) {
                throw new IllegalArgumentException("cannot set up TLS with " + (certificate != null
                        ? "the client certificate " + certificate + " and key " + key
                        : tlsCa != null ? "the CA " + tlsCa : "the JDK's trusted CAs") + ": " + e.getMessage(), e);
            }
        }

        private ManagedChannelBuilder<?> configure(ManagedChannelBuilder<?> b) {
            // Retried requests are buffered by gRPC; allow a full request of default-sized batches to be kept.
            if (user != null) {
                b.intercept(new BasicCredentials(user, password));
            } else if (token != null) {
                b.intercept(BasicCredentials.token(token));
            } else if (tokenFile != null) {
                b.intercept(BasicCredentials.tokenFile(tokenFile));
            }
            return b.defaultServiceConfig(produceRetry.toServiceConfig())
                    .disableServiceConfigLookUp()
                    .enableRetry()
                    .maxRetryAttempts(Math.max(2, produceRetry.maxAttempts()))
                    .perRpcBufferLimit(64L << 20)
                    .retryBufferSize(256L << 20)
                    .maxInboundMessageSize(64 << 20);
        }
    }
}
