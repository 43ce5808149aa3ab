package io.strata.metadata.group;

/** A committed offset as stored, with who committed it and when (a reset has no member). */
public record CommittedOffset(TopicPartition partition, long offset, String metadata, long topicId,
                              long committedAtMs, String memberId) {
}
