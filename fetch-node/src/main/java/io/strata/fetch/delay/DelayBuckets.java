package io.strata.fetch.delay;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.strata.queues.delay.DelayBucketCodec;
import io.strata.queues.delay.DelayState;
import io.strata.queues.delay.DelayedEntry;
import io.strata.queues.delay.DeliveryRound;
import io.strata.storage.object.ByteRange;
import io.strata.storage.object.ObjectKey;
import io.strata.storage.object.ObjectStore;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Delay buckets in the object store, read a segment at a time: what a delivery round needs of each bucket is its
 * footer and the segment holding its next entry, both kept in bounded caches (a bucket's objects never change, so
 * nothing cached goes stale). Memory is bounded by the caches, whatever the buckets hold. Blocking calls, with a
 * timeout each; thread-safe.
 */
final class DelayBuckets {
    /** About this much of a bucket is read at a time. */
    static final int SEGMENT_BYTES = 64 << 10;
    private static final long TIMEOUT_S = 30;

    private final ObjectStore objects;
    private final Cache<String, DelayBucketCodec.Footer> footers;
    private final Cache<String, List<DelayedEntry>> segments;

    DelayBuckets(ObjectStore objects, long maxCachedBytes) {
        this.objects = objects;
        this.footers = Caffeine.newBuilder().maximumWeight(maxCachedBytes / 4)
                .weigher((String k, DelayBucketCodec.Footer f) -> 64 + 64 * f.segments().size()).build();
        this.segments = Caffeine.newBuilder().maximumWeight(maxCachedBytes)
                .weigher((String k, List<DelayedEntry> v) -> (int) Math.min(Integer.MAX_VALUE,
                        v.stream().mapToLong(e -> e.record().length + 48L).sum()))
                .build();
    }

    /** Writes the entries (sorted) as the bucket {@code key}. */
    DelayState.Bucket write(String key, List<DelayedEntry> sorted) throws Exception {
        byte[] bytes = DelayBucketCodec.encode(sorted, SEGMENT_BYTES);
        objects.put(ObjectKey.of(key), ByteBuffer.wrap(bytes)).get(TIMEOUT_S, TimeUnit.SECONDS);
        DelayState.Bucket bucket = new DelayState.Bucket(key, sorted.size(), 0, sorted.get(0).dueMs(),
                sorted.get(sorted.size() - 1).dueMs(), bytes.length);
        // What was just written is known: its footer, and its first segment (what a round reads first), are cached
        // without reading them back.
        ByteBuffer all = ByteBuffer.wrap(bytes);
        DelayBucketCodec.Trailer trailer = DelayBucketCodec.trailer(all.slice(bytes.length
                - DelayBucketCodec.TRAILER_BYTES, DelayBucketCodec.TRAILER_BYTES), bytes.length);
        DelayBucketCodec.Footer footer = DelayBucketCodec.footer(all.slice(bytes.length - DelayBucketCodec.TRAILER_BYTES
                - trailer.footerLength(), trailer.footerLength()), trailer, bytes.length);
        footers.put(key, footer);
        // A copy, not a view: the rest of the list may go.
        segments.put(key + "#0", List.copyOf(sorted.subList(0, footer.segments().get(0).count())));
        return bucket;
    }

    DelayBucketCodec.Footer footer(DelayState.Bucket b) throws Exception {
        DelayBucketCodec.Footer cached = footers.getIfPresent(b.objectKey());
        if (cached != null) {
            return cached;
        }
        ObjectKey key = ObjectKey.of(b.objectKey());
        ByteBuffer tail = objects.get(key, ByteRange.of(b.bytes() - DelayBucketCodec.TRAILER_BYTES,
                DelayBucketCodec.TRAILER_BYTES)).get(TIMEOUT_S, TimeUnit.SECONDS);
        DelayBucketCodec.Trailer trailer = DelayBucketCodec.trailer(tail, b.bytes());
        ByteBuffer footerBytes = objects.get(key, ByteRange.of(b.bytes() - DelayBucketCodec.TRAILER_BYTES
                - trailer.footerLength(), trailer.footerLength())).get(TIMEOUT_S, TimeUnit.SECONDS);
        DelayBucketCodec.Footer footer = DelayBucketCodec.footer(footerBytes, trailer, b.bytes());
        if (footer.count() != b.count()) {
            throw new IllegalStateException("bucket " + b.objectKey() + " holds " + footer.count() + " entries, its "
                    + "state says " + b.count());
        }
        footers.put(b.objectKey(), footer);
        return footer;
    }

    List<DelayedEntry> segment(DelayState.Bucket b, int index) throws Exception {
        String cacheKey = b.objectKey() + "#" + index;
        List<DelayedEntry> cached = segments.getIfPresent(cacheKey);
        if (cached != null) {
            return cached;
        }
        DelayBucketCodec.Segment s = footer(b).segments().get(index);
        ByteBuffer bytes = objects.get(ObjectKey.of(b.objectKey()), ByteRange.of(s.byteOffset(), s.byteLength()))
                .get(TIMEOUT_S, TimeUnit.SECONDS);
        List<DelayedEntry> entries = DelayBucketCodec.segment(bytes, s);
        segments.put(cacheKey, entries);
        return entries;
    }

    /** What a bucket offers a round at {@code nowMs}: its head, or null when nothing in it is due yet. */
    DeliveryRound.Head head(DelayState.Bucket b, long nowMs) throws Exception {
        DelayBucketCodec.Footer footer = footer(b);
        int s = footer.segmentOf(b.delivered());
        if (s < 0 || footer.segments().get(s).firstDueMs() > nowMs) {
            return null; // the segment's first entry is no later than its next one: nothing due in this bucket
        }
        return new DeliveryRound.Head(b.objectKey(), footer.firstIndex(s), segment(b, s), b.delivered(),
                s == footer.segments().size() - 1);
    }

    /** When the bucket's next entry is due (as far as cheap to know: at least this). */
    long nextDue(DelayState.Bucket b) throws Exception {
        DelayBucketCodec.Footer footer = footer(b);
        int s = footer.segmentOf(b.delivered());
        if (s < 0) {
            return Long.MAX_VALUE;
        }
        List<DelayedEntry> loaded = segments.getIfPresent(b.objectKey() + "#" + s);
        return loaded == null ? footer.segments().get(s).firstDueMs()
                : loaded.get((int) (b.delivered() - footer.firstIndex(s))).dueMs();
    }

    /** The bucket's entries [from, to), in its order. */
    List<DelayedEntry> slice(DelayState.Bucket b, long from, long to) throws Exception {
        DelayBucketCodec.Footer footer = footer(b);
        List<DelayedEntry> out = new ArrayList<>((int) Math.min(to - from, 1 << 16));
        for (int s = footer.segmentOf(from); s >= 0 && s < footer.segments().size(); s++) {
            long first = footer.firstIndex(s);
            if (first >= to) {
                break;
            }
            List<DelayedEntry> entries = segment(b, s);
            for (int i = (int) Math.max(0, from - first); i < entries.size() && first + i < to; i++) {
                out.add(entries.get(i));
            }
        }
        if (out.size() != to - from) {
            throw new IllegalStateException("bucket " + b.objectKey() + " holds " + out.size() + " of entries ["
                    + from + ", " + to + ")");
        }
        return out;
    }

    /** Removes buckets no state names any more (best effort: a bucket left behind is only storage). */
    void delete(Set<String> keys) {
        if (keys.isEmpty()) {
            return;
        }
        keys.forEach(footers::invalidate);
        objects.delete(keys.stream().map(ObjectKey::of).collect(Collectors.toSet()));
    }
}
