package io.strata.compaction.gc;

import static io.strata.compaction.Blocking.await;

import io.strata.compaction.CompactionSettings;
import io.strata.compaction.CompactionStats;
import io.strata.metadata.GcMarker;
import io.strata.metadata.IndexEntry;
import io.strata.metadata.ShardSnapshot;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.WorkLock;
import io.strata.storage.object.ListPage;
import io.strata.storage.object.ObjectInfo;
import io.strata.storage.object.ObjectKey;
import io.strata.storage.object.ObjectStore;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes what nothing references: WAL blocks whose chunks were all merged or expired, segments merged
 * again or expired, objects of deleted topics, blocks uploaded but never committed (their node died before
 * the commit), and incomplete writes. One pass, under the "gc" lock: read the markers, read which objects
 * the index references (after the markers, shard by shard), then walk the bucket's {@code wal/} and
 * {@code segments/} (and the producer snapshots under {@code producer-state/}, and starting ingest nodes'
 * test blocks under {@code strata-warmup/}) a page at a time (bounded memory however large the bucket) and
 * act per {@link GcPolicy}. Objects under other prefixes are never touched. Finally it compacts the metadata store's
 * revision history, so etcd's database stays bounded too.
 *
 * <p>Blocking: runs on the worker's thread.
 */
public final class GarbageCollector {
    private static final Logger LOG = LoggerFactory.getLogger(GarbageCollector.class);
    /**
     * Where Strata writes objects; {@code strata-warmup/}: a starting ingest node's test blocks whose delete
     * failed (the ingest module's StartupWarmup.PREFIX, which this module does not depend on).
     */
    private static final List<String> PREFIXES = List.of("wal/", "segments/", "producer-state/", "strata-warmup/");
    private static final int PAGE = 1000;

    private final MetadataStore metadata;
    private final ObjectStore objects;
    private final CompactionSettings settings;
    private final CompactionStats stats;
    private final Clock clock;

    public GarbageCollector(MetadataStore metadata, ObjectStore objects, CompactionSettings settings,
                            CompactionStats stats, Clock clock) {
        this.metadata = metadata;
        this.objects = objects;
        this.settings = settings;
        this.stats = stats;
        this.clock = clock;
    }

    /** What one pass did. */
    public record Outcome(long listed, long referenced, int marked, int unmarked, int deleted, int markersDropped,
                          int incomplete, long historyCompactedTo) {
    }

    public Outcome pass(WorkLock lock) {
        long now = clock.millis();
        long grace = settings.gcGrace().toMillis();
        Map<String, GcMarker> markers = new HashMap<>(await(metadata.compaction().readMarkers()));
        Set<String> referenced = new HashSet<>();
        for (int shard = 0; shard < metadata.cluster().shards(); shard++) {
            ShardSnapshot read = await(metadata.compaction().readShard(shard));
            for (IndexEntry e : read.entries()) {
                referenced.add(e.objectKey());
            }
            if (read.state().producers() != null && read.state().producers().hasObject()) {
                referenced.add(read.state().producers().objectKey());
            }
        }
        List<GcMarker> toMark = new ArrayList<>();
        List<String> toUnmark = new ArrayList<>();
        Map<String, GcMarker> toDelete = new HashMap<>();
        long listed = 0;
        int deleted = 0;
        for (String prefix : PREFIXES) {
            String after = null;
            do {
                ListPage page = await(objects.listPage(prefix, after, PAGE));
                for (ObjectInfo o : page.objects()) {
                    listed++;
                    String key = o.key().value();
                    GcMarker marker = markers.remove(key);
                    long modified = o.lastModified().toEpochMilli();
                    switch (GcPolicy.decide(referenced.contains(key), marker, modified, now, grace)) {
                        case MARK -> toMark.add(new GcMarker(key, now, modified, false));
                        case UNMARK -> toUnmark.add(key);
                        case DELETE -> toDelete.put(key, new GcMarker(key, marker.firstUnreferencedMs(), modified, true));
                        case KEEP -> {
                        }
                    }
                }
                if (toDelete.size() >= PAGE) {
                    deleted += delete(toDelete, lock, now);
                }
                after = page.nextStartAfter();
            } while (after != null);
        }
        deleted += delete(toDelete, lock, now);
        long window = CompactionSettings.COMMIT_WINDOW.toMillis();
        List<String> dropped = new ArrayList<>(toUnmark);
        markers.values().stream().filter(m -> GcPolicy.markerExpired(m, false, now, window))
                .forEach(m -> dropped.add(m.objectKey()));
        await(metadata.compaction().putMarkers(toMark, lock));
        await(metadata.compaction().deleteMarkers(dropped, lock));
        int incomplete = await(objects.deleteIncomplete(Instant.ofEpochMilli(now - grace)));
        long history = await(metadata.compaction().compactHistory(settings.historyKeep(), lock));
        Outcome outcome = new Outcome(listed, referenced.size(), toMark.size(), toUnmark.size(), deleted,
                dropped.size() - toUnmark.size(), incomplete, history);
        stats.gcPass(outcome);
        if (outcome.marked() + outcome.deleted() + outcome.unmarked() + outcome.incomplete() > 0) {
            LOG.info("garbage: {} objects listed, {} referenced; {} marked, {} deleted, {} re-referenced, {} "
                    + "incomplete writes removed", listed, referenced.size(), toMark.size(), deleted,
                    toUnmark.size(), incomplete);
        }
        return outcome;
    }

    /**
     * Deletes the objects, then notes them as deleted in their markers, which stay (fencing late commits) until
     * the objects' commit window has passed, then go.
     */
    private int delete(Map<String, GcMarker> toDelete, WorkLock lock, long now) {
        if (toDelete.isEmpty()) {
            return 0;
        }
        Set<ObjectKey> keys = new HashSet<>();
        toDelete.keySet().forEach(k -> keys.add(ObjectKey.of(k)));
        Set<ObjectKey> gone = await(objects.delete(keys));
        long window = CompactionSettings.COMMIT_WINDOW.toMillis();
        List<GcMarker> keep = new ArrayList<>();
        List<String> drop = new ArrayList<>();
        for (ObjectKey k : gone) {
            GcMarker m = toDelete.get(k.value());
            if (GcPolicy.markerExpired(m, false, now, window)) {
                drop.add(m.objectKey());
            } else {
                keep.add(m);
            }
        }
        await(metadata.compaction().putMarkers(keep, lock));
        await(metadata.compaction().deleteMarkers(drop, lock));
        toDelete.clear();
        return gone.size();
    }
}
