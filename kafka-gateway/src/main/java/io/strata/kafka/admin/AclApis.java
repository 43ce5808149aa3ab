package io.strata.kafka.admin;

import io.strata.kafka.KafkaApi;
import io.strata.kafka.KafkaErrors;
import io.strata.kafka.KafkaRequest;
import io.strata.metadata.security.Acl;
import io.strata.metadata.security.SecurityStore;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.message.CreateAclsRequestData;
import org.apache.kafka.common.message.CreateAclsResponseData;
import org.apache.kafka.common.message.DeleteAclsResponseData;
import org.apache.kafka.common.message.DescribeAclsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ApiError;
import org.apache.kafka.common.requests.CreateAclsRequest;
import org.apache.kafka.common.requests.DeleteAclsRequest;
import org.apache.kafka.common.requests.DeleteAclsResponse;
import org.apache.kafka.common.requests.DescribeAclsRequest;
import org.apache.kafka.common.requests.DescribeAclsResponse;

/**
 * CreateAcls, DescribeAcls and DeleteAcls ({@code kafka-acls.sh}, AKHQ, Kafka UI, Terraform's Kafka provider): the
 * cluster's ACLs, the very rules {@code strata acls} keeps, in Kafka's words ({@link KafkaAclForms}). A rule added
 * here is in force on every node as one added by {@code strata acls add} is. Creating a rule that exists succeeds
 * (as in Kafka); a rule Strata cannot hold is refused alone with INVALID_REQUEST saying why. All three need admin
 * on the cluster, as the gRPC door's ACL calls do.
 */
public final class AclApis {
    private final SecurityStore store;

    public AclApis(SecurityStore store) {
        this.store = store;
    }

    public List<KafkaApi> all() {
        return List.of(KafkaApi.of(ApiKeys.CREATE_ACLS, 1, 3, this::create),
                KafkaApi.of(ApiKeys.DESCRIBE_ACLS, 1, 3, this::describe),
                KafkaApi.of(ApiKeys.DELETE_ACLS, 1, 3, this::delete));
    }

    private CompletableFuture<ApiMessage> create(KafkaRequest request) {
        CreateAclsRequestData data = (CreateAclsRequestData) request.body().data();
        CreateAclsResponseData response = new CreateAclsResponseData();
        CompletableFuture<Void> done = CompletableFuture.completedFuture(null);
        for (CreateAclsRequestData.AclCreation creation : data.creations()) {
            CreateAclsResponseData.AclCreationResult result = new CreateAclsResponseData.AclCreationResult()
                    .setErrorCode(Errors.NONE.code());
            response.results().add(result);
            if (response.results().size() > MAX_PER_REQUEST) {
                result.setErrorCode(Errors.POLICY_VIOLATION.code()).setErrorMessage(TOO_MANY);
                continue;
            }
            Acl acl;
            try {
                acl = KafkaAclForms.toStrata(CreateAclsRequest.aclBinding(creation));
            } catch (IllegalArgumentException e) {
                result.setErrorCode(Errors.INVALID_REQUEST.code()).setErrorMessage(e.getMessage());
                continue;
            }
            // One at a time: each takes a read of the rules (the store's bound on their number) and a write.
            done = done.thenCompose(v -> store.addAcl(acl).handle((added, failure) -> {
                if (failure != null) {
                    result.setErrorCode(error(failure).code()).setErrorMessage(KafkaErrors.describe(failure));
                }
                return null;
            }));
        }
        return done.thenApply(v -> response);
    }

    /**
     * Rules (or users) one request may change; those past it are refused. Each change reads the store's rules (its
     * bound on their number) and writes: one request may not start unbounded store work. Kafka's tools send a few.
     */
    public static final int MAX_PER_REQUEST = 100;
    static final String TOO_MANY = "at most " + MAX_PER_REQUEST + " a request";

    /** The store's answer in Kafka's words: a full store (its bound on rules or users) is a policy's refusal. */
    static Errors error(Throwable failure) {
        Throwable t = KafkaErrors.unwrap(failure);
        return t instanceof io.strata.metadata.security.SecurityStoreFullException ? Errors.POLICY_VIOLATION
                : KafkaErrors.forAdmin(failure);
    }

    private CompletableFuture<ApiMessage> describe(KafkaRequest request) {
        AclBindingFilter filter = ((DescribeAclsRequest) request.body()).filter();
        return store.read().thenApply(snapshot -> {
            List<AclBinding> matching = snapshot.acls().stream().map(KafkaAclForms::toKafka)
                    .flatMap(java.util.Optional::stream).filter(filter::matches).toList();
            return new DescribeAclsResponseData().setErrorCode(Errors.NONE.code())
                    .setResources(DescribeAclsResponse.aclsResources(matching));
        });
    }

    private CompletableFuture<ApiMessage> delete(KafkaRequest request) {
        List<AclBindingFilter> filters = ((DeleteAclsRequest) request.body()).filters();
        return store.read().thenCompose(snapshot -> {
            DeleteAclsResponseData response = new DeleteAclsResponseData();
            CompletableFuture<Void> done = CompletableFuture.completedFuture(null);
            // A rule several filters match is removed once; each of their answers tells how that went.
            java.util.Map<Acl, List<DeleteAclsResponseData.DeleteAclsMatchingAcl>> taken = new java.util.LinkedHashMap<>();
            for (AclBindingFilter filter : filters) {
                DeleteAclsResponseData.DeleteAclsFilterResult result = new DeleteAclsResponseData.DeleteAclsFilterResult()
                        .setErrorCode(Errors.NONE.code());
                response.filterResults().add(result);
                if (response.filterResults().size() > MAX_PER_REQUEST) {
                    result.setErrorCode(Errors.POLICY_VIOLATION.code()).setErrorMessage(TOO_MANY);
                    continue;
                }
                for (Acl acl : snapshot.acls()) {
                    AclBinding binding = KafkaAclForms.toKafka(acl).orElse(null);
                    if (binding == null || !filter.matches(binding)) {
                        continue;
                    }
                    if (!taken.containsKey(acl) && taken.size() >= MAX_PER_REQUEST) {
                        // The rest of this filter's matches stay: the answer says so, and lists only what went.
                        result.setErrorCode(Errors.POLICY_VIOLATION.code()).setErrorMessage("matches more rules than "
                                + "one request removes (" + MAX_PER_REQUEST + "): repeat it to remove the rest");
                        break;
                    }
                    DeleteAclsResponseData.DeleteAclsMatchingAcl matched = DeleteAclsResponse.matchingAcl(binding,
                            ApiError.NONE);
                    result.matchingAcls().add(matched);
                    taken.computeIfAbsent(acl, a -> new java.util.ArrayList<>()).add(matched);
                }
            }
            for (var e : taken.entrySet()) {
                done = done.thenCompose(v -> store.removeAcl(e.getKey()).handle((removed, failure) -> {
                    if (failure != null) {
                        e.getValue().forEach(m -> m.setErrorCode(error(failure).code())
                                .setErrorMessage(KafkaErrors.describe(failure)));
                    }
                    return null;
                }));
            }
            return done.thenApply(v -> response);
        });
    }
}
