package io.strata.server.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Every setting of a Strata node, with the embedded default as the default: all roles in one process, a
 * local directory as object store, the embedded metadata store. See docs/configuration.md.
 */
@ConfigMapping(prefix = "strata")
public interface StrataConfig {

    /** Roles this node runs: ingest, fetch, compaction (all three by default: the embedded single process). */
    @WithDefault("ingest,fetch,compaction")
    Set<String> roles();

    /** Unique per node; generated when absent. */
    Optional<String> nodeId();

    /**
     * host:port clients use to reach this node. Default: the listen host and the gRPC port; a node listening
     * on all interfaces (in a container) advertises the {@code POD_IP} environment variable (Kubernetes'
     * downward API), else this host's address.
     */
    Optional<String> advertisedAddress();

    /** Node-to-node calls (the tail hand-off), on a port of their own that clients never need. */
    Internal internal();

    /** Directory for the embedded metadata store and the local object store. */
    @WithDefault("data")
    String dataDir();

    Metadata metadata();

    ObjectStoreConfig objectStore();

    Ingest ingest();

    Fetch fetch();

    /** Share groups' defaults (docs/queues.md). */
    Share share();

    Half half();

    /** The web console on the HTTP port (docs/console.md). */
    Console console();

    Compaction compaction();

    Gc gc();

    Producer producer();

    Groups groups();

    Kafka kafka();

    Grpc grpc();

    Tls tls();

    Auth auth();

    /** Who may call the node and what each caller may do (docs/security.md). */
    interface Auth {
        /**
         * none: every caller is let in and may do everything (the embedded default on 127.0.0.1); required: a call
         * without valid credentials gets UNAUTHENTICATED, and each call is checked against the cluster's ACLs.
         */
        @WithDefault("none")
        String mode();

        /** Principals allowed everything whatever the ACLs say, e.g. User:admin (comma-separated). */
        Optional<java.util.List<String>> superUsers();

        /**
         * How a client certificate's name becomes a user name: Kafka's ssl.principal.mapping.rules, e.g.
         * {@code RULE:^CN=([^,]+),OU=apps.*$/$1/L,DEFAULT}.
         */
        @WithDefault("DEFAULT")
        String principalMappingRules();

        /** Which name of a client certificate the rules map: subject (RFC 2253) or san (its first DNS, URI or e-mail name). */
        @WithDefault("subject")
        String certificateName();

        /**
         * Lets mode=required run without TLS on the client ports, passwords and tokens then travelling in clear:
         * for trials on one machine only.
         */
        @WithDefault("false")
        boolean allowPlaintext();

        /**
         * A user the node adds at start when the cluster has no users at all (never changed or re-added later): how
         * the first super-user comes to be. Its password from {@link #bootstrapPassword} (env
         * STRATA_AUTH_BOOTSTRAP_PASSWORD, e.g. from a Kubernetes Secret).
         */
        Optional<String> bootstrapUser();

        Optional<String> bootstrapPassword();

        /** Bearer tokens (JWT): absent keys, tokens are refused. */
        Jwt jwt();

        interface Jwt {
            /**
             * Where the issuer's public keys are: a JWKS URL (an OIDC provider's jwks_uri; Kubernetes:
             * https://kubernetes.default.svc/openid/v1/jwks) or a file (PEM public key, JWK or JWKS).
             */
            Optional<String> keys();

            /** The issuer (iss) a token must name; required with keys. */
            Optional<String> issuer();

            /** Audiences (aud) a token must name one of; absent: not checked. */
            Optional<java.util.List<String>> audiences();

            /** The claim that names the user: sub (Kubernetes: system:serviceaccount:NS:NAME), or e.g. email. */
            @WithDefault("sub")
            String principalClaim();

            /** The claim that lists the user's ACL groups. */
            @WithDefault("groups")
            String groupsClaim();
        }

        /** Password checks (each a few milliseconds of PBKDF2) run at once; more get UNAVAILABLE to try again. */
        @WithDefault("4")
        int maxConcurrentPasswordChecks();
    }

