package io.strata.kafka.auth;

import io.strata.metadata.security.AclOperation;
import io.strata.metadata.security.ResourceType;
import io.strata.security.Identity;
import java.util.List;
import java.util.concurrent.Executor;
import javax.net.ssl.SSLSession;
import javax.security.sasl.SaslServer;

/**
 * Who may use the Kafka listener, and for what: the node's authentication and ACLs as the door sees them (the
 * node provides it; {@link #OPEN} lets everyone in, as with strata.auth.mode=none).
 */
public interface KafkaGuard {
    /** Whether a connection must authenticate (SASL, or a client certificate) before anything but its handshake. */
    boolean required();

    /** The SASL mechanisms offered, e.g. SCRAM-SHA-512 and PLAIN. */
    List<String> mechanisms();

    /** A fresh server side of {@code mechanism} (one of {@link #mechanisms}) for one connection. */
    SaslServer saslServer(String mechanism) throws javax.security.sasl.SaslException;

    /** The identity of a user SASL authenticated, with the user's groups. */
    Identity user(String name, String mechanism);

    /** Until when what a completed SASL exchange proved holds (a bearer token's expiry); then the connection ends. */
    default long validUntilMs(SaslServer sasl) {
        return Long.MAX_VALUE;
    }

    /** Who a completed SASL exchange proved: by default the user it names (a bearer token proves its own groups). */
    default Identity identity(SaslServer sasl, String mechanism) {
        return user(sasl.getAuthorizationID(), "sasl " + mechanism);
    }

    /** The identity a client certificate proves, or null without one (or when it proves none). */
    Identity fromCertificate(SSLSession session);

    boolean allowed(Identity who, AclOperation op, ResourceType type, String name);

    /** Whether an identity a connection proved is still good (a SASL user not removed since). */
    default boolean stillValid(Identity who) {
        return true;
    }

    /** Whether {@code who} may change user {@code name}'s credential: a super-user's only another super-user may. */
    default boolean mayChangeUser(Identity who, String name) {
        return true;
    }

    /** Writes a denial or a failed sign-in to the audit log. */
    void audit(Identity who, String address, String action, String resource, String outcome);

    /** The producer id InitProducerId answers for the cluster's counter value {@code counter}, issued to {@code who}. */
    default long producerId(long counter, Identity who) {
        return counter;
    }

    /** Whether {@code who} may produce with {@code producerId}: only the principal it was issued to may. */
    default boolean mayUseProducerId(Identity who, long producerId) {
        return true;
    }

    /** Where the listener accounts what principals use against their quotas. */
    default io.strata.security.quota.QuotaMeter quotas() {
        return io.strata.security.quota.QuotaMeter.NONE;
    }

    /** Where slow work runs (a password's PBKDF2), off the connections' event loops. */
    Executor slowWork();

    KafkaGuard OPEN = new KafkaGuard() {
        @Override
        public boolean required() {
            return false;
        }

        @Override
        public List<String> mechanisms() {
            return List.of();
        }

        @Override
        public SaslServer saslServer(String mechanism) throws javax.security.sasl.SaslException {
            throw new javax.security.sasl.SaslException("no SASL on this listener");
        }

        @Override
        public Identity user(String name, String mechanism) {
            return Identity.user(name, List.of(), mechanism);
        }

        @Override
        public Identity fromCertificate(SSLSession session) {
            return null;
        }

        @Override
        public boolean allowed(Identity who, AclOperation op, ResourceType type, String name) {
            return true;
        }

        @Override
        public void audit(Identity who, String address, String action, String resource, String outcome) {
        }

        @Override
        public Executor slowWork() {
            return Runnable::run;
        }
    };
}
