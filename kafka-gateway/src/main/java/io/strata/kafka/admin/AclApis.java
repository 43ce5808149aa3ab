package io.strata.kafka.admin;

import io.strata.kafka.KafkaApi;
import io.strata.kafka.KafkaErrors;
import io.strata.kafka.KafkaRequest;
import io.strata.metadata.security.Acl;
import io.strata.metadata.security.SecurityStore;
import java.util.ArrayList;
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
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (CreateAclsRequestData.AclCreation creation : data.creations()) {
            CreateAclsResponseData.AclCreationResult result = new CreateAclsResponseData.AclCreationResult()
                    .setErrorCode(Errors.NONE.code());
            response.results().add(result);
            Acl acl;
            try {
                acl = KafkaAclForms.toStrata(CreateAclsRequest.aclBinding(creation));
            } catch (IllegalArgumentException e) {
                result.setErrorCode(Errors.INVALID_REQUEST.code()).setErrorMessage(e.getMessage());
                continue;
            }
            all.add(store.addAcl(acl).handle((added, failure) -> {
                if (failure != null) {
                    result.setErrorCode(KafkaErrors.forAdmin(failure).code()).setErrorMessage(KafkaErrors.describe(failure));
                }
                return null;
            }));
        }
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).thenApply(v -> response);
    }

    private CompletableFuture<ApiMessage> describe(KafkaRequest request) {
        AclBindingFilter filter = ((DescribeAclsRequest) request.body()).filter();
        return store.read().thenApply(snapshot -> {
            List<AclBinding> matching = snapshot.acls().stream().map(KafkaAclForms::toKafka).filter(filter::matches)
                    .toList();
            return new DescribeAclsResponseData().setErrorCode(Errors.NONE.code())
                    .setResources(DescribeAclsResponse.aclsResources(matching));
        });
    }

    private CompletableFuture<ApiMessage> delete(KafkaRequest request) {
        List<AclBindingFilter> filters = ((DeleteAclsRequest) request.body()).filters();
        return store.read().thenCompose(snapshot -> {
            DeleteAclsResponseData response = new DeleteAclsResponseData();
            List<CompletableFuture<Void>> all = new ArrayList<>();
            for (AclBindingFilter filter : filters) {
                DeleteAclsResponseData.DeleteAclsFilterResult result = new DeleteAclsResponseData.DeleteAclsFilterResult()
                        .setErrorCode(Errors.NONE.code());
                response.filterResults().add(result);
                for (Acl acl : snapshot.acls()) {
                    AclBinding binding = KafkaAclForms.toKafka(acl);
                    if (!filter.matches(binding)) {
                        continue;
                    }
                    DeleteAclsResponseData.DeleteAclsMatchingAcl matched = DeleteAclsResponse.matchingAcl(binding,
                            ApiError.NONE);
                    result.matchingAcls().add(matched);
                    all.add(store.removeAcl(acl).handle((removed, failure) -> {
                        if (failure != null) {
                            matched.setErrorCode(KafkaErrors.forAdmin(failure).code())
                                    .setErrorMessage(KafkaErrors.describe(failure));
                        }
                        return null;
                    }));
                }
            }
            return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).thenApply(v -> response);
        });
    }
}