    /** The node's certificate on the ports clients use (docs/security.md). */
    interface Tls {
        /** PEM file of the node's certificate (and its chain); with {@link #key} the client ports speak TLS only. */
        Optional<String> certificate();

        /** PEM file of the certificate's private key (PKCS#8: "BEGIN PRIVATE KEY"). */
        Optional<String> key();

        /**
         * Instead of {@link #certificate} and {@link #key}: a PKCS#12 or JKS key store holding the node's key and its
         * certificate chain (the first key entry, or {@link #keyStoreAlias}).
         */
        Optional<String> keyStore();

        /** The key store's password, which is also its key's (best given as STRATA_TLS_KEY_STORE_PASSWORD). */
        Optional<String> keyStorePassword();

        /** PKCS12 or JKS; by default from the file's name (.jks and .keystore are JKS, anything else PKCS#12). */
        Optional<String> keyStoreType();

        /** Which key entry of the key store is the node's; by default the only (or first) one. */
        Optional<String> keyStoreAlias();

        /** How often the files are checked for a renewal. */
        @WithDefault("1m")
        java.time.Duration reloadInterval();

        /**
         * Client certificates on the client ports: none (not asked for), request (asked for, checked against
         * {@link #clientCa} when given: a principal), required (a client without one is refused in the handshake).
         */
        @WithDefault("none")
        String clientAuth();

        /** PEM file of the CA(s) whose client certificates are accepted; needed unless client-auth is none. */
        Optional<String> clientCa();

        /** The node-to-node port's mutual TLS, with a CA of its own; required once the client ports have TLS. */
        Internal internal();

        interface Internal {
            /** PEM file of this node's certificate on the node-to-node port (its SAN names {@code strata-internal}). */
            Optional<String> certificate();

            /** PEM file of its key. */
            Optional<String> key();

            /** PEM file of the CA that signs node certificates, and only them. */
            Optional<String> ca();
        }
    }

    /** Bounds of the client gRPC port, so one client cannot take what all need. */
    interface Grpc {
        /**
         * Calls (streams) one connection may have open at once (HTTP/2's SETTINGS_MAX_CONCURRENT_STREAMS); a
         * client past it waits for one of its calls to end, others are not affected.
         */
        @WithDefault("1000")
        int maxCallsPerConnection();

        /** Bytes of metadata (headers) a call may send. */
        @WithDefault("16384")
        int maxMetadataBytes();

        /**
         * Connections one client address may have open to the client port; every call on one past it is refused
         * with RESOURCE_EXHAUSTED. 0: no bound.
         */
        @WithDefault("1000")
        int maxConnectionsPerAddress();

        /**
         * Streams (Subscribe, ProduceStream, SyncAssignment) one principal may have open on this node; one past it
         * is refused with RESOURCE_EXHAUSTED. 0: no bound.
         */
        @WithDefault("10000")
        int maxStreamsPerPrincipal();
    }

    /** The Kafka protocol listener (docs/kafka.md): a second door onto the same topics, records and groups. */
    interface Kafka {
        /** Its port on nodes that serve clients (ingest or fetch role); 0 turns it off. */
        @WithDefault("9092")
        int port();

        /** Connections one client address may have open (Kafka's max.connections.per.ip); 0: no bound. */
        @WithDefault("1000")
        int maxConnectionsPerAddress();

        /** Connections one signed-in principal may have open on this node; 0: no bound. */
        @WithDefault("1000")
        int maxConnectionsPerPrincipal();

        /** A request's size at most (Kafka's socket.request.max.bytes): a larger one closes its connection. */
        @WithDefault("104857600")
        int maxRequestBytes();

        /** Requests of one connection answered at once; the connection is not read further meanwhile. */
        @WithDefault("16")
        int maxInflightRequests();

        /** The zone told to clients as this node's rack (empty: none). */
        Optional<String> rack();

