package io.strata.server.security;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.security.SecurityStore;
import io.strata.security.Authorizer;
import io.strata.security.Identity;
import io.strata.security.Need;
import io.strata.security.PasswordCheck;
import io.strata.security.PrincipalRules;
import io.strata.server.config.StrataConfig;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.nio.charset.StandardCharsets;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Who a caller is and what it may do, on this node. Credentials come from a call's {@code authorization} header
 * ({@code Basic} user and password, checked against the users in the metadata store) or from the client
 * certificate its TLS connection presented (mapped by strata.auth.principal-mapping-rules). With
 * strata.auth.mode=required a call without them is UNAUTHENTICATED and each call is decided from the cluster's
 * ACLs ({@link Authorizer}); with none, calls without credentials are let in as ANONYMOUS and nothing is checked,
 * though credentials that are given must be right.
 */
@Singleton
public class AccessControl {
    public static final Metadata.Key<String> AUTHORIZATION =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    private static final org.jboss.logging.Logger LOG = org.jboss.logging.Logger.getLogger(AccessControl.class);

    @Inject
    StrataConfig config;
    @Inject
    io.strata.server.net.NodeTls tls;

    private volatile boolean required;
    private volatile PrincipalRules rules;
    private volatile Authorizer authorizer;
    private volatile io.strata.metadata.security.ProducerIdBinding producerIds;
    private volatile PasswordCheck passwords;
    private volatile SecurityStore store;
    private volatile BearerTokens tokens;

    /**
     * The mode is read when the bean is first used, which may be a call that reaches the gRPC port before the
     * node's start has validated anything: such a call is checked as the settings say, never let through.
     */
    @jakarta.annotation.PostConstruct
    void readMode() {
        String mode = config.auth().mode();
        switch (mode) {
            case "none" -> required = false;
            case "required" -> required = true;
            default -> throw new IllegalArgumentException("strata.auth.mode is none or required, not '" + mode + "'");
        }
        rules = PrincipalRules.parse(config.auth().principalMappingRules());
        StrataConfig.Auth.Jwt jwt = config.auth().jwt();
        if (jwt.keys().isPresent()) {
            if (jwt.audiences().filter(a -> !a.isEmpty()).isEmpty()) {
                // Without it any token of the issuer would do: on Kubernetes, every pod's own API token.
                throw new IllegalArgumentException("strata.auth.jwt.keys needs strata.auth.jwt.audiences: the aud "
                        + "tokens meant for Strata name");
            }
            tokens = new BearerTokens(jwt.keys().get(), jwt.issuer().orElseThrow(() -> new IllegalArgumentException(
                    "strata.auth.jwt.keys needs strata.auth.jwt.issuer: the iss tokens must name")), jwt.audiences(),
                    jwt.principalClaim(), jwt.groupsClaim());
        }
    }

    /** Refuses settings that cannot work, before anything starts (one line naming the setting). */
    public void validate() {
        StrataConfig.Auth auth = config.auth();
        if (!List.of("subject", "san").contains(auth.certificateName())) {
            throw new IllegalArgumentException("strata.auth.certificate-name is subject or san, not '"
                    + auth.certificateName() + "'");
        }
        for (String p : auth.superUsers().orElse(List.of())) {
            io.strata.metadata.security.Principals.requireValid(p);
            if (!p.startsWith(io.strata.metadata.security.Principals.USER)) {
                throw new IllegalArgumentException("strata.auth.super-users names users (User:NAME), not '" + p + "'");
            }
        }
        if (required && !tls.clientPortsEncrypted() && !auth.allowPlaintext()) {
            throw new IllegalArgumentException("strata.auth.mode=required needs TLS on the client ports "
                    + "(strata.tls.certificate and strata.tls.key, or strata.tls.key-store): passwords and tokens must "
                    + "not travel in clear "
                    + "(strata.auth.allow-plaintext=true allows it for trials on one machine)");
        }
        if (required && auth.allowPlaintext() && !tls.clientPortsEncrypted()) {
            LOG.warn("strata.auth.mode=required without TLS (strata.auth.allow-plaintext): passwords travel in clear");
        }
    }

