package io.strata.kafka.admin;

import io.strata.api.v1.AlterTopicRequest;
import io.strata.api.v1.CreateTopicRequest;
import io.strata.metadata.CleanupPolicy;
import io.strata.metadata.Topic;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.message.DescribeConfigsResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.DescribeConfigsResponse;

/**
 * Kafka's topic configs as Strata's topic settings. Four are a topic's own and can be set and changed:
 * {@code retention.ms}, {@code retention.bytes}, {@code cleanup.policy}, {@code delete.retention.ms};
 * {@code max.message.bytes} is the node's record limit, shown read-only, and {@code message.timestamp.type} is
 * {@code CreateTime}, its default, and can be set to nothing else. Configs about replicas and local log
 * files (which Strata has none of: durability is the object store's) are accepted and have no effect, so that
 * tools and frameworks that set them (Kafka Connect's internal topics, say) work; any other name is refused
 * with {@code INVALID_CONFIG}, never silently dropped.
 */
public final class TopicConfigs {
    public static final String RETENTION_MS = "retention.ms";
    public static final String RETENTION_BYTES = "retention.bytes";
    public static final String CLEANUP_POLICY = "cleanup.policy";
    public static final String DELETE_RETENTION_MS = "delete.retention.ms";
    public static final String MAX_MESSAGE_BYTES = "max.message.bytes";
    /** Only {@code CreateTime}, what Strata does: Kafka Streams sets it on every topic it creates. */
    public static final String MESSAGE_TIMESTAMP_TYPE = "message.timestamp.type";

    /** Accepted, without effect: they tune replicas and local segment files, which Strata does not have. */
    static final Set<String> WITHOUT_EFFECT = Set.of("min.insync.replicas", "unclean.leader.election.enable",
            "segment.bytes", "segment.ms", "segment.jitter.ms", "segment.index.bytes", "index.interval.bytes",
            "flush.messages", "flush.ms", "preallocate", "file.delete.delay.ms", "min.cleanable.dirty.ratio",
            "min.compaction.lag.ms", "max.compaction.lag.ms", "leader.replication.throttled.replicas",
            "follower.replication.throttled.replicas", "message.downconversion.enable", "local.retention.ms",
            "local.retention.bytes", "remote.storage.enable");

    private TopicConfigs() {
    }

    /** A config that cannot be taken, as the error its resource gets. */
    public static final class Invalid extends RuntimeException {
        Invalid(String message) {
            super(message, null, false, false);
        }

        public Errors error() {
            return Errors.INVALID_CONFIG;
        }
    }

    /** Sets {@code name} to {@code value} on a create request. */
    public static void apply(CreateTopicRequest.Builder create, String name, String value) {
        switch (name) {
            case RETENTION_MS -> create.setRetentionMs(number(name, value));
            case RETENTION_BYTES -> create.setRetentionBytes(number(name, value));
            case CLEANUP_POLICY -> create.setCleanupPolicy(policy(value).toString());
            case DELETE_RETENTION_MS -> create.setDeleteRetentionMs(nonNegative(name, value));
            default -> check(name, value);
        }
    }

    /** Sets {@code name} to {@code value} (null: back to its default) on an alter request. */
    public static void apply(AlterTopicRequest.Builder alter, String name, String value) {
        switch (name) {
            case RETENTION_MS -> alter.setRetentionMs(value == null ? -1 : number(name, value));
            case RETENTION_BYTES -> alter.setRetentionBytes(value == null ? -1 : number(name, value));
            case CLEANUP_POLICY -> alter.setCleanupPolicy(value == null ? "delete" : policy(value).toString());
            case DELETE_RETENTION_MS -> alter.setDeleteRetentionMs(value == null ? Topic.DEFAULT_DELETE_RETENTION_MS
                    : nonNegative(name, value));
            default -> check(name, value);
        }
    }