        /**
         * The zstd level of the Strata batches Kafka producers' batches become. Strata's record encoding differs
         * from Kafka's, so every produced batch is compressed again, on the node; at level 1 that costs about a
         * third less CPU than at 3 (Kafka's ProducerPerformance against the embedded default: 66-69 thousand
         * records/s at 1 against 59 at 3, docs/benchmarks.md) for a few percent more bytes stored.
         */
        @WithDefault("1")
        int compressionLevel();
    }

    interface Internal {
        /** The port of node-to-node calls; 0 picks a free one. Advertised with the node's host. */
        @WithDefault("9402")
        int port();
    }

    interface Metadata {
        /** embedded or etcd. */
        @WithDefault("embedded")
        String type();

        /** etcd client URLs, e.g. http://10.0.0.1:2379 (required with type etcd). */
        Optional<List<String>> etcdEndpoints();

        /** PEM file of the CA etcd's certificate is checked against (with https:// endpoints). */
        Optional<String> etcdCa();

        /** PEM files of a client certificate and key, for an etcd run with --client-cert-auth. */
        Optional<String> etcdCertificate();

        Optional<String> etcdKey();

        /** A user of etcd's own authentication, and its password (best from STRATA_METADATA_ETCD_PASSWORD). */
        Optional<String> etcdUser();

        Optional<String> etcdPassword();

        /** Key prefix of this cluster in etcd. */
        @WithDefault("/strata")
        String root();

        /** Metadata shards, fixed when the cluster is first created. */
        @WithDefault("256")
        int shards();

        @WithDefault("10s")
        Duration timeout();

        /**
         * The quota the store is held against, for the metric beside its size and the alert near it: etcd's
         * --quota-backend-bytes (2 GiB unless it was given another).
         */
        @WithDefault("2147483648")
        long quotaBytes();
    }

    interface ObjectStoreConfig {
        /** local or s3. */
        @WithDefault("local")
        String type();

        /**
         * Opt-in, for benchmarks and trials: PUTs and GETs answer no sooner than a latency drawn from this
         * model ({@code s3-standard}, or {@code put=P50/P99,get=P50/P99} in ms). Absent: none added.
         */
        Optional<String> simulatedLatency();

        S3 s3();

        interface S3 {
            /**
             * Server-side encryption asked for on every put: AES256 (SSE-S3), aws:kms or aws:kms:dsse (SSE-KMS);
             * absent: the bucket's default encryption.
             */
            Optional<String> serverSideEncryption();

            /** The KMS key (id, alias or ARN) of SSE-KMS; absent: the account's default key for S3. */
            Optional<String> kmsKeyId();

            /** Endpoint for S3-compatible servers (MinIO, LocalStack, S3Proxy); absent for AWS. */
            Optional<String> endpoint();

            Optional<String> bucket();

            @WithDefault("us-east-1")
            String region();

            /** Key prefix inside the bucket; none by default. */
            Optional<String> prefix();

            Optional<String> accessKey();

            Optional<String> secretKey();

            @WithDefault("true")
            boolean pathStyle();

            /** Create the bucket at start when it is missing (for local test servers). */
            @WithDefault("false")
            boolean createBucket();

            @WithDefault("30s")
            Duration requestTimeout();

            @WithDefault("64")
            int maxConcurrency();

            /** Use If-None-Match on puts; turn off only for servers that reject it. */
            @WithDefault("true")
            boolean conditionalWrites();
        }
    }

    interface Ingest {
        /** 4 MiB: on local disk and S3-compatible servers it gives lower latency and more throughput than 8. */
        @WithDefault("4194304")
        long blockMaxBytes();

        /**
         * Seal the open block at the latest this long after its first record. Unset: 100 ms in front of S3,
         * 5 ms in front of the local-directory object store ({@link #blockLinger(String)}).
         */
        Optional<Duration> blockLinger();

        /**
         * The linger in front of an object store of {@code objectStoreType}: as set, else 100 ms on S3, where every
         * PUT is billed and a longer window fills larger blocks, and 5 ms on a local directory, where a block is a
         * file write and a longer window is only latency. A block also seals when full, so at full speed the
         * linger does not decide block sizes either way: the embedded default's full-speed produce measured the
         * same with both (276 and 260 thousand records/s), its end-to-end p99 110 ms with 100 ms and 13 ms with 5.
         * Kafka producers feel it most: five requests in flight per partition, each one batch of 16 KiB by
         * default, deliver at most five batches per acknowledgement's round trip.
         */
        default Duration blockLinger(String objectStoreType) {
            return blockLinger().orElse("local".equals(objectStoreType) ? Duration.ofMillis(5) : Duration.ofMillis(100));
        }

