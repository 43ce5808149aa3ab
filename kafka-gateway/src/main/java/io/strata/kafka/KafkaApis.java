package io.strata.kafka;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.ResponseHeaderData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.requests.RequestHeader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a request frame with Kafka's own message classes, hands it to the {@link KafkaApi} that serves its key
 * and writes the answer back in Kafka's format. ApiVersions is answered here, from the APIs registered: a
 * client is offered exactly what is served, at versions served correctly, and never sends anything else
 * (a request for an API or version not offered closes its connection, as Kafka's broker does). Thread-safe.
 */
public final class KafkaApis {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaApis.class);

    private final Map<ApiKeys, KafkaApi> apis = new EnumMap<>(ApiKeys.class);
    private final io.strata.kafka.auth.KafkaGuard guard;
    private final io.strata.kafka.auth.KafkaAccess access;

    public KafkaApis(Collection<KafkaApi> served) {
        this(served, io.strata.kafka.auth.KafkaGuard.OPEN, null);
    }

    /**
     * The APIs, behind {@code guard}: while it requires authentication a connection may send nothing but its
     * handshake until it has authenticated (anything else closes it, as Kafka's brokers do), and every request is
     * held against {@code access} before its API sees it.
     */
    public KafkaApis(Collection<KafkaApi> served, io.strata.kafka.auth.KafkaGuard guard,
                     io.strata.kafka.auth.KafkaAccess access) {
        this.guard = guard;
        this.access = access;
        for (KafkaApi api : served) {
            if (api.minVersion() < api.key().oldestVersion() || api.maxVersion() > api.key().latestVersion()
                    || api.minVersion() > api.maxVersion()) {
                throw new IllegalArgumentException(api.key() + " versions " + api.minVersion() + "-" + api.maxVersion()
                        + " are not all known to this Kafka library (" + api.key().oldestVersion() + "-"
                        + api.key().latestVersion() + ")");
            }
            if (apis.put(api.key(), api) != null) {
                throw new IllegalArgumentException(api.key() + " registered twice");
            }
        }
    }

    /**
     * The request's own error response. Kafka's library cannot build one for a DescribeUserScramCredentials that
     * asks for every user (its list is null, as the admin client sends it): that one is built here.
     */
    private static AbstractResponse errorResponse(AbstractRequest body, Errors error) {
        if (body instanceof org.apache.kafka.common.requests.DescribeUserScramCredentialsRequest d
                && d.data().users() == null) {
            return new org.apache.kafka.common.requests.DescribeUserScramCredentialsResponse(
                    new org.apache.kafka.common.message.DescribeUserScramCredentialsResponseData()
                            .setErrorCode(error.code()).setErrorMessage(error.message()));
        }
        return body.getErrorResponse(0, error.exception());
    }

    /** The API's answer, an admin action's outcome written to the audit log (as the gRPC door writes its own). */
    private CompletableFuture<ApiMessage> audited(KafkaApi api, KafkaRequest request) {
        CompletableFuture<ApiMessage> answer = api.handle(request);
        if (access == null || !access.audits(request)) {
            return answer; // produce, fetch and a member's commits, the hot paths, take no extra stage
        }
        return answer.whenComplete((r, failure) -> {
            try {
                access.audit(request, r, failure);
            } catch (RuntimeException e) {
                LOG.warn("could not audit {} from {}", request.header().apiKey(), request.client(), e); // the answer stands
            }
        });
    }

    /**
     * The answer to one request frame (its length prefix removed), framed for the wire; null for a request that
     * is answered with nothing. Throws when the frame cannot be read or asks for what is not offered: the
     * caller closes the connection.
     */
    public CompletableFuture<ByteBuffer> handle(ByteBuffer frame, KafkaSession session) {
        InetSocketAddress client = session.client();
        int frameBytes = frame.remaining();
        if (frame.remaining() < 8) {
            throw new IllegalArgumentException("a request of " + frame.remaining() + " bytes has no header");
        }
        short apiKey = frame.getShort(frame.position());
        short apiVersion = frame.getShort(frame.position() + 2);
        if (apiKey == ApiKeys.API_VERSIONS.id && apiVersion > ApiKeys.API_VERSIONS.latestVersion()) {
            // A newer client: answer in version 0, which every client reads, with the versions offered.
            int correlationId = frame.getInt(frame.position() + 4);
            ApiVersionsResponseData data = apiVersions().setErrorCode(Errors.UNSUPPORTED_VERSION.code());
            return CompletableFuture.completedFuture(frame(correlationId, (short) 0, data, (short) 0));
        }
        RequestHeader header = RequestHeader.parse(frame);
        ApiKeys key = header.apiKey();
        if (key == ApiKeys.API_VERSIONS) {
            AbstractRequest.parseRequest(key, header.apiVersion(), new ByteBufferAccessor(frame));
            return CompletableFuture.completedFuture(answer(header, apiVersions()));
        }
        KafkaApi api = apis.get(key);
        if (api == null || header.apiVersion() < api.minVersion() || header.apiVersion() > api.maxVersion()) {
            throw new IllegalArgumentException(key + " v" + header.apiVersion() + " is not served here");
        }
        boolean checked = guard.required() && key != ApiKeys.SASL_HANDSHAKE && key != ApiKeys.SASL_AUTHENTICATE;
        if (session.saslFailed() || (checked && session.identity() != null && (!guard.stillValid(session.identity())
                || session.expired()))) {
            // The client opens a new connection and signs in again (with a fresh token, when its token expired).
            throw new IllegalArgumentException(key + " after a failed sign-in, from a user since removed, or with an "
                    + "expired token");
        }
        if (checked && session.identity() == null) {
            guard.audit(io.strata.security.Identity.ANONYMOUS, session.clientAddress(), "Kafka " + key.name, "",
                    "unauthenticated: no SASL or client certificate");
            throw new IllegalArgumentException(key + " before authenticating");
        }
        // Quotas count what signed-in principals (or, without authentication, anonymous ones) send; a SASL
        // exchange is nobody's yet.
        io.strata.security.quota.QuotaMeter quotas = guard.quotas();
        io.strata.security.Identity who = quotas.active() ? session.caller(guard.required()) : null;
        long held = who == null ? 0 : quotas.request(who, key == ApiKeys.PRODUCE ? frameBytes : 0);
        AbstractRequest body = AbstractRequest.parseRequest(key, header.apiVersion(), new ByteBufferAccessor(frame))
                .request;
        KafkaRequest request = new KafkaRequest(header, body, session);
        CompletableFuture<ApiMessage> response;
        try {
            if (checked && access != null) {
                response = access.denied(request).thenCompose(denied -> {
                    if (denied == null) {
                        return audited(api, request).thenApply(r -> r == null ? null : access.filter(request, r));
                    }
                    var refusal = errorResponse(body, io.strata.kafka.auth.KafkaAccess.error(denied));
                    // A Produce with acks=0 is answered with nothing, refused or not.
                    return CompletableFuture.completedFuture(refusal == null ? null : refusal.data());
                });
            } else {
                response = audited(api, request);
            }
        } catch (RuntimeException e) {
            response = CompletableFuture.failedFuture(e);
        }
        return response.handle((r, failure) -> {
            if (failure != null) {
                Errors error = KafkaErrors.forRead(failure);
                if (error == Errors.UNKNOWN_SERVER_ERROR) {
                    LOG.warn("{} v{} from {} failed", key, header.apiVersion(), client, KafkaErrors.unwrap(failure));
                }
                var refusal = errorResponse(body, error);
                r = refusal == null ? null : refusal.data();
            }
            long wait = held;
            if (who != null && r instanceof org.apache.kafka.common.message.FetchResponseData f) {
                wait = Math.max(wait, quotas.fetched(who, ThrottleTime.recordBytes(f)));
            }
            if (wait > 0) {
                // Answered now, saying how long; the connection takes nothing more until then (Kafka's mute).
                session.throttle(wait);
                if (r != null) {
                    ThrottleTime.set(r, wait);
                }
            }
            if (LOG.isDebugEnabled() && r != null) {
                LOG.debug("{} v{} from {} ({}): {}", key, header.apiVersion(), header.clientId(), client, r);
            }
            if (r == null) {
                return null;
            }
            try {
                return answer(header, r);
            } catch (RuntimeException e) {
                // An answer this version cannot carry is a bug here; the client still gets an answer, not a closed
                // connection it would retry into the same bug.
                LOG.warn("{} v{}: the answer cannot be written at this version", key, header.apiVersion(), e);
                return answer(header, errorResponse(body, Errors.UNKNOWN_SERVER_ERROR).data());
            }
        });
    }

    private ApiVersionsResponseData apiVersions() {
        ApiVersionsResponseData data = new ApiVersionsResponseData().setErrorCode(Errors.NONE.code());
        data.apiKeys().add(new ApiVersionsResponseData.ApiVersion().setApiKey(ApiKeys.API_VERSIONS.id)
                .setMinVersion(ApiKeys.API_VERSIONS.oldestVersion()).setMaxVersion(ApiKeys.API_VERSIONS.latestVersion()));
        apis.values().forEach(api -> data.apiKeys().add(new ApiVersionsResponseData.ApiVersion()
                .setApiKey(api.key().id).setMinVersion(api.minVersion()).setMaxVersion(api.maxVersion())));
        return data;
    }

    private static ByteBuffer answer(RequestHeader header, ApiMessage data) {
        return frame(header.correlationId(), header.apiKey().responseHeaderVersion(header.apiVersion()), data,
                header.apiVersion());
    }

    /** The answer as sent: length prefix, response header, body. */
    static ByteBuffer frame(int correlationId, short headerVersion, ApiMessage data, short version) {
        ResponseHeaderData header = new ResponseHeaderData().setCorrelationId(correlationId);
        ObjectSerializationCache cache = new ObjectSerializationCache();
        int size = header.size(cache, headerVersion) + data.size(cache, version);
        ByteBuffer buffer = ByteBuffer.allocate(4 + size);
        buffer.putInt(size);
        ByteBufferAccessor out = new ByteBufferAccessor(buffer);
        header.write(out, cache, headerVersion);
        data.write(out, cache, version);
        buffer.flip();
        return buffer;
    }
}
