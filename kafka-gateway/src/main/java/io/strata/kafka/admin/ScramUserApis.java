package io.strata.kafka.admin;

import io.strata.kafka.KafkaApi;
import io.strata.kafka.KafkaErrors;
import io.strata.kafka.KafkaRequest;
import io.strata.kafka.auth.KafkaGuard;
import io.strata.metadata.security.ScramCredential;
import io.strata.metadata.security.SecurityStore;
import io.strata.metadata.security.User;
import io.strata.security.Identity;
import io.strata.security.Scram;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.common.message.AlterUserScramCredentialsRequestData;
import org.apache.kafka.common.message.AlterUserScramCredentialsResponseData;
import org.apache.kafka.common.message.DescribeUserScramCredentialsRequestData;
import org.apache.kafka.common.message.DescribeUserScramCredentialsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * DescribeUserScramCredentials and AlterUserScramCredentials ({@code kafka-configs --entity-type users
 * --alter --add-config 'SCRAM-SHA-512=[password=...]'}, the admin client's {@code alterUserScramCredentials}): the
 * users of {@code strata users}, whose only credential is SCRAM-SHA-512 material. A client salts the password itself
 * and sends PBKDF2's output, from which the material is made; the password never crosses the wire. Upserting a
 * user's credential adds the user or changes its password (its groups stay); deleting it removes the user, which
 * has no other way to sign in. SCRAM-SHA-256 is refused: Strata keeps SCRAM-SHA-512 only. A super-user's
 * credential is changed only by a super-user, as over gRPC. Both need admin on the cluster, as {@code strata users}
 * does.
 */
public final class ScramUserApis {
    /** Kafka's bounds for SCRAM-SHA-512 iterations. */
    static final int MIN_ITERATIONS = 4096;
    static final int MAX_ITERATIONS = 16384;
    private final SecurityStore store;
    private final KafkaGuard guard;

    public ScramUserApis(SecurityStore store, KafkaGuard guard) {
        this.store = store;
        this.guard = guard;
    }

    public List<KafkaApi> all() {
        return List.of(KafkaApi.of(ApiKeys.DESCRIBE_USER_SCRAM_CREDENTIALS, 0, 0, this::describe),
                KafkaApi.of(ApiKeys.ALTER_USER_SCRAM_CREDENTIALS, 0, 0, this::alter));
    }

    private CompletableFuture<ApiMessage> describe(KafkaRequest request) {
        DescribeUserScramCredentialsRequestData data = (DescribeUserScramCredentialsRequestData) request.body().data();
        return store.read().thenApply(snapshot -> {
            DescribeUserScramCredentialsResponseData response = new DescribeUserScramCredentialsResponseData()
                    .setErrorCode(Errors.NONE.code());
            List<String> names = new ArrayList<>();
            if (data.users() == null || data.users().isEmpty()) {
                names.addAll(new java.util.TreeSet<>(snapshot.users().keySet()));
            } else {
                data.users().forEach(u -> names.add(u.name()));
            }
            Set<String> seen = new HashSet<>();
            Set<String> twice = new HashSet<>();
            names.forEach(n -> (seen.add(n) ? seen : twice).add(n));
            for (String name : new java.util.LinkedHashSet<>(names)) {
                var result = new DescribeUserScramCredentialsResponseData.DescribeUserScramCredentialsResult()
                        .setUser(name).setErrorCode(Errors.NONE.code());
                User user = snapshot.users().get(name);
                if (twice.contains(name)) {
                    result.setErrorCode(Errors.DUPLICATE_RESOURCE.code()).setErrorMessage("user " + name + " asked twice");
                } else if (user == null) {
                    result.setErrorCode(Errors.RESOURCE_NOT_FOUND.code()).setErrorMessage("no user "
                            + io.strata.metadata.InputText.quoted(name));
                } else {
                    result.credentialInfos().add(new DescribeUserScramCredentialsResponseData.CredentialInfo()
                            .setMechanism(ScramMechanism.SCRAM_SHA_512.type())
                            .setIterations(user.credential().iterations()));
                }
                response.results().add(result);
            }
            return response;
        });
    }

    private CompletableFuture<ApiMessage> alter(KafkaRequest request) {
        AlterUserScramCredentialsRequestData data = (AlterUserScramCredentialsRequestData) request.body().data();
        Identity who = request.session().identity();
        AlterUserScramCredentialsResponseData response = new AlterUserScramCredentialsResponseData();
        Set<String> named = new HashSet<>();
        Set<String> twice = new HashSet<>();
        data.deletions().forEach(d -> (named.add(d.name()) ? named : twice).add(d.name()));
        data.upsertions().forEach(u -> (named.add(u.name()) ? named : twice).add(u.name()));
        CompletableFuture<Void> done = CompletableFuture.completedFuture(null);
        for (var deletion : data.deletions()) {
            var result = result(response, deletion.name());
            Refusal refusal = response.results().size() > AclApis.MAX_PER_REQUEST
                    ? new Refusal(Errors.POLICY_VIOLATION, AclApis.TOO_MANY)
                    : refusal(who, deletion.name(), deletion.mechanism(), twice);
            if (refusal != null) {
                result.setErrorCode(refusal.error().code()).setErrorMessage(refusal.why());
                continue;
            }
            done = done.thenCompose(v -> store.removeUser(deletion.name()).handle((removed, failure) -> {
                if (failure != null) {
                    result.setErrorCode(AclApis.error(failure).code()).setErrorMessage(KafkaErrors.describe(failure));
                } else if (!removed) {
                    result.setErrorCode(Errors.RESOURCE_NOT_FOUND.code()).setErrorMessage("no user "
                            + io.strata.metadata.InputText.quoted(deletion.name()));
                }
                return null;
            }));
        }
        for (var upsertion : data.upsertions()) {
            var result = result(response, upsertion.name());
            Refusal refusal = response.results().size() > AclApis.MAX_PER_REQUEST
                    ? new Refusal(Errors.POLICY_VIOLATION, AclApis.TOO_MANY)
                    : refusal(who, upsertion.name(), upsertion.mechanism(), twice);
            if (refusal == null) {
                refusal = unacceptable(upsertion);
            }
            if (refusal != null) {
                result.setErrorCode(refusal.error().code()).setErrorMessage(refusal.why());
                continue;
            }
            ScramCredential credential;
            try {
                credential = Scram.fromSaltedPassword(upsertion.saltedPassword(), upsertion.salt(), upsertion.iterations());
            } catch (IllegalArgumentException e) {
                result.setErrorCode(Errors.UNACCEPTABLE_CREDENTIAL.code()).setErrorMessage(e.getMessage());
                continue;
            }
            done = done.thenCompose(v -> store.setCredential(upsertion.name(), credential, System.currentTimeMillis())
                    .handle((set, failure) -> {
                        if (failure != null) {
                            result.setErrorCode(AclApis.error(failure).code())
                                    .setErrorMessage(KafkaErrors.describe(failure));
                        }
                        return null;
                    }));
        }
        return done.thenApply(v -> response);
    }

    /**
     * Why the credential is not one a SCRAM-SHA-512 sign-in can use: the salted password is PBKDF2-HMAC-SHA-512's
     * 64 bytes; the salt is 16 to 128 bytes (it goes to every client that names the user in a SCRAM exchange).
     */
    private static Refusal unacceptable(AlterUserScramCredentialsRequestData.ScramCredentialUpsertion u) {
        if (u.iterations() < MIN_ITERATIONS || u.iterations() > MAX_ITERATIONS) {
            return new Refusal(Errors.UNACCEPTABLE_CREDENTIAL, "iterations are " + MIN_ITERATIONS + " to "
                    + MAX_ITERATIONS + ", not " + u.iterations());
        }
        if (u.saltedPassword() == null || u.saltedPassword().length != 64) {
            return new Refusal(Errors.UNACCEPTABLE_CREDENTIAL, "a SCRAM-SHA-512 salted password is 64 bytes");
        }
        if (u.salt() == null || u.salt().length < 16 || u.salt().length > 128) {
            return new Refusal(Errors.UNACCEPTABLE_CREDENTIAL, "a salt is 16 to 128 bytes");
        }
        return null;
    }

    private static AlterUserScramCredentialsResponseData.AlterUserScramCredentialsResult result(
            AlterUserScramCredentialsResponseData response, String user) {
        var result = new AlterUserScramCredentialsResponseData.AlterUserScramCredentialsResult().setUser(user)
                .setErrorCode(Errors.NONE.code());
        response.results().add(result);
        return result;
    }

    private record Refusal(Errors error, String why) {
    }

    /** Why this change of {@code name}'s credential is refused before it is tried; null when it may be. */
    private Refusal refusal(Identity who, String name, byte mechanism, Set<String> twice) {
        if (twice.contains(name)) {
            return new Refusal(Errors.DUPLICATE_RESOURCE, "user " + io.strata.metadata.InputText.quoted(name)
                    + " is named twice");
        }
        if (mechanism != ScramMechanism.SCRAM_SHA_512.type()) {
            return new Refusal(Errors.UNSUPPORTED_SASL_MECHANISM, "Strata keeps SCRAM-SHA-512 credentials only, not "
                    + ScramMechanism.fromType(mechanism));
        }
        try {
            User.requireName(name);
        } catch (IllegalArgumentException e) {
            return new Refusal(Errors.UNACCEPTABLE_CREDENTIAL, e.getMessage());
        }
        if (!guard.mayChangeUser(who, name)) {
            return new Refusal(Errors.CLUSTER_AUTHORIZATION_FAILED, (who == null ? "an anonymous caller"
                    : who.principal()) + " may not change the super-user " + io.strata.metadata.InputText.quoted(name));
        }
        return null;
    }
}