        /**
         * Also seal the open block as soon as no earlier block is on its way (group commit). Unset: on in front of
         * the local-directory object store, where a block is a file write and a metadata commit, no billed PUT, so a
         * lone call is stored at once and calls that arrive meanwhile share the next block; off in front of S3,
         * where every PUT is billed and the linger fills blocks ({@link #sealWhenIdle(String)}).
         */
        Optional<Boolean> sealWhenIdle();

        default boolean sealWhenIdle(String objectStoreType) {
            return sealWhenIdle().orElse("local".equals(objectStoreType));
        }

        @WithDefault("67108864")
        long maxBufferedBytes();

        @WithDefault("5s")
        Duration bufferWait();

        @WithDefault("1048576")
        int maxRecordBytes();

        @WithDefault("8388608")
        int maxRequestBytes();

        @WithDefault("30s")
        Duration produceTimeout();

        @WithDefault("3")
        int compressionLevel();

        /**
         * How long a starting node may spend running its produce path on synthetic blocks (built, uploaded,
         * read back, deleted; never committed) before it reports ready, so that its first real blocks do not
         * pay for a cold JIT and a cold object store (io.strata.ingest.warmup.StartupWarmup); 0 skips it.
         */
        @WithDefault("3s")
        Duration warmup();

        /** The most rounds of the warm-up, one synthetic block each. */
        @WithDefault("40")
        int warmupRounds();

        /**
         * Blocks sealing, uploading or committing at once (uploads overlap; commits stay in order). Blocks
         * uploaded behind a slow PUT keep their permits while they wait for it, so with S3's PUT tail 4 often
         * held back the next block's upload; 8 cut produce and end-to-end p99 under the S3 latency model
         * (docs/benchmarks.md). The buffer bound (max-buffered-bytes) caps their memory either way.
         */
        @WithDefault("8")
        int maxInflightBlocks();

        /**
         * A block's PUT not answered within this, or within the recent PUTs' {@link #putHedgeQuantile} when that is
         * longer (plus about 16 ms a MiB of the block), is sent again under a second key; the first stored wins. 0: never.
         */
        @WithDefault("100ms")
        Duration putHedgeAfter();

        /** The quantile of recent PUTs' latencies a PUT may take before it is hedged; 0: after put-hedge-after alone. */
        @WithDefault("0.6")
        double putHedgeQuantile();

        /** The most bytes of committed chunks travelling to fetch nodes at once (tail hand-off); beyond it they are dropped. */
        @WithDefault("67108864")
        long handOffMaxInflightBytes();
    }

    /** Half messages (docs/transactions.md, "Half messages with check-back"). */
    interface Half {
        /** How long a half message may stay undecided before a producer of its group is asked, and between asks. */
        @WithDefault("60s")
        java.time.Duration checkInterval();

        /** How many checks may go unanswered (or answered "unknown") before the half message is rolled back. */
        @WithDefault("15")
        int maxChecks();
    }

    interface Console {
        /** Whether the HTTP port serves the console at /console and its JSON door at /console/api. */
        @WithDefault("true")
        boolean enabled();

        /** How often the node samples topics' ends and groups' lag for the console's charts. */
        @WithDefault("10s")
        Duration historyInterval();

        /** How far back the charts reach: points older than this are overwritten. */
        @WithDefault("1h")
        Duration historyRetention();

        /** The most series kept (a topic's records, a group's lag, a partition's lag each count one). */
        @WithDefault("2000")
        int historyMaxSeries();

        /** The most bytes of a partition one record page of the console reads (any request's own bound is lowered to it). */
        @WithDefault("1048576")
        int maxFetchBytes();

