package io.strata.server.security;

import io.grpc.Status;
import io.smallrye.jwt.auth.principal.DefaultJWTParser;
import io.smallrye.jwt.auth.principal.JWTAuthContextInfo;
import io.smallrye.jwt.auth.principal.ParseException;
import io.strata.metadata.security.Principals;
import io.strata.security.Identity;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.eclipse.microprofile.jwt.JsonWebToken;

/**
 * Bearer tokens (JWT) checked with SmallRye JWT, the verifier Quarkus itself uses: the signature against the
 * issuer's keys (a JWKS URL, which it fetches and refreshes, as an OIDC provider or Kubernetes' service-account
 * issuer publishes them; or a key file), the issuer, the audience when given, and the expiry. The principal is
 * {@code User:} and the claim {@code principalClaim} names (Kubernetes: system:serviceaccount:NS:NAME); the
 * groups claim gives ACL groups. A token once verified is answered from a bounded cache until it expires.
 */
final class BearerTokens {
    private static final int MAX_CACHED = 10_000;
    /** A token verified is believed this long at most, whatever its expiry: a key removed from the JWKS counts soon. */
    private static final long MAX_CACHED_MS = 5 * 60_000;
    private final DefaultJWTParser parser;
    private final String principalClaim;
    private final String groupsClaim;
    private final Map<String, Verified> verified = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Verified> eldest) {
            return size() > MAX_CACHED;
        }
    };

    /** A token verified: who it proves, until when that is cached, and when the token itself expires. */
    private record Verified(Identity identity, long expiresAtMs, long tokenExpiresAtMs) {
    }

    /** When a token verified here expires (its exp claim), or 0 when it is not (or no longer) known here. */
    long expiresAtMs(String token) {
        synchronized (verified) {
            Verified v = verified.get(digest(token));
            return v == null ? 0 : v.tokenExpiresAtMs;
        }
    }

    BearerTokens(String keys, String issuer, Optional<List<String>> audiences, String principalClaim,
                 String groupsClaim) {
        JWTAuthContextInfo info = new JWTAuthContextInfo(keys, issuer);
        audiences.ifPresent(a -> info.setExpectedAudience(Set.copyOf(a)));
        info.setJwksRefreshInterval(10); // minutes; an unknown key id fetches the keys again at once
        this.parser = new DefaultJWTParser(info);
        this.principalClaim = principalClaim;
        this.groupsClaim = groupsClaim;
    }

    /** The identity of a token verified before and not expired since; empty when it must be verified. */
    Optional<Identity> cached(String token) {
        String key = digest(token);
        synchronized (verified) {
            Verified v = verified.get(key);
            if (v != null && v.expiresAtMs > System.currentTimeMillis()) {
                return Optional.of(v.identity);
            }
        }
        return Optional.empty();
    }

    /** Verifies the token (may fetch the issuer's keys: not on an event loop); UNAUTHENTICATED when it fails. */
    Identity verify(String token) {
        Optional<Identity> known = cached(token);
        if (known.isPresent()) {
            return known.get();
        }
        JsonWebToken jwt;
        String name;
        List<String> groups = new ArrayList<>();
        try {
            jwt = parser.parse(token);
            name = text(jwt.getClaim(principalClaim));
            Object claim = jwt.getClaim(groupsClaim);
            if (claim instanceof Iterable<?> values) {
                for (Object g : values) {
                    String group = text(g);
                    if (group != null && group.matches("[A-Za-z0-9._@-]{1,128}")) {
                        groups.add(group);
                    }
                }
            }
        } catch (ParseException | RuntimeException e) {
            throw Status.UNAUTHENTICATED.withDescription("invalid or expired token").asRuntimeException();
        }
        if (name == null || name.isEmpty()) {
            throw Status.UNAUTHENTICATED.withDescription("the token has no text " + principalClaim + " claim")
                    .asRuntimeException();
        }
        Identity identity;
        try {
            identity = new Identity(Principals.user(name), groups, "token");
        } catch (IllegalArgumentException e) {
            throw Status.UNAUTHENTICATED.withDescription("the token's " + principalClaim + " is no principal name")
                    .asRuntimeException();
        }
        synchronized (verified) {
            verified.put(digest(token), new Verified(identity, Math.min(jwt.getExpirationTime() * 1000,
                    System.currentTimeMillis() + MAX_CACHED_MS), jwt.getExpirationTime() * 1000));
        }
        return identity;
    }

    /** A claim's text: a string, or a JSON string's value; null for anything else (a number, an object). */
    private static String text(Object claim) {
        if (claim instanceof String s) {
            return s;
        }
        if (claim instanceof jakarta.json.JsonString j) {
            return j.getString();
        }
        return null;
    }

    private static String digest(String token) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(token.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
