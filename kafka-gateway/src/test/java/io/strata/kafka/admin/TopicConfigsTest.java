package io.strata.kafka.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.strata.api.v1.AlterTopicRequest;
import io.strata.api.v1.CreateTopicRequest;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which Kafka topic configs a create or alter takes, as frameworks send them. */
class TopicConfigsTest {
    @Test
    void theConfigsKafkaStreamsSetsOnItsChangelogAndRepartitionTopicsAreTaken() {
        CreateTopicRequest.Builder changelog = CreateTopicRequest.newBuilder().setName("app-store-changelog");
        Map.of("cleanup.policy", "compact", "message.timestamp.type", "CreateTime")
                .forEach((name, value) -> TopicConfigs.apply(changelog, name, value));
        assertThat(changelog.getCleanupPolicy()).isEqualTo("compact");

        CreateTopicRequest.Builder repartition = CreateTopicRequest.newBuilder().setName("app-repartition");
        Map.of("cleanup.policy", "delete", "segment.bytes", "52428800", "retention.ms", "-1",
                "message.timestamp.type", "CreateTime").forEach((name, value) ->
                TopicConfigs.apply(repartition, name, value));
        assertThat(repartition.getRetentionMs()).isEqualTo(-1);

        TopicConfigs.apply(AlterTopicRequest.newBuilder(), "message.timestamp.type", null); // back to the default
        TopicConfigs.apply(AlterTopicRequest.newBuilder(), "message.timestamp.type", " CreateTime");
    }

    @Test
    void logAppendTimeIsRefusedAsAnInvalidConfigSayingWhy() {
        assertThatThrownBy(() -> TopicConfigs.apply(CreateTopicRequest.newBuilder(), "message.timestamp.type",
                "LogAppendTime")).isInstanceOf(TopicConfigs.Invalid.class).hasMessageContaining("only be CreateTime");
        assertThatThrownBy(() -> TopicConfigs.apply(CreateTopicRequest.newBuilder(), "compression.tpye", "zstd"))
                .isInstanceOf(TopicConfigs.Invalid.class).hasMessageContaining("unknown or unsupported");
    }

    @Test
    void describeShowsCreateTimeAsTheTimestampTypesDefault() {
        io.strata.metadata.Topic topic = new io.strata.metadata.Topic("t", 1, 1, -1, -1, 0,
                io.strata.metadata.CleanupPolicy.COMPACT, 60_000);
        var described = TopicConfigs.describe(topic, java.util.List.of("message.timestamp.type"), 1 << 20);
        assertThat(described).singleElement().satisfies(c -> {
            assertThat(c.value()).isEqualTo("CreateTime");
            assertThat(c.readOnly()).isFalse();
            assertThat(c.configSource()).isEqualTo(
                    org.apache.kafka.common.requests.DescribeConfigsResponse.ConfigSource.DEFAULT_CONFIG.id());
        });
    }
}
