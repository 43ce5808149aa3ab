package io.strata.metadata;

import io.strata.metadata.codec.MetadataCodec;
import io.strata.metadata.kv.KeyValue;
import io.strata.metadata.kv.KvStore;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Which topic ids exist, for commits: a chunk of a topic that was deleted (or deleted and re-created, which
 * gives the name a new id) must not be committed, though ingest nodes learn of the deletion only when their
 * topic cache expires.
 *
 * <p>Every deletion rewrites {@link KeyLayout#topicDeletions()}; a commit reads that key with its heads and
 * guards its mod revision, so a deletion between the read and the transaction fails the guard and the commit
 * looks again. The set of ids is read (one range over the topics) only when that revision moved or a commit
 * names an id the set has not seen (a topic created since); between deletions it costs nothing. A set read
 * after the revision it is labelled with is still right for it: deletions it saw on top make a commit that
 * uses it fail its guard, and creations it saw are topics that exist. Thread-safe.
 */
final class LiveTopics {
    private record Known(long deletionsRevision, Set<Long> ids, long maxId) {
        /** Whether every id is decided: present, or at most the largest id seen and absent (deleted for good). */
        boolean decides(Set<Long> wanted) {
            for (long id : wanted) {
                if (id > maxId) {
                    return false;
                }
            }
            return true;
        }
    }

    private final KvStore kv;
    private final KeyLayout keys;
    private final java.util.function.BiConsumer<Set<Long>, Long> onDeletions;
    private volatile Known known = new Known(-1, Set.of(), 0);

    /**
     * @param onDeletions told, after each read of the topics (a deletion or a creation happened), the live ids
     *                    and the largest id read: ids at most that one and not live were deleted for good
     *                    (ids are never reused)
     */
    LiveTopics(KvStore kv, KeyLayout keys, java.util.function.BiConsumer<Set<Long>, Long> onDeletions) {
        this.kv = kv;
        this.keys = keys;
        this.onDeletions = onDeletions;
    }

    /**
     * The ids among {@code wanted} whose topic exists, as of the deletions key at {@code deletionsRevision}
     * (its mod revision; 0 when no topic was ever deleted).
     */
    CompletableFuture<Set<Long>> liveAmong(long deletionsRevision, Set<Long> wanted) {
        Known k = known;
        if (k.deletionsRevision == deletionsRevision && k.decides(wanted)) {
            return CompletableFuture.completedFuture(present(k, wanted));
        }
        return kv.range(keys.topicsPrefix()).thenApply(range -> {
            Set<Long> ids = new HashSet<>();
            long max = 0;
            for (KeyValue v : range.entries()) {
                long id = MetadataCodec.decodeTopic(v.key(), v.value()).topicId();
                ids.add(id);
                max = Math.max(max, id);
            }
            Known fresh = new Known(deletionsRevision, Set.copyOf(ids), max);
            known = fresh;
            onDeletions.accept(fresh.ids, fresh.maxId);
            return present(fresh, wanted);
        });
    }

    private static Set<Long> present(Known k, Set<Long> wanted) {
        Set<Long> live = new HashSet<>(wanted);
        live.retainAll(k.ids);
        return live;
    }
}
