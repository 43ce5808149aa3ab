package io.strata.server.security;

import io.strata.kafka.auth.KafkaGuard;
import io.strata.metadata.security.AclOperation;
import io.strata.metadata.security.ResourceType;
import io.strata.metadata.security.ScramCredential;
import io.strata.security.Identity;
import io.strata.security.Need;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import javax.net.ssl.SSLSession;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.sasl.SaslException;
import javax.security.sasl.SaslServer;
import org.apache.kafka.common.security.plain.PlainAuthenticateCallback;
import org.apache.kafka.common.security.plain.internals.PlainSaslServer;
import org.apache.kafka.common.security.scram.ScramCredentialCallback;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;
import org.apache.kafka.common.security.scram.internals.ScramSaslServer;

/**
 * The node's authentication and ACLs at the Kafka listener. SASL is Kafka's own code: its SCRAM-SHA-512 server
 * checks a client's proof against the users' stored SCRAM material (the password never travels), its PLAIN server
 * hands the password to the same check gRPC's Basic sign-in uses. A client certificate is an identity as on the
 * gRPC port.
 */
public final class KafkaGuardOf implements KafkaGuard {
    private static final String SCRAM = "SCRAM-SHA-512";
    private static final String PLAIN = "PLAIN";
    private static final String OAUTHBEARER = "OAUTHBEARER";
    private final AccessControl access;
    private final io.strata.security.quota.QuotaMeter quotas;

    public KafkaGuardOf(AccessControl access, io.strata.security.quota.QuotaMeter quotas) {
        this.access = access;
        this.quotas = quotas;
    }

    @Override
    public long producerId(long counter, Identity who) {
        return access.producerIds().bind(counter, who.principal());
    }

    @Override
    public boolean mayUseProducerId(Identity who, long producerId) {
        if (access.mayUseProducerId(who, producerId)) {
            return true;
        }
        AuditLog.record(who, "", "Kafka producer id", "producer id " + producerId, "denied: issued to another principal");
        return false;
    }

    @Override
    public io.strata.security.quota.QuotaMeter quotas() {
        return quotas;
    }

    @Override
    public boolean required() {
        return access.required();
    }

    /**
     * PLAIN sends the password and OAUTHBEARER the token: offered only where the listener speaks TLS (OAUTHBEARER only
     * where the node takes tokens, strata.auth.jwt.*).
     */
    @Override
    public List<String> mechanisms() {
        if (!access.clientPortsEncrypted()) {
            return List.of(SCRAM);
        }
        return access.takesTokens() ? List.of(SCRAM, PLAIN, OAUTHBEARER) : List.of(SCRAM, PLAIN);
    }

    @Override
    public long validUntilMs(SaslServer sasl) {
        return sasl instanceof TokenSasl t ? t.check.expiresAtMs : Long.MAX_VALUE;
    }

    @Override
    public Identity identity(SaslServer sasl, String mechanism) {
        if (sasl instanceof TokenSasl t && t.check.identity != null) {
            return t.check.identity; // the token's own principal and groups, as on the gRPC port
        }
        return KafkaGuard.super.identity(sasl, mechanism);
    }

    /**
     * Kafka's OAUTHBEARER server, with the token checked as a gRPC bearer token is (SmallRye JWT: signature, issuer,
     * audience, expiry) by {@link TokenCheck}: never Kafka's unsecured validator. A refused token ends the exchange
     * at once (Kafka's server would answer an error and wait for the client's acknowledgement, and a client could
     * try token after token meanwhile, unaudited).
     */
    private static final class TokenSasl
            extends org.apache.kafka.common.security.oauthbearer.internals.OAuthBearerSaslServer {
        private final TokenCheck check;

        TokenSasl(TokenCheck check) {
            super(check);
            this.check = check;
        }

        @Override
        public byte[] evaluateResponse(byte[] response) throws SaslException {
            byte[] challenge = super.evaluateResponse(response);
            if (!isComplete()) {
                throw new SaslException("the token was refused: " + check.refusal);
            }
            return challenge;
        }
    }

