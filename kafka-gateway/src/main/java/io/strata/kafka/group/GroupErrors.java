package io.strata.kafka.group;

import io.strata.group.MixedProtocolException;
import io.strata.group.NotOwnerException;
import io.strata.group.OffsetOutOfRangeException;
import io.strata.group.UnknownMemberException;
import io.strata.group.UnknownTopicException;
import io.strata.kafka.KafkaErrors;
import io.strata.metadata.group.GroupActiveException;
import io.strata.metadata.group.UnknownGroupException;
import org.apache.kafka.common.protocol.Errors;

/** The group coordinator's failures as the Kafka error codes group clients handle. */
final class GroupErrors {
    private GroupErrors() {
    }

    static Errors forCommit(Throwable failure) {
        Throwable t = KafkaErrors.unwrap(failure);
        if (t instanceof UnknownMemberException || t instanceof GroupActiveException) {
            return Errors.UNKNOWN_MEMBER_ID; // a commit from outside a group that has members, as Kafka answers
        }
        if (t instanceof NotOwnerException) {
            return Errors.ILLEGAL_GENERATION;
        }
        if (t instanceof UnknownTopicException) {
            return Errors.UNKNOWN_TOPIC_OR_PARTITION;
        }
        if (t instanceof OffsetOutOfRangeException) {
            return Errors.OFFSET_OUT_OF_RANGE;
        }
        if (t instanceof IllegalArgumentException) {
            String message = t.getMessage() == null ? "" : t.getMessage();
            return message.contains("metadata") ? Errors.OFFSET_METADATA_TOO_LARGE
                    : message.contains("out of range") ? Errors.UNKNOWN_TOPIC_OR_PARTITION : Errors.INVALID_REQUEST;
        }
        return forGroup(t);
    }

    static Errors forGroup(Throwable failure) {
        Throwable t = KafkaErrors.unwrap(failure);
        if (t instanceof UnknownGroupException) {
            return Errors.GROUP_ID_NOT_FOUND;
        }
        if (t instanceof GroupActiveException) {
            return Errors.NON_EMPTY_GROUP;
        }
        if (t instanceof MixedProtocolException) {
            return Errors.INCONSISTENT_GROUP_PROTOCOL;
        }
        if (t instanceof IllegalArgumentException) {
            return Errors.INVALID_GROUP_ID;
        }
        if (t instanceof io.strata.metadata.MetadataException || t instanceof java.util.concurrent.TimeoutException) {
            return Errors.COORDINATOR_NOT_AVAILABLE;
        }
        return Errors.UNKNOWN_SERVER_ERROR;
    }
}
