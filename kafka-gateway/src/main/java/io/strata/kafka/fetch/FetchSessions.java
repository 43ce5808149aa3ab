package io.strata.kafka.fetch;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.protocol.Errors;

/**
 * Incremental fetch sessions (KIP-227): a consumer that reads many partitions sends, after its first full Fetch,
 * only the partitions whose position changed, and is answered only for the partitions that have records or whose
 * bounds moved. The session (its partitions, their positions and the bounds last told) lives on the node that
 * opened it; at most {@code maxSessions} are kept, the least recently used going first, and a client whose
 * session is gone is told so and starts again with a full Fetch. Thread-safe.
 */
final class FetchSessions {
    /** How long a session must have been idle before a new one may take its place when the cache is full. */
    static final long IDLE_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(120);
    private final int maxSessions;
    private final LinkedHashMap<Integer, Session> sessions = new LinkedHashMap<>(16, 0.75f, true);

    FetchSessions(int maxSessions) {
        this.maxSessions = maxSessions;
    }

    /** One partition of a session: where the client reads it, and the bounds it was last told. */
    private static final class Entry {
        final String topic;
        final Uuid topicId;
        final int partition;
        long fetchOffset;
        int maxBytes;
        long highWatermark = Long.MIN_VALUE;
        long logStartOffset = Long.MIN_VALUE;

        Entry(String topic, Uuid topicId, int partition) {
            this.topic = topic;
            this.topicId = topicId;
            this.partition = partition;
        }
    }

    static final class Session {
        final int id;
        int epoch = 1;
        long usedNanos = System.nanoTime();
        final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>();

        Session(int id) {
            this.id = id;
        }
    }

    /**
     * What a Fetch reads: an error for the whole request, or the partitions to read (all of the session's for an
     * incremental one) and the session its answer is for (null: none).
     */
    record Opened(Errors error, List<FetchRequestData.FetchTopic> topics, Session session, boolean incremental) {
        int sessionId() {
            return session == null ? 0 : session.id;
        }
    }

    private static String key(String topic, Uuid topicId, int partition) {
        return (topicId != null && !Uuid.ZERO_UUID.equals(topicId) ? topicId.toString() : topic) + "/" + partition;
    }

    synchronized Opened open(FetchRequestData data) {
        int epoch = data.sessionEpoch();
        if (epoch == -1) { // FINAL_EPOCH: a full fetch that closes the session, if any
            sessions.remove(data.sessionId());
            return new Opened(null, data.topics(), null, false);
        }
        if (epoch == 0) { // INITIAL_EPOCH: a full fetch that opens a session
            sessions.remove(data.sessionId());
            if (sessions.size() >= maxSessions) {
                // Full: only a session idle for a while makes room (as Kafka's cache does). Consumers fetch in
                // turn, so evicting the least recently used would evict the one about to fetch next; without room
                // the fetch is answered without a session, and the client goes on with full fetches.
                Iterator<Session> eldest = sessions.values().iterator();
                if (System.nanoTime() - eldest.next().usedNanos > IDLE_NANOS) {
                    eldest.remove();
                } else {
                    return new Opened(null, data.topics(), null, false);
                }
            }
            Session s = new Session(newId());
            upsert(s, data);
            sessions.put(s.id, s);
            return new Opened(null, data.topics(), s, false);
        }
        Session s = data.sessionId() == 0 ? null : sessions.get(data.sessionId());
        if (s == null) {
            return new Opened(data.sessionId() == 0 ? Errors.INVALID_FETCH_SESSION_EPOCH : Errors.FETCH_SESSION_ID_NOT_FOUND,
                    List.of(), null, true);
        }
        if (epoch != s.epoch) {
            return new Opened(Errors.INVALID_FETCH_SESSION_EPOCH, List.of(), null, true);
        }
        s.usedNanos = System.nanoTime();
        upsert(s, data);
        for (FetchRequestData.ForgottenTopic f : data.forgottenTopicsData()) {
            for (int p : f.partitions()) {
                s.entries.remove(key(f.topic(), f.topicId(), p));
            }
        }
        s.epoch = epoch == Integer.MAX_VALUE ? 1 : epoch + 1;
        Map<String, FetchRequestData.FetchTopic> topics = new LinkedHashMap<>();
        for (Entry e : s.entries.values()) {
            String topicKey = key(e.topic, e.topicId, -1);
            topics.computeIfAbsent(topicKey, k -> new FetchRequestData.FetchTopic().setTopic(e.topic)
                    .setTopicId(e.topicId == null ? Uuid.ZERO_UUID : e.topicId)).partitions()
                    .add(new FetchRequestData.FetchPartition().setPartition(e.partition).setFetchOffset(e.fetchOffset)
                            .setPartitionMaxBytes(e.maxBytes));
        }
        return new Opened(null, new ArrayList<>(topics.values()), s, true);
    }

    private static void upsert(Session s, FetchRequestData data) {
        for (FetchRequestData.FetchTopic t : data.topics()) {
            for (FetchRequestData.FetchPartition p : t.partitions()) {
                Entry e = s.entries.computeIfAbsent(key(t.topic(), t.topicId(), p.partition()),
                        k -> new Entry(t.topic(), t.topicId(), p.partition()));
                e.fetchOffset = p.fetchOffset();
                e.maxBytes = p.partitionMaxBytes();
            }
        }
    }

    private int newId() {
        int id;
        do {
            id = ThreadLocalRandom.current().nextInt(1, Integer.MAX_VALUE);
        } while (sessions.containsKey(id));
        return id;
    }

    /**
     * Notes what the answer told of each partition and, for an incremental fetch, leaves out the partitions with
     * nothing new: no records, no error, no read replica to name, the same bounds as last told, or not read at all.
     */
    synchronized void answered(Opened opened, FetchResponseData response) {
        Session s = opened.session();
        if (s == null) {
            return;
        }
        for (Iterator<FetchResponseData.FetchableTopicResponse> topics = response.responses().iterator();
             topics.hasNext(); ) {
            FetchResponseData.FetchableTopicResponse t = topics.next();
            for (Iterator<FetchResponseData.PartitionData> parts = t.partitions().iterator(); parts.hasNext(); ) {
                FetchResponseData.PartitionData p = parts.next();
                Entry e = s.entries.get(key(t.topic(), t.topicId(), p.partitionIndex()));
                boolean quiet = p.errorCode() == Errors.NONE.code() && p.preferredReadReplica() < 0
                        && (p.records() == null || p.records().sizeInBytes() == 0);
                boolean unread = quiet && p.highWatermark() < 0;
                boolean same = e != null && p.highWatermark() == e.highWatermark
                        && p.logStartOffset() == e.logStartOffset;
                if (opened.incremental() && quiet && (unread || same)) {
                    parts.remove();
                    continue;
                }
                if (e != null && !unread) {
                    e.highWatermark = p.highWatermark();
                    e.logStartOffset = p.logStartOffset();
                    if (p.records() != null && p.records().sizeInBytes() > 0) {
                        // Read last next time: partitions that found nothing, or were not reached, come first.
                        s.entries.remove(key(t.topic(), t.topicId(), p.partitionIndex()));
                        s.entries.put(key(t.topic(), t.topicId(), p.partitionIndex()), e);
                    }
                }
            }
            if (opened.incremental() && t.partitions().isEmpty()) {
                topics.remove();
            }
        }
    }

    synchronized int size() {
        return sessions.size();
    }
}