    private static void check(String name, String value) {
        if (MESSAGE_TIMESTAMP_TYPE.equals(name)) {
            if (value != null && !value.trim().equals("CreateTime")) {
                throw new Invalid(MESSAGE_TIMESTAMP_TYPE + " can only be CreateTime: Strata keeps each record's "
                        + "timestamp as its producer set it");
            }
            return;
        }
        if (MAX_MESSAGE_BYTES.equals(name)) {
            throw new Invalid(MAX_MESSAGE_BYTES + " is the node's record limit (strata.ingest.max-record-bytes), "
                    + "not a topic's");
        }
        if (!WITHOUT_EFFECT.contains(name)) {
            throw new Invalid("unknown or unsupported topic config " + io.strata.metadata.InputText.quoted(name)
                    + "; Strata takes " + RETENTION_MS + ", " + RETENTION_BYTES + ", " + CLEANUP_POLICY + ", "
                    + DELETE_RETENTION_MS + " and " + MESSAGE_TIMESTAMP_TYPE + "=CreateTime");
        }
    }

    /** A topic's configs as DescribeConfigs answers them (those asked for, or all when {@code keys} is null). */
    public static java.util.List<DescribeConfigsResponseData.DescribeConfigsResourceResult> describe(Topic t,
            java.util.List<String> keys, int maxMessageBytes) {
        Map<String, String[]> all = new LinkedHashMap<>(); // name -> value, default value
        all.put(CLEANUP_POLICY, new String[] {t.cleanupPolicy().toString(), "delete"});
        all.put(RETENTION_MS, new String[] {Long.toString(t.retentionMs() <= 0 ? -1 : t.retentionMs()), "-1"});
        all.put(RETENTION_BYTES, new String[] {Long.toString(t.retentionBytes() <= 0 ? -1 : t.retentionBytes()), "-1"});
        all.put(DELETE_RETENTION_MS, new String[] {Long.toString(t.deleteRetentionMs()),
                Long.toString(Topic.DEFAULT_DELETE_RETENTION_MS)});
        all.put(MAX_MESSAGE_BYTES, new String[] {Integer.toString(maxMessageBytes), null});
        all.put(MESSAGE_TIMESTAMP_TYPE, new String[] {"CreateTime", "CreateTime"}); // it cannot be anything else
        java.util.List<DescribeConfigsResponseData.DescribeConfigsResourceResult> out = new java.util.ArrayList<>();
        all.forEach((name, v) -> {
            if (keys != null && !keys.contains(name)) {
                return;
            }
            boolean readOnly = v[1] == null;
            boolean isDefault = !readOnly && v[0].equals(v[1]);
            out.add(new DescribeConfigsResponseData.DescribeConfigsResourceResult().setName(name).setValue(v[0])
                    .setReadOnly(readOnly).setIsSensitive(false)
                    .setConfigSource((readOnly ? DescribeConfigsResponse.ConfigSource.STATIC_BROKER_CONFIG
                            : isDefault ? DescribeConfigsResponse.ConfigSource.DEFAULT_CONFIG
                            : DescribeConfigsResponse.ConfigSource.TOPIC_CONFIG).id())
                    .setConfigType((name.equals(CLEANUP_POLICY) ? DescribeConfigsResponse.ConfigType.LIST
                            : name.equals(MAX_MESSAGE_BYTES) ? DescribeConfigsResponse.ConfigType.INT
                            : name.equals(MESSAGE_TIMESTAMP_TYPE) ? DescribeConfigsResponse.ConfigType.STRING
                            : DescribeConfigsResponse.ConfigType.LONG).id()));
        });
        return out;
    }

    static boolean isTopic(byte resourceType) {
        return resourceType == ConfigResource.Type.TOPIC.id();
    }

    private static long number(String name, String value) {
        try {
            return Long.parseLong(value.trim());
        } catch (RuntimeException e) {
            throw new Invalid(name + " must be a number, not " + io.strata.metadata.InputText.quoted(value));
        }
    }

    private static long nonNegative(String name, String value) {
        long v = number(name, value);
        if (v < 0) {
            throw new Invalid(name + " must not be negative");
        }
        return v;
    }

    private static CleanupPolicy policy(String value) {
        try {
            return CleanupPolicy.parse(value);
        } catch (IllegalArgumentException e) {
            throw new Invalid(e.getMessage());
        }
    }
}
