package io.strata.client;

import java.util.List;

/**
 * What a {@link HalfProducer}'s application answers when the cluster asks about a half message of its producer group
 * left undecided (check-back): whether the local transaction it stood for committed. Called on the producer's
 * check-back thread, one check at a time; it should answer within 10 s (else the check counts as unknown).
 */
@FunctionalInterface
public interface CheckBackListener {
    enum Decision { COMMIT, ROLLBACK, UNKNOWN }

    /** A half message asked about: its id, where it waits, as it was sent, and how many checks came before. */
    record Check(String id, String topic, int partition, byte[] key, byte[] value, List<RecordHeader> headers,
                 int checks) {
    }

    /** The outcome of the half message's local transaction; UNKNOWN to be asked again later. */
    Decision check(Check check);
}
