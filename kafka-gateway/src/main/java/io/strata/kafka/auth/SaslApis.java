package io.strata.kafka.auth;

import io.strata.kafka.KafkaApi;
import io.strata.kafka.KafkaRequest;
import io.strata.kafka.KafkaSession;
import io.strata.security.Identity;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import javax.security.sasl.SaslServer;
import org.apache.kafka.common.message.SaslAuthenticateRequestData;
import org.apache.kafka.common.message.SaslAuthenticateResponseData;
import org.apache.kafka.common.message.SaslHandshakeRequestData;
import org.apache.kafka.common.message.SaslHandshakeResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * SASL on the Kafka listener, as Kafka's brokers speak it since 1.0: SaslHandshake v1 picks a mechanism, then
 * SaslAuthenticate carries its exchange (Kafka's own SCRAM and PLAIN servers do the exchange). A failed exchange is
 * SASL_AUTHENTICATION_FAILED, after which the client closes; a connection that has authenticated stays so.
 */
public final class SaslApis {
    private final KafkaGuard guard;

    public SaslApis(KafkaGuard guard) {
        this.guard = guard;
    }

    public List<KafkaApi> all() {
        // v0 is offered because librdkafka looks for it before it uses v1 with SaslAuthenticate; a client that
        // really speaks v0 (raw tokens after the handshake, Kafka before 1.0) is refused at its handshake.
        return List.of(KafkaApi.of(ApiKeys.SASL_HANDSHAKE, 0, 1, this::handshake),
                KafkaApi.of(ApiKeys.SASL_AUTHENTICATE, 0, 2, this::authenticate));
    }

    private CompletableFuture<ApiMessage> handshake(KafkaRequest request) {
        SaslHandshakeRequestData data = (SaslHandshakeRequestData) request.body().data();
        KafkaSession session = request.session();
        SaslHandshakeResponseData answer = new SaslHandshakeResponseData().setMechanisms(guard.mechanisms());
        if (request.version() == 0 || session.identity() != null || session.sasl() != null) {
            return CompletableFuture.completedFuture(answer.setErrorCode(Errors.ILLEGAL_SASL_STATE.code()));
        }
        if (!guard.mechanisms().contains(data.mechanism())) {
            return CompletableFuture.completedFuture(answer.setErrorCode(Errors.UNSUPPORTED_SASL_MECHANISM.code()));
        }
        try {
            session.startSasl(guard.saslServer(data.mechanism()), data.mechanism());
        } catch (javax.security.sasl.SaslException e) {
            return CompletableFuture.completedFuture(answer.setErrorCode(Errors.UNSUPPORTED_SASL_MECHANISM.code()));
        }
        return CompletableFuture.completedFuture(answer.setErrorCode(Errors.NONE.code()));
    }

    private CompletableFuture<ApiMessage> authenticate(KafkaRequest request) {
        SaslAuthenticateRequestData data = (SaslAuthenticateRequestData) request.body().data();
        KafkaSession session = request.session();
        SaslServer sasl = session.sasl();
        if (sasl == null || session.identity() != null) {
            return CompletableFuture.completedFuture(new SaslAuthenticateResponseData()
                    .setErrorCode(Errors.ILLEGAL_SASL_STATE.code()).setErrorMessage("SaslHandshake first"));
        }
        if (!session.beginSaslStep()) {
            // SASL servers are not thread-safe: one step at a time, or a pipelined step could mix two exchanges.
            session.failedSasl();
            return CompletableFuture.completedFuture(new SaslAuthenticateResponseData()
                    .setErrorCode(Errors.ILLEGAL_SASL_STATE.code()).setErrorMessage("one SASL step at a time"));
        }
        // PLAIN checks a password (PBKDF2): off the connection's event loop.
        CompletableFuture<ApiMessage> step;
        try {
            step = CompletableFuture.supplyAsync(() -> evaluate(request, session, sasl, data), guard.slowWork());
        } catch (java.util.concurrent.RejectedExecutionException e) {
            session.endSaslStep();
            throw new IllegalStateException("too many sign-ins at once"); // closes the connection: the client retries
        }
        return step.whenComplete((r, e) -> session.endSaslStep());
    }

    private ApiMessage evaluate(KafkaRequest request, KafkaSession session, SaslServer sasl,
                                SaslAuthenticateRequestData data) {
        try {
                byte[] challenge = sasl.evaluateResponse(data.authBytes());
                if (sasl.isComplete()) {
                    session.authenticated(guard.identity(sasl, session.mechanism()), guard.validUntilMs(sasl));
                }
                return new SaslAuthenticateResponseData().setErrorCode(Errors.NONE.code())
                        .setAuthBytes(challenge == null ? new byte[0] : challenge);
            } catch (javax.security.sasl.SaslException | RuntimeException e) {
                session.failedSasl();
                guard.audit(Identity.ANONYMOUS, request.session().clientAddress(), "SaslAuthenticate",
                        session.mechanism(), "unauthenticated: " + e.getMessage());
                return new SaslAuthenticateResponseData().setErrorCode(Errors.SASL_AUTHENTICATION_FAILED.code())
                        .setErrorMessage("Authentication failed: invalid credentials with SASL mechanism "
                                + session.mechanism());
        }
    }
}
