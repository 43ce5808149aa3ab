package io.strata.it;

import io.strata.metadata.IndexEntry;
import io.strata.metadata.IndexListener;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.MetadataStores;
import io.strata.storage.object.ListPage;
import io.strata.storage.object.ObjectInfo;
import io.strata.storage.object.s3.S3ObjectStore;
import io.strata.storage.object.s3.S3Settings;
import io.strata.testkit.etcd.EtcdFixture;
import io.strata.testkit.s3.S3ServerFixture;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Reads a test cluster's index straight from etcd and its objects straight from the bucket, to check what
 * the nodes did against what must hold: every entry's object exists, every object is referenced (once the
 * garbage had its time), the history is compacted.
 */
final class ClusterInspector implements AutoCloseable {
    private final MetadataStore metadata;
    private final S3ObjectStore objects;

    ClusterInspector(String root, String bucket, int shards) {
        metadata = MetadataStores.etcd(List.of(EtcdFixture.shared().endpoint()), root, shards, Duration.ofSeconds(10));
        S3ServerFixture s3 = S3ServerFixture.shared();
        objects = new S3ObjectStore(S3Settings.forEndpoint(s3.endpoint(), s3.region(), bucket, s3.accessKey(),
                s3.secretKey()));
    }

    MetadataStore metadata() {
        return metadata;
    }

    /** Every index entry of every shard (each shard read at one revision). */
    List<IndexEntry> entries() {
        List<IndexEntry> all = new ArrayList<>();
        for (int s = 0; s < metadata.cluster().shards(); s++) {
            all.addAll(metadata.compaction().readShard(s).join().entries());
        }
        return all;
    }

    /** The keys of the bucket's objects under wal/ and segments/. */
    List<String> objects() {
        List<String> keys = new ArrayList<>();
        for (String prefix : List.of("wal/", "segments/")) {
            String after = null;
            do {
                ListPage page = objects.listPage(prefix, after, 1000).join();
                page.objects().stream().map(ObjectInfo::key).forEach(k -> keys.add(k.value()));
                after = page.nextStartAfter();
            } while (after != null);
        }
        return keys;
    }

    /**
     * Entries whose object is not in the bucket (must be none, ever). An entry counts only if it is in the
     * index both before and after the listing: it was referenced all along, while a block committed during
     * the listing may be missing from it without anything being wrong.
     */
    List<IndexEntry> dangling() {
        Set<IndexEntry> before = new HashSet<>(entries());
        Set<String> present = new HashSet<>(objects());
        return entries().stream().filter(before::contains).filter(e -> !present.contains(e.objectKey())).toList();
    }

    /** Objects no entry references (the collector takes them after its grace). */
    List<String> unreferenced() {
        Set<String> referenced = new HashSet<>();
        entries().forEach(e -> referenced.add(e.objectKey()));
        return objects().stream().filter(k -> !referenced.contains(k)).toList();
    }

    /** Whether the store's history before {@code revision} was compacted away (a watch from it breaks). */
    boolean historyCompactedPast(long revision) throws Exception {
        CompletableFuture<Boolean> broken = new CompletableFuture<>();
        try (AutoCloseable watch = metadata.watchIndex(revision, new IndexListener() {
            @Override
            public void onEntry(IndexEntry entry) {
                broken.complete(false);
            }

            @Override
            public void onReset(Throwable cause) {
                broken.complete(true);
            }
        })) {
            return broken.completeOnTimeout(false, 3, TimeUnit.SECONDS).get();
        }
    }

    @Override
    public void close() {
        objects.close();
        metadata.close();
    }
}