    /** Follows the cluster's users and ACLs; answers once the first read is in (or fails after {@code timeout}). */
    public void start(MetadataStore metadata, Duration timeout) throws InterruptedException {
        SecurityStore s = metadata.security();
        try {
            if (required) {
                s.markAuthRequired().get(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            } else if (s.authRequired().get(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
                // One node without authentication would serve every topic of the cluster to anyone.
                throw new IllegalStateException("this cluster requires authentication (a node with "
                        + "strata.auth.mode=required ran on it): start this node with strata.auth.mode=required too; "
                        + "to turn authentication off for the whole cluster, delete the key " + "security/mode under "
                        + "its metadata root first (docs/security.md)");
            }
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("cannot read the cluster's authentication mode: " + e.getMessage(), e);
        }
        Authorizer a = new Authorizer(s, new HashSet<>(config.auth().superUsers().orElse(List.of())));
        boolean read;
        try {
            read = a.awaitFirstRead(timeout);
        } catch (InterruptedException e) {
            closeQuietly(a); // stopping during start: its watch must not outlive the store
            throw e;
        }
        if (!read) {
            closeQuietly(a);
            throw new IllegalStateException("cannot read the cluster's users and ACLs within " + timeout);
        }
        StrataConfig.Auth auth = config.auth();
        if (auth.bootstrapUser().isPresent()) {
            String name = auth.bootstrapUser().get();
            String password = auth.bootstrapPassword().orElseThrow(() -> new IllegalArgumentException(
                    "strata.auth.bootstrap-user needs strata.auth.bootstrap-password (STRATA_AUTH_BOOTSTRAP_PASSWORD)"));
            try {
                // Only into a cluster without users: a bootstrap user removed later (its password leaked, say) must
                // not come back with the next restart.
                if (a.snapshot().users().isEmpty()) {
                    boolean added = s.putUser(new io.strata.metadata.security.User(name, io.strata.security.Scram.create(
                            password), List.of(), System.currentTimeMillis()), false)
                            .get(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
                    if (added) {
                        LOG.infof("added the bootstrap user %s (strata.auth.bootstrap-user)", name);
                    }
                }
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                closeQuietly(a);
                throw new IllegalStateException("cannot add the bootstrap user " + name + ": " + e.getMessage(), e);
            }
        }
        try {
            producerIds = new io.strata.metadata.security.ProducerIdBinding(s.producerKey()
                    .get(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS));
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            closeQuietly(a);
            throw new IllegalStateException("cannot read the cluster's producer-id key: " + e.getMessage(), e);
        }
        store = s;
        passwords = new PasswordCheck(a::user, Math.max(1, config.auth().maxConcurrentPasswordChecks()));
        authorizer = a;
    }

    public boolean required() {
        return required;
    }

    /** Basic credentials as sent: the user name tried and the password. */
    private record Basic(String user, String password) {
    }

    /**
     * The identity the call's credentials prove, when that takes no slow password check (no password, or one
     * accepted before); empty when {@link #authenticate} has to run PBKDF2, which an event loop hands to a
     * worker. UNAUTHENTICATED for bad credentials, or for none when they are required.
     */
    public Optional<Identity> authenticateWithoutWaiting(Metadata headers, SSLSession session) {
        String header = headers.get(AUTHORIZATION);
        if (header != null) {
            String token = bearer(header.trim());
            if (token != null) {
                return bearerTokens().cached(token);
            }
            Basic basic = basic(header.trim());
            return passwords().checkCached(basic.user(), basic.password()).map(r -> r.identity().orElseThrow());
        }
        return Optional.of(withoutPassword(session));
    }

    /** The identity the call's credentials prove, checking a password however long it takes. */
    public Identity authenticate(Metadata headers, SSLSession session) {
        String header = headers.get(AUTHORIZATION);
        if (header != null) {
            String token = bearer(header.trim());
            if (token != null) {
                return bearerTokens().verify(token);
            }
            Basic basic = basic(header.trim());
            PasswordCheck.Result r = passwords().check(basic.user(), basic.password());
            return switch (r.outcome()) {
                case ACCEPTED -> r.identity().orElseThrow();
                case BUSY -> throw Status.UNAVAILABLE.withDescription("too many password checks at once; try again")
                        .asRuntimeException();
                case REJECTED -> throw Status.UNAUTHENTICATED.withDescription("unknown user or wrong password")
                        .asRuntimeException();
            };
        }
        return withoutPassword(session);
    }

    /** The user name a call's Basic header tries, for audit lines (null without one, or when malformed). */
    public static String triedUser(Metadata headers) {
        String header = headers.get(AUTHORIZATION);
        try {
            return header == null ? null : basic(header.trim()).user();
        } catch (StatusRuntimeException e) {
            return null;
        }
    }

    private Identity withoutPassword(SSLSession session) {
        Optional<Identity> certified = fromCertificate(session);
        if (certified.isPresent()) {
            return certified.get();
        }
        if (required) {
            throw Status.UNAUTHENTICATED.withDescription("no credentials: give a user and password (--user, "
                    + "STRATA_USER and STRATA_PASSWORD) or a client certificate").asRuntimeException();
        }
        return Identity.ANONYMOUS;
    }

    private PasswordCheck passwords() {
        PasswordCheck check = passwords;
        if (check == null) {
            throw Status.UNAVAILABLE.withDescription("the node is starting").asRuntimeException();
        }
        return check;
    }

    /** The token of a Bearer header, or null for another scheme. */
    private static String bearer(String header) {
        return header.regionMatches(true, 0, "Bearer ", 0, 7) ? header.substring(7).trim() : null;
    }

    /** Whether the node takes bearer tokens (strata.auth.jwt.keys is set). */
    public boolean takesTokens() {
        return tokens != null;
    }

    /**
     * The identity a bearer token proves (may fetch the issuer's keys: not on an event loop); UNAUTHENTICATED when it
     * proves none.
     */
    public Identity verifyToken(String token) {
        return bearerTokens().verify(token);
    }

    /** When a token {@link #verifyToken} verified expires (0 when not known): a Kafka connection ends then. */
    public long tokenExpiresAtMs(String token) {
        BearerTokens t = tokens;
        return t == null ? 0 : t.expiresAtMs(token);
    }

    private BearerTokens bearerTokens() {
        BearerTokens t = tokens;
        if (t == null) {
            throw Status.UNAUTHENTICATED.withDescription("this node takes no bearer tokens (strata.auth.jwt.keys is "
                    + "not set): sign in with a user and password or a client certificate").asRuntimeException();
        }
        return t;
    }

    private static Basic basic(String header) {
        int space = header.indexOf(' ');
        String scheme = space < 0 ? header : header.substring(0, space);
        if (!scheme.equalsIgnoreCase("Basic")) {
            throw Status.UNAUTHENTICATED.withDescription("unsupported authorization scheme '"
                    + (scheme.length() > 16 ? scheme.substring(0, 16) + "…" : scheme) + "': this node takes Basic and Bearer")
                    .asRuntimeException();
        }
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(header.substring(space + 1).trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw Status.UNAUTHENTICATED.withDescription("malformed Basic credentials").asRuntimeException();
        }
        int colon = decoded.indexOf(':');
        if (colon <= 0) {
            throw Status.UNAUTHENTICATED.withDescription("malformed Basic credentials (user:password)").asRuntimeException();
        }
        return new Basic(decoded.substring(0, colon), decoded.substring(colon + 1));
    }

    private Optional<Identity> fromCertificate(SSLSession session) {
        if (session == null) {
            return Optional.empty();
        }
        Certificate[] chain;
        try {
            chain = session.getPeerCertificates();
        } catch (SSLPeerUnverifiedException e) {
            return Optional.empty();
        }
        if (chain.length == 0 || !(chain[0] instanceof X509Certificate x509)) {
            return Optional.empty();
        }
        String name = certificateName(x509);
        Optional<String> user = name == null ? Optional.empty() : rules.apply(name);
        if (user.isEmpty()) {
            throw Status.UNAUTHENTICATED.withDescription("the client certificate's name "
                    + io.strata.metadata.InputText.quoted(String.valueOf(name))
                    + " matches no strata.auth.principal-mapping-rules").asRuntimeException();
        }
        return Optional.of(new Identity(io.strata.metadata.security.Principals.user(user.get()), List.of(), "certificate"));
    }

    private String certificateName(X509Certificate certificate) {
        if ("subject".equals(config.auth().certificateName())) {
            return certificate.getSubjectX500Principal().getName();
        }
        try {
            var names = certificate.getSubjectAlternativeNames();
            if (names != null) {
                for (List<?> n : names) {
                    int type = (Integer) n.get(0);
                    if (type == 1 || type == 2 || type == 6) { // e-mail, DNS, URI (a SPIFFE id)
                        return String.valueOf(n.get(1));
                    }
                }
            }
        } catch (java.security.cert.CertificateParsingException e) {
            return null;
        }
        return null;
    }

    /** Whether {@code who} may do what {@code need} says (always, when nothing is checked). */
    public boolean allowed(Identity who, Need need) {
        if (!required) {
            return true;
        }
        Authorizer a = authorizer;
        if (a == null) {
            throw Status.UNAVAILABLE.withDescription("the node is starting").asRuntimeException();
        }
        return a.allowed(who, need.operation(), need.type(), need.name());
    }

    /**
     * For a stream that outlives its first check: null while {@code who} still has {@code need} (and, for a
     * password user, still exists), else the PERMISSION_DENIED to end it with.
     */
    public StatusRuntimeException stillAllowed(Identity who, Need need) {
        if (!required) {
            return null;
        }
        try {
            if (!allowed(who, need)) {
                return denied(who, need);
            }
            Authorizer a = authorizer;
            if ("password".equals(who.via()) && a != null && a.user(who.principal().substring(
                    io.strata.metadata.security.Principals.USER.length())).isEmpty()) {
                return Status.PERMISSION_DENIED.withDescription(who.principal() + " was removed").asRuntimeException();
            }
            return null;
        } catch (StatusRuntimeException e) {
            return e;
        }
    }

    /** Fails with PERMISSION_DENIED, naming what was missing, unless {@code who} has every need; writes the denial to the audit log. */
    public void require(Identity who, List<Need> needs, String address, String action) {
        for (Need n : needs) {
            if (!allowed(who, n)) {
                AuditLog.record(who, address, action, n.resource(), "denied: " + n.operation().label());
                throw denied(who, n);
            }
        }
    }

    public static StatusRuntimeException denied(Identity who, Need need) {
        return Status.PERMISSION_DENIED.withDescription(who.principal() + " may not " + need.operation().label()
                + " " + need.resource() + " (no ACL allows it)").asRuntimeException();
    }

    /** Whether the client ports (gRPC and the Kafka listener) speak TLS. */
    public boolean clientPortsEncrypted() {
        return tls.clientPortsEncrypted();
    }

    /** A user as this node knows it (empty before start, or when there is none). */
    public Optional<io.strata.metadata.security.User> user(String name) {
        Authorizer a = authorizer;
        return a == null || name == null ? Optional.empty() : a.user(name);
    }

    /** Whether the password is the user's (the slow check, for a caller already off the event loop). */
    public boolean passwordAccepted(String user, String password) {
        PasswordCheck check = passwords;
        return check != null && user != null
                && check.check(user, password).outcome() == PasswordCheck.Outcome.ACCEPTED;
    }

    /** The identity a client certificate proves, or null without one or when no mapping rule names it. */
    public Identity certificateIdentity(SSLSession session) {
        try {
            return fromCertificate(session).orElse(null);
        } catch (StatusRuntimeException e) {
            return null;
        }
    }

    /** Where slow checks run for callers that have no worker of their own (the Kafka listener's SASL). */
    public java.util.concurrent.Executor slowWork() {
        return SLOW_WORK;
    }

    private static final java.util.concurrent.ThreadPoolExecutor SLOW_WORK = new java.util.concurrent.ThreadPoolExecutor(
            2, 2, 60, java.util.concurrent.TimeUnit.SECONDS, new java.util.concurrent.ArrayBlockingQueue<>(1_000), r -> {
                Thread t = new Thread(r, "strata-auth-check");
                t.setDaemon(true);
                return t;
            });

    /** Whether {@code principal} is named a super-user here. */
    public boolean superUserPrincipal(String principal) {
        return config.auth().superUsers().orElse(List.of()).contains(principal);
    }

    public boolean superUser(Identity who) {
        Authorizer a = authorizer;
        return a != null && a.superUser(who);
    }

    /** How this node's producer ids name the principal they are issued to (once started). */
    public io.strata.metadata.security.ProducerIdBinding producerIds() {
        return producerIds;
    }

    /**
     * Whether {@code who} may produce with {@code producerId} (0: none): only the principal the id was issued to may
     * (with authentication off every caller is User:ANONYMOUS, and an id that names nobody is a forged one), so
     * nobody disturbs another's sequences or passes its retries off. An id of the older form names nobody: the
     * ingest node answers it (unknown where authentication is required).
     */
    public boolean mayUseProducerId(Identity who, long producerId) {
        io.strata.metadata.security.ProducerIdBinding b = producerIds;
        return producerId == 0 || !io.strata.metadata.security.ProducerIdBinding.bound(producerId) || b == null
                || b.boundTo(producerId, who.principal());
    }

    /**
     * Fails the call unless {@link #mayUseProducerId}: PERMISSION_DENIED where authentication is required, else
     * ABORTED as for an unknown producer id (the producer asks for a new one).
     */
    public void requireProducerId(Identity who, long producerId, String address, String action) {
        if (mayUseProducerId(who, producerId)) {
            return;
        }
        if (!required) {
            throw Status.ABORTED.withDescription("unknown producer id " + producerId + ": ask InitProducer for one")
                    .asRuntimeException();
        }
        AuditLog.record(who, address, action, "producer id " + producerId, "denied: issued to another principal");
        throw Status.PERMISSION_DENIED.withDescription(who.principal() + " may not produce with producer id "
                + producerId + ": it was issued to another principal (InitProducer issues one of your own)")
                .asRuntimeException();
    }

    /** The cluster's quotas by entity as this node knows them (none until started). */
    public java.util.Map<String, io.strata.metadata.security.Quota> quotas() {
        Authorizer a = authorizer;
        return a == null ? java.util.Map.of() : a.snapshot().quotas();
    }

    /** The store of users and ACLs, once started. */
    public SecurityStore store() {
        SecurityStore s = store;
        if (s == null) {
            throw Status.UNAVAILABLE.withDescription("the node is starting").asRuntimeException();
        }
        return s;
    }

    /**
     * Stops following users and ACLs. The node calls it before it closes the metadata store (the container's own
     * call comes after): a store that closes under a live watch reads as a broken one, which is warned of and read
     * again. The rules last followed stay in force for calls still being answered.
     */
    @PreDestroy
    public void close() {
        closeQuietly(authorizer);
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception e) {
                // closing anyway
            }
        }
    }
}
