package io.strata.fetch.share;

import java.util.List;

/**
 * Whether a group's dead-letter copies may be written: the principal who named the dead-letter topic must still
 * be allowed to read the source topic and to write the dead-letter topic, so that naming a topic one may write
 * is no way to read records one may not (and revoking either right stops the copies).
 */
@FunctionalInterface
public interface DeadLetterGuard {
    /** Lets every copy through: a node that does not check access. */
    DeadLetterGuard OPEN = (principal, groups, source, deadLetterTopic) -> true;

    boolean mayCopy(String principal, List<String> groups, String sourceTopic, String deadLetterTopic);
}
