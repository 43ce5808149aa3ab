package io.strata.server;

import io.strata.metadata.MetadataStore;
import io.strata.metadata.MetadataStores;
import io.strata.server.config.StrataConfig;
import io.strata.storage.object.ObjectStore;
import io.strata.storage.object.local.LocalObjectStore;
import io.strata.storage.object.s3.S3ObjectStore;
import io.strata.storage.object.s3.S3Settings;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;

/**
 * Opens the stores a node's configuration names. A node configured for etcd without endpoints, or for S3
 * without a bucket, refuses to start: it never falls back to local state silently.
 */
final class Stores {
    private Stores() {
    }

    static MetadataStore metadata(StrataConfig config) {
        StrataConfig.Metadata c = config.metadata();
        return switch (c.type()) {
            case "embedded" -> MetadataStores.embedded(Path.of(config.dataDir(), "metadata"), c.shards());
            case "etcd" -> {
                List<String> endpoints = c.etcdEndpoints().filter(l -> !l.isEmpty()).orElseThrow(() ->
                        new IllegalArgumentException("strata.metadata.type=etcd needs strata.metadata.etcd-endpoints"));
                yield MetadataStores.etcd(endpoints, c.root(), c.shards(), c.timeout());
            }
            default -> throw new IllegalArgumentException(
                    "strata.metadata.type must be embedded or etcd, not '" + c.type() + "'");
        };
    }

    static ObjectStore objects(StrataConfig config) {
        StrataConfig.ObjectStoreConfig c = config.objectStore();
        return switch (c.type()) {
            case "local" -> new LocalObjectStore(Path.of(config.dataDir(), "objects"));
            case "s3" -> {
                StrataConfig.ObjectStoreConfig.S3 s3 = c.s3();
                String bucket = s3.bucket().filter(b -> !b.isBlank()).orElseThrow(() ->
                        new IllegalArgumentException("strata.object-store.type=s3 needs strata.object-store.s3.bucket"));
                S3ObjectStore store = new S3ObjectStore(new S3Settings(s3.endpoint().map(URI::create), s3.region(),
                        bucket, s3.prefix().orElse(""), s3.accessKey(), s3.secretKey(), s3.pathStyle(), s3.requestTimeout(),
                        s3.maxConcurrency(), s3.conditionalWrites()));
                if (s3.createBucket()) {
                    store.ensureBucket().join();
                }
                yield store;
            }
            default -> throw new IllegalArgumentException(
                    "strata.object-store.type must be local or s3, not '" + c.type() + "'");
        };
    }
}
