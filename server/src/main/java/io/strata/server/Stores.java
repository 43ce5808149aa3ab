package io.strata.server;

import io.strata.metadata.MetadataStore;
import io.strata.metadata.MetadataStores;
import io.strata.server.config.StrataConfig;
import io.strata.storage.object.ObjectStore;
import io.strata.storage.object.SimulatedLatencyObjectStore;
import io.strata.storage.object.local.LocalObjectStore;
import io.strata.storage.object.s3.S3ObjectStore;
import io.strata.storage.object.s3.S3Settings;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.jboss.logging.Logger;

/**
 * Opens the stores a node's configuration names. A node configured for etcd without endpoints, or for S3
 * without a bucket, refuses to start ({@link #validate}, before anything connects): it never falls back to
 * local state silently. Opening and {@linkplain #check checking} may fail while etcd or the bucket do not
 * answer; the node then waits, not ready, and tries again.
 */
public final class Stores {
    private static final Logger LOG = Logger.getLogger(Stores.class);

    private Stores() {
    }

    /** Refuses a configuration the stores cannot be opened with, naming the setting and its variable. */
    static void validate(StrataConfig config) {
        StrataConfig.Metadata m = config.metadata();
        switch (m.type()) {
            case "embedded" -> { }
            case "etcd" -> {
                if (m.etcdEndpoints().filter(l -> !l.isEmpty()).isEmpty()) {
                    throw missing("strata.metadata.etcd-endpoints", "strata.metadata.type=etcd");
                }
                etcdSecurity(m); // unreadable files, a certificate without its key: refused now, by name
            }
            default -> throw new IllegalArgumentException(
                    "strata.metadata.type must be embedded or etcd, not '" + m.type() + "'");
        }
        StrataConfig.ObjectStoreConfig o = config.objectStore();
        switch (o.type()) {
            case "local" -> { }
            case "s3" -> {
                if (o.s3().bucket().filter(b -> !b.isBlank()).isEmpty()) {
                    throw missing("strata.object-store.s3.bucket", "strata.object-store.type=s3");
                }
                if (o.s3().accessKey().isPresent() != o.s3().secretKey().isPresent()) {
                    throw new IllegalArgumentException("strata.object-store.s3.access-key and secret-key go together "
                            + "(set both, or neither for the AWS default credentials chain)");
                }
            }
            default -> throw new IllegalArgumentException(
                    "strata.object-store.type must be local or s3, not '" + o.type() + "'");
        }
    }

    private static IllegalArgumentException missing(String setting, String because) {
        String variable = setting.toUpperCase(java.util.Locale.ROOT).replaceAll("[^A-Z0-9]", "_");
        return new IllegalArgumentException("missing required setting " + setting + " (environment variable "
                + variable + "): " + because + " needs it");
    }

    private static io.strata.metadata.etcd.EtcdSecurity etcdSecurity(StrataConfig.Metadata c) {
        try {
            return new io.strata.metadata.etcd.EtcdSecurity(c.etcdCa().map(Path::of), c.etcdCertificate().map(Path::of),
                    c.etcdKey().map(Path::of), c.etcdUser(), c.etcdPassword());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("strata.metadata.etcd-*: " + e.getMessage(), e);
        }
    }

    /** Where the metadata store is, for messages. */
    public static String describeMetadata(StrataConfig config) {
        return "etcd".equals(config.metadata().type())
                ? "etcd at " + config.metadata().etcdEndpoints().orElse(List.of())
                : "the embedded metadata store in " + Path.of(config.dataDir(), "metadata");
    }

    static MetadataStore metadata(StrataConfig config) {
        StrataConfig.Metadata c = config.metadata();
        return "etcd".equals(c.type())
                ? MetadataStores.etcd(c.etcdEndpoints().orElseThrow(), c.root(), c.shards(), c.timeout(),
                        etcdSecurity(c))
                : MetadataStores.embedded(Path.of(config.dataDir(), "metadata"), c.shards());
    }

    /** Where the node keeps its objects, for people: "bucket B at E" or the local directory. */
    public static String describeObjects(StrataConfig config) {
        StrataConfig.ObjectStoreConfig c = config.objectStore();
        return "local".equals(c.type()) ? "the local directory " + Path.of(config.dataDir(), "objects")
                : "bucket " + c.s3().bucket().orElse("?") + c.s3().endpoint().map(e -> " at " + e).orElse(" on AWS S3");
    }