        /** Console calls answered at once by this node; more are refused with resource_exhausted (HTTP 429). */
        @WithDefault("32")
        int maxConcurrentCalls();

        /**
         * Host names the console's door answers to besides IP addresses, localhost and the node's advertised host
         * (the name of an Ingress in front of it, say): a call naming another host is refused (DNS rebinding).
         */
        Optional<Set<String>> allowedHosts();

        /** The longest a console call may run (a caller's Connect-Timeout-Ms is lowered to it). */
        @WithDefault("30s")
        Duration callTimeout();
    }

    interface Share {
        /** How long a member holds a record it acquired before the record is released to others. */
        @WithDefault("30s")
        java.time.Duration lockDuration();

        /** Deliveries after which a record that still fails is archived. */
        @WithDefault("5")
        int maxDeliveryAttempts();

        /** The wait before a failed record is delivered again: first, multiplier, most ("1s,2,10m"). */
        @WithDefault("1s,2,10m")
        String backoff();

        /** Records of one partition in flight (acquired or waiting to be delivered again) at most. */
        @WithDefault("2000")
        int maxInFlight();
    }

    interface Fetch {
        /**
         * Bytes of chunks the memory tier of the cache holds, at most a quarter of the heap (the tier, loads in
         * flight and answers being sent share it). Unset: {@link #DEFAULT_CACHE_BYTES}, cut silently to fit.
         */
        Optional<Long> cacheMaxBytes();

        /** 256 MiB. */
        long DEFAULT_CACHE_BYTES = 256L << 20;

        /** Directory of the disk tier (emptied at start); default: fetch-cache under the data directory. */
        Optional<String> diskCacheDir();

        /**
         * Bytes of chunks the disk tier holds; 0 turns it off. Unset: 2 GiB in front of S3, off in front of the
         * local-directory object store ({@link #diskCacheMaxBytes(String)}).
         */
        Optional<Long> diskCacheMaxBytes();

        /** 2 GiB in front of S3. */
        long DEFAULT_DISK_CACHE_BYTES = 2L << 30;

        /**
         * The disk tier's size in front of an object store of {@code objectStoreType}: as set, else off in front
         * of a local directory. There the objects are files on the same disk already, so a second copy of each
         * chunk buys nothing, and its writes cost something real: a catch-up read leaves gigabytes of the copies
         * dirty in the page cache, and when the kernel writes them back, every fsync of the embedded stores
         * (each commit's) waits behind them — a second-long stall of produce and delivery half a minute after
         * the read (issue 27).
         */
        default long diskCacheMaxBytes(String objectStoreType) {
            return diskCacheMaxBytes().orElse("local".equals(objectStoreType) ? 0 : DEFAULT_DISK_CACHE_BYTES);
        }

        /** The most bytes one ranged GET may span when it takes neighbouring chunks along. */
        @WithDefault("16777216")
        long maxGetBytes();

        /** The most unwanted bytes a widened GET may read between two wanted chunks. */
        @WithDefault("1048576")
        long maxGapBytes();

        /** Index chunks held in memory; beyond it the least recently read metadata shards are dropped. */
        @WithDefault("1000000")
        long indexMaxChunks();

        /** Bytes past a catch-up reader's answer loaded into the cache before it asks; 0: none. */
        @WithDefault("8388608")
        long readAheadBytes();

        @WithDefault("1048576")
        int defaultMaxBytes();

        @WithDefault("16777216")
        int maxMaxBytes();

        @WithDefault("30s")
        Duration maxWait();
    }

    interface Compaction {
        /** The pause between passes over every metadata shard. */
        @WithDefault("30s")
        Duration interval();

        /** WAL chunks committed longer ago than this are merged into per-partition segments. */
        @WithDefault("2m")
        Duration minAge();

        /**
         * A partition with less than {@code small-segment-bytes} of WAL chunks past min-age waits until the
         * oldest is this old (absent: four times min-age): a slow partition costs one PUT per max-age.
         */
        java.util.Optional<Duration> maxAge();