    /** Checks an OAUTHBEARER token for Kafka's server (which takes its own kind of handler only), keeping the result. */
    private final class TokenCheck implements org.apache.kafka.common.security.auth.AuthenticateCallbackHandler {
        private volatile Identity identity;
        private volatile long expiresAtMs = Long.MAX_VALUE;
        private volatile String refusal = "no token";

        @Override
        public void configure(Map<String, ?> configs, String mechanism,
                              List<javax.security.auth.login.AppConfigurationEntry> entries) {
        }

        @Override
        public void handle(Callback[] callbacks) throws UnsupportedCallbackException {
            for (Callback c : callbacks) {
                if (!(c instanceof org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallback v)) {
                    throw new UnsupportedCallbackException(c); // extensions: none are taken
                }
                try {
                    Identity who = access.verifyToken(v.tokenValue());
                    long expires = access.tokenExpiresAtMs(v.tokenValue());
                    long now = System.currentTimeMillis();
                    identity = who;
                    expiresAtMs = expires > 0 ? expires : now + 300_000;
                    v.token(new org.apache.kafka.common.security.oauthbearer.internals.secured.BasicOAuthBearerToken(
                            v.tokenValue(), java.util.Set.of(), expiresAtMs,
                            who.principal().substring(io.strata.metadata.security.Principals.USER.length()), now));
                } catch (io.grpc.StatusRuntimeException e) {
                    refusal = e.getStatus().getDescription();
                    v.error("invalid_token", null, null);
                }
            }
        }

        @Override
        public void close() {
        }
    }

    @Override
    public boolean stillValid(Identity who) {
        // A SASL user removed since its connection signed in is refused from its next request on.
        return !who.via().startsWith("sasl") || access.user(who.principal().substring(
                io.strata.metadata.security.Principals.USER.length())).isPresent();
    }

    @Override
    public SaslServer saslServer(String mechanism) throws SaslException {
        String[] name = new String[1];
        try {
            return switch (mechanism) {
                case SCRAM -> new ScramSaslServer(ScramMechanism.SCRAM_SHA_512, Map.of(), callbacks -> {
                    for (Callback c : callbacks) {
                        if (c instanceof NameCallback n) {
                            name[0] = n.getDefaultName();
                        } else if (c instanceof ScramCredentialCallback s) {
                            // Unknown user: no credential, and Kafka's server fails the exchange.
                            access.user(name[0]).ifPresent(u -> {
                                ScramCredential m = u.credential();
                                s.scramCredential(new org.apache.kafka.common.security.scram.ScramCredential(
                                        m.salt(), m.storedKey(), m.serverKey(), m.iterations()));
                            });
                        } else {
                            throw new UnsupportedCallbackException(c); // delegation tokens, say: not here
                        }
                    }
                });
                case PLAIN -> new PlainSaslServer(callbacks -> {
                    for (Callback c : callbacks) {
                        if (c instanceof NameCallback n) {
                            name[0] = n.getDefaultName();
                        } else if (c instanceof PlainAuthenticateCallback p) {
                            p.authenticated(access.passwordAccepted(name[0], new String(p.password())));
                        } else {
                            throw new UnsupportedCallbackException(c);
                        }
                    }
                });
                case OAUTHBEARER -> new TokenSasl(new TokenCheck());
                default -> throw new SaslException("unsupported mechanism " + mechanism);
            };
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new SaslException("SCRAM-SHA-512 is not available", e);
        }
    }

    @Override
    public Identity user(String name, String mechanism) {
        return Identity.user(name, access.user(name).map(io.strata.metadata.security.User::groups).orElse(List.of()),
                mechanism);
    }

    @Override
    public Identity fromCertificate(SSLSession session) {
        return access.certificateIdentity(session);
    }

    @Override
    public boolean allowed(Identity who, AclOperation op, ResourceType type, String name) {
        return who != null && access.allowed(who, new Need(op, type, name));
    }

    @Override
    public boolean mayChangeUser(Identity who, String name) {
        return !access.superUserPrincipal(io.strata.metadata.security.Principals.user(name)) || access.superUser(who);
    }

    @Override
    public void audit(Identity who, String address, String action, String resource, String outcome) {
        AuditLog.record(who == null ? Identity.ANONYMOUS : who, address, action, resource, outcome);
    }

    @Override
    public Executor slowWork() {
        return access.slowWork();
    }
}