    static ObjectStore objects(StrataConfig config) {
        StrataConfig.ObjectStoreConfig c = config.objectStore();
        ObjectStore store;
        if ("local".equals(c.type())) {
            store = new LocalObjectStore(Path.of(config.dataDir(), "objects"));
        } else {
            StrataConfig.ObjectStoreConfig.S3 s3 = c.s3();
            store = new S3ObjectStore(new S3Settings(s3.endpoint().map(URI::create), s3.region(),
                    s3.bucket().orElseThrow(), s3.prefix().orElse(""), s3.accessKey(), s3.secretKey(), s3.pathStyle(),
                    s3.requestTimeout(), s3.maxConcurrency(), s3.conditionalWrites(), s3.serverSideEncryption(),
                    s3.kmsKeyId()));
        }
        if (c.simulatedLatency().isPresent()) {
            SimulatedLatencyObjectStore.Model model = SimulatedLatencyObjectStore.Model.parse(c.simulatedLatency().get());
            org.slf4j.LoggerFactory.getLogger(Stores.class).warn("strata.object-store.simulated-latency is set: every "
                    + "PUT and GET answers no sooner than a latency drawn from {} (for benchmarks and trials)", model);
            store = new SimulatedLatencyObjectStore(store, model, System.nanoTime());
        }
        return store;
    }

    /** Waits until the object store answers (S3: a HEAD of the bucket, which it creates if so configured). */
    static void check(ObjectStore store, StrataConfig config, Duration timeout) throws Exception {
        if (store instanceof SimulatedLatencyObjectStore simulated) {
            store = simulated.delegate();
        }
        if (store instanceof S3ObjectStore s3) {
            (config.objectStore().s3().createBucket() ? s3.ensureBucket() : s3.checkBucket())
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Opens the metadata store and checks {@code objects}, trying again while either does not answer, and answers
     * the metadata store (kept in {@code closeables}). Says so in one log line, again only when the reason changes
     * or a minute has passed. What cannot be helped by waiting fails the start: a local store that does not open,
     * a store that cannot even be built (a malformed endpoint, say). Ends with an {@link InterruptedException}
     * once {@code stopping} says so.
     */
    static MetadataStore openWhenReachable(StrataConfig config, ObjectStore objects, Closeables closeables,
                                           BooleanSupplier stopping) throws Exception {
        String objectsName = objects instanceof S3ObjectStore s3 ? s3.describe() : "the object store";
        MetadataStore metadata = null;
        String waitingFor = null;
        long loggedAt = 0;
        long backoffMs = 1_000;
        while (true) {
            if (stopping.getAsBoolean()) {
                throw new InterruptedException("stopping");
            }
            String what = describeMetadata(config);
            boolean remote = "etcd".equals(config.metadata().type());
            try {
                if (metadata == null) {
                    metadata = closeables.register(metadata(config));
                }
                what = objectsName;
                remote = "s3".equals(config.objectStore().type());
                check(objects, config, config.objectStore().s3().requestTimeout());
                if (waitingFor != null) {
                    LOG.infof("%s and %s answer: starting", describeMetadata(config), what);
                }
                return metadata;
            } catch (InterruptedException e) {
                throw e;
            } catch (Exception e) {
                if (stopping.getAsBoolean() || Thread.currentThread().isInterrupted()) {
                    throw new InterruptedException("stopping");
                }
                if (!remote || e instanceof IllegalArgumentException) {
                    throw e;
                }
                String reason = what + " does not answer: " + rootCause(e);
                long now = System.nanoTime();
                if (!reason.equals(waitingFor) || now - loggedAt > TimeUnit.MINUTES.toNanos(1)) {
                    LOG.warnf("Not ready: %s. Trying again until it answers.", reason);
                    waitingFor = reason;
                    loggedAt = now;
                }
                Thread.sleep(backoffMs);
                backoffMs = Math.min(backoffMs * 2, 10_000);
            }
        }
    }

    /** The innermost cause of {@code e}, in one line. */
    static String rootCause(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        if (t instanceof java.util.concurrent.TimeoutException) {
            return "no answer in time";
        }
        String message = t.getMessage();
        return t.getClass().getSimpleName() + (message == null ? "" : ": " + message.lines().findFirst().orElse(""));
    }
}
