package io.strata.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class AdminTest {
    private final FakeStrata fake = new FakeStrata();
    private final StrataClient client = fake.client();
    private final Admin admin = client.admin();

    @AfterEach
    void stop() throws InterruptedException {
        client.close();
        fake.close();
    }

    @Test
    void aCreatedTopicIsListedAndDescribedWithEachPartitionsRange() {
        TopicInfo created = admin.createTopic("orders", 2, 60_000, 1 << 20);
        fake.append("orders", 1, "a", "b");
        fake.truncate("orders", 1, 1);

        assertThat(created.retentionMs()).isEqualTo(60_000);
        assertThat(created.retentionBytes()).isEqualTo(1 << 20);
        assertThat(admin.listTopics()).extracting(TopicInfo::name).containsExactly("orders");
        assertThat(admin.describeTopic("orders").partitionDetails())
                .containsExactly(new PartitionInfo(0, 0, 0), new PartitionInfo(1, 1, 2));
    }

    @Test
    void creatingATakenNameFailsWithAlreadyExists() {
        admin.createTopic("orders", 1);
        assertThatThrownBy(() -> admin.createTopic("orders", 1))
                .isInstanceOfSatisfying(StrataException.class,
                        e -> assertThat(e.code()).isEqualTo(Status.Code.ALREADY_EXISTS));
    }

    @Test
    void describingAnUnknownTopicCarriesTheServersDescription() {
        assertThatThrownBy(() -> admin.describeTopic("nope"))
                .isInstanceOfSatisfying(StrataException.class, e -> {
                    assertThat(e.code()).isEqualTo(Status.Code.NOT_FOUND);
                    assertThat(e.description()).isEqualTo("unknown topic 'nope'");
                });
    }

    @Test
    void listOffsetsAsksForTheEarliestLatestOrTimestampPosition() {
        admin.createTopic("orders", 1);
        fake.append("orders", 0, "t0", "t1000", "t2000");
        fake.truncate("orders", 0, 1);

        assertThat(admin.listOffsets("orders", 0, OffsetQuery.earliest())).isEqualTo(new ListedOffset(1, -1));
        assertThat(admin.listOffsets("orders", 0, OffsetQuery.latest())).isEqualTo(new ListedOffset(3, -1));
        assertThat(admin.listOffsets("orders", 0, OffsetQuery.atTimestamp(1500))).isEqualTo(new ListedOffset(2, 2000));
        assertThat(admin.listOffsets("orders", 0, OffsetQuery.atTimestamp(9999))).isEqualTo(new ListedOffset(3, -1));
    }

    @Test
    void aDeletedTopicIsGone() {
        admin.createTopic("orders", 1);
        admin.deleteTopic("orders");
        assertThat(admin.listTopics()).isEmpty();
    }
}
