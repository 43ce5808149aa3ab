package io.strata.kafka.fetch;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.MemoryRecords;
import org.junit.jupiter.api.Test;

/** Incremental fetch sessions: what is read, and what is left out of an answer, from one request to the next. */
class FetchSessionsTest {
    private final FetchSessions sessions = new FetchSessions(2);

    private static FetchRequestData request(int sessionId, int epoch, int... partitionsAndOffsets) {
        FetchRequestData data = new FetchRequestData().setSessionId(sessionId).setSessionEpoch(epoch);
        FetchRequestData.FetchTopic t = new FetchRequestData.FetchTopic().setTopic("t");
        for (int i = 0; i < partitionsAndOffsets.length; i += 2) {
            t.partitions().add(new FetchRequestData.FetchPartition().setPartition(partitionsAndOffsets[i])
                    .setFetchOffset(partitionsAndOffsets[i + 1]).setPartitionMaxBytes(1024));
        }
        if (!t.partitions().isEmpty()) {
            data.topics().add(t);
        }
        return data;
    }

    /** An answer for the partitions read, each with this high watermark and no records. */
    private static FetchResponseData answer(List<FetchRequestData.FetchTopic> topics, long highWatermark) {
        FetchResponseData r = new FetchResponseData();
        for (FetchRequestData.FetchTopic t : topics) {
            FetchResponseData.FetchableTopicResponse out = new FetchResponseData.FetchableTopicResponse().setTopic(t.topic());
            t.partitions().forEach(p -> out.partitions().add(new FetchResponseData.PartitionData()
                    .setPartitionIndex(p.partition()).setHighWatermark(highWatermark).setLogStartOffset(0)
                    .setPreferredReadReplica(-1).setRecords(MemoryRecords.EMPTY)));
            r.responses().add(out);
        }
        return r;
    }

    @Test
    void anIncrementalFetchReadsTheWholeSessionAndAnswersOnlyWhatChanged() {
        FetchSessions.Opened full = sessions.open(request(0, 0, 0, 5, 1, 7));
        assertThat(full.sessionId()).isPositive();
        sessions.answered(full, answer(full.topics(), 10));

        // Only partition 0 moved; both are read, and unchanged bounds leave both out of the answer.
        FetchSessions.Opened next = sessions.open(request(full.sessionId(), 1, 0, 6));
        assertThat(next.incremental()).isTrue();
        assertThat(next.topics().get(0).partitions()).extracting(FetchRequestData.FetchPartition::fetchOffset)
                .containsExactly(6L, 7L);
        FetchResponseData quiet = answer(next.topics(), 10);
        sessions.answered(next, quiet);
        assertThat(quiet.responses()).isEmpty();

        // A bound that moved is told; a forgotten partition is no longer read.
        FetchRequestData forget = request(full.sessionId(), 2);
        forget.forgottenTopicsData().add(new FetchRequestData.ForgottenTopic().setTopic("t").setPartitions(List.of(1)));
        FetchSessions.Opened third = sessions.open(forget);
        assertThat(third.topics().get(0).partitions()).extracting(FetchRequestData.FetchPartition::partition)
                .containsExactly(0);
        FetchResponseData moved = answer(third.topics(), 11);
        sessions.answered(third, moved);
        assertThat(moved.responses().get(0).partitions()).extracting(FetchResponseData.PartitionData::highWatermark)
                .containsExactly(11L);
    }

    @Test
    void partitionsThatGaveRecordsAreReadLastNextTime() {
        FetchSessions.Opened full = sessions.open(request(0, 0, 0, 0, 1, 0, 2, 0));
        FetchResponseData first = answer(full.topics(), 10);
        first.responses().get(0).partitions().get(0).setRecords(org.apache.kafka.common.record.MemoryRecords
                .withRecords(org.apache.kafka.common.compress.Compression.NONE,
                        new org.apache.kafka.common.record.SimpleRecord(new byte[] {1})));
        sessions.answered(full, first);
        FetchSessions.Opened next = sessions.open(request(full.sessionId(), 1, 0, 1));
        assertThat(next.topics().get(0).partitions()).extracting(FetchRequestData.FetchPartition::partition)
                .containsExactly(1, 2, 0);
    }

    @Test
    void aWrongEpochOrAnUnknownSessionIsRefusedAndAFullFetchStartsAgain() {
        FetchSessions.Opened full = sessions.open(request(0, 0, 0, 0));
        assertThat(sessions.open(request(full.sessionId(), 5, 0, 0)).error()).isEqualTo(Errors.INVALID_FETCH_SESSION_EPOCH);
        assertThat(sessions.open(request(12345, 1, 0, 0)).error()).isEqualTo(Errors.FETCH_SESSION_ID_NOT_FOUND);
        // Bounded: with every slot taken by a session in use, a new fetch gets none (full fetches go on) and
        // evicts nobody.
        sessions.open(request(0, 0, 0, 0));
        FetchSessions.Opened none = sessions.open(request(0, 0, 0, 0));
        assertThat(none.sessionId()).isZero();
        assertThat(none.topics()).hasSize(1);
        assertThat(sessions.size()).isEqualTo(2);
        assertThat(sessions.open(request(full.sessionId(), 1, 0, 0)).error()).isNull();
        // The final epoch closes a session and reads what it names, as a full fetch.
        FetchSessions.Opened closing = sessions.open(request(0, -1, 3, 9));
        assertThat(closing.sessionId()).isZero();
        assertThat(closing.topics().get(0).partitions()).hasSize(1);
    }
}