        /**
         * The stored size segments are built up to, at most an eighth of the heap (they are built in memory).
         * Unset: {@link #DEFAULT_SEGMENT_BYTES}, cut silently to fit.
         */
        Optional<Long> segmentBytes();

        /** 128 MiB. */
        long DEFAULT_SEGMENT_BYTES = 128L << 20;

        /** The stored size of a segment's chunks: the unit of a fetch and of retention. */
        @WithDefault("524288")
        int segmentChunkBytes();

        /** Segments below this merge with the next new data at once; larger ones merge by size tiers. */
        @WithDefault("1048576")
        long smallSegmentBytes();

        /** Segments of one size tier that merge into one of the next. */
        @WithDefault("4")
        int tierFanIn();

        /** Metadata revision history kept before it is compacted (etcd's database stays bounded). */
        @WithDefault("5m")
        Duration historyKeep();

        /** The worker's lease: a worker that stops renewing it loses its shards' locks this long after. */
        @WithDefault("15s")
        Duration lockTtl();

        /** zstd level for batches compaction must build again (most are copied as they are). */
        @WithDefault("3")
        int compressionLevel();

        /** Guarded swaps one shard gets per pass. */
        @WithDefault("20")
        int maxStepsPerShard();

        /**
         * Memory for the key map of one key-compaction cleaning (about 24 bytes per key): one cleaning covers
         * as many new records as fit, the rest waits for the next.
         */
        @WithDefault("33554432")
        long keyMapBytes();

        /** A key-compacted partition is cleaned when this share of its merged bytes is new since its last cleaning. */
        @WithDefault("0.5")
        double minCleanableRatio();

        /**
         * Whole WAL blocks kept on local disk for merges (with an S3 object store only): a block is then
         * downloaded once instead of once per metadata shard it touches. 0 turns it off.
         */
        @WithDefault("4294967296")
        long blockCacheBytes();

        /** The block cache's directory (default {data-dir}/compaction-cache); emptied at start. */
        java.util.Optional<String> blockCacheDir();

        /** Run one pass and exit (a Kubernetes CronJob) instead of a pass every interval. */
        @WithDefault("false")
        boolean runOnce();
    }

    interface Producer {
        /**
         * How long an idempotent producer's state in a partition (its last sequence and batches, to recognise
         * retries) is kept after its last write there (Kafka's {@code producer.id.expiration.ms}).
         */
        @WithDefault("24h")
        Duration stateExpiry();
    }

    interface Gc {
        /**
         * How long an object stays after nothing references it (longer than the longest fetch: readers may
         * still hold the old index), and how old an object never committed must be before it is collected.
         */
        @WithDefault("10m")
        Duration grace();
    }

    interface Groups {
        /** The shortest session a consumer may ask for. */
        @WithDefault("2s")
        Duration minSessionTimeout();

        /** The longest session a consumer may ask for. */
        @WithDefault("5m")
        Duration maxSessionTimeout();

        /** The session of a consumer that asks for none: how long a crashed member keeps its partitions. */
        @WithDefault("10s")
        Duration defaultSessionTimeout();

        /**
         * The TTL of the one lease the sessions hosted on a node hang on (a heartbeat itself costs etcd nothing):
         * how long the sessions of a node that died outlive it, unless their heartbeats move to another node.
         */
        @WithDefault("10s")
        Duration hostLeaseTtl();

        /** The most member sessions one node hosts; joins beyond it are refused (RESOURCE_EXHAUSTED). */
        @WithDefault("100000")
        int maxMembersPerNode();

        /**
         * How often the groups with members on this node are looked at without a change. Watches wake them at
         * once on every change; this only bounds the cost of one lost (or of a topic that grew). Each look is
         * one read of every group's coordination, and a reconcile of the groups that changed.
         */
        @WithDefault("30s")
        Duration reconcileInterval();

        /** How often the node holding the lag lock recomputes every group's lag for the metrics. */
        @WithDefault("30s")
        Duration lagInterval();

        /** The most per-partition lag series exported; beyond it only per-group totals are. */
        @WithDefault("10000")
        int lagMaxSeries();
    }
}
