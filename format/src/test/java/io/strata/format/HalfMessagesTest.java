package io.strata.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class HalfMessagesTest {
    @Test
    void aHalfMessagesIdNamesItsTopicIncarnationPartitionAndOffsetAndReadsBack() {
        HalfMessages.Id id = new HalfMessages.Id(42, 3, 1_000_000_007L);
        assertThat(id.toString()).isEqualTo("h-42-3-1000000007");
        assertThat(HalfMessages.Id.parse(id.toString())).isEqualTo(id);
        for (String bad : new String[] {"", "h-1-2", "x-1-2-3", "h-0-1-2", "h-1--1-2", "h-1-2-x", "h-1-2-3-4"}) {
            assertThatThrownBy(() -> HalfMessages.Id.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void aHalfLogIsAStagingLogApartFromTheDelayedRecordsOne() {
        int log = HalfMessages.log(7);
        assertThat(HalfMessages.isLog(log)).isTrue();
        assertThat(log & DeliverAt.STAGING_BIT).isNotZero();
        assertThat(HalfMessages.isLog(7 | DeliverAt.STAGING_BIT)).as("the delayed records' staging log").isFalse();
        assertThat(HalfMessages.target(log)).isEqualTo(7);
        assertThat(HalfMessages.target(7 | DeliverAt.STAGING_BIT)).isEqualTo(7);
    }

    @Test
    void aHalfMessageNamesAValidProducerGroupInItsLastGroupHeader() {
        assertThat(HalfMessages.groupOf(List.of(HalfMessages.groupHeader("a"), HalfMessages.groupHeader("shop"))))
                .isEqualTo("shop");
        assertThat(HalfMessages.groupOf(List.of())).isNull();
        assertThat(HalfMessages.groupProblem("shop")).isNull();
        assertThat(HalfMessages.groupProblem("")).contains("names its producer group");
        assertThat(HalfMessages.groupProblem("a/b")).contains("no '/'");
        assertThat(HalfMessages.groupProblem("x".repeat(250))).contains("at most 249");
    }
}
