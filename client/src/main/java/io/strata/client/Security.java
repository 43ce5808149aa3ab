package io.strata.client;

import io.grpc.Channel;
import io.strata.api.v1.AclEntry;
import io.strata.api.v1.AclRequest;
import io.strata.api.v1.AddUserRequest;
import io.strata.api.v1.ListAclsRequest;
import io.strata.api.v1.ListUsersRequest;
import io.strata.api.v1.RemoveUserRequest;
import io.strata.api.v1.SecurityServiceGrpc;
import io.strata.api.v1.SecurityServiceGrpc.SecurityServiceBlockingStub;
import io.strata.api.v1.UserInfo;
import io.strata.api.v1.WhoAmIRequest;
import io.strata.api.v1.WhoAmIResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Users, ACLs, quotas and who the client is signed in as (docs/security.md). Changes need admin on the cluster and are
 * in force on every node within a second. Every method blocks for one call within the client's deadline and
 * throws {@link StrataException} when it fails. Thread-safe; made and owned by {@link StrataClient}.
 */
public final class Security {
    private final NodeRouter router;
    private final Duration deadline;

    Security(NodeRouter router, Duration deadline) {
        this.router = router;
        this.deadline = deadline;
    }

    public WhoAmIResponse whoAmI() {
        return router.onAnyNode(call(stub -> stub.whoAmI(WhoAmIRequest.getDefaultInstance())));
    }

    /** Fails with ALREADY_EXISTS for an existing user unless {@code replace}. Answers whether one was replaced. */
    public boolean addUser(String name, String password, List<String> groups, boolean replace) {
        AddUserRequest request = AddUserRequest.newBuilder().setName(name).setPassword(password).addAllGroups(groups)
                .setReplace(replace).build();
        return router.onAnyNodeAtMostOnce(call(stub -> stub.addUser(request))).getReplaced();
    }

    /** Fails with NOT_FOUND when there is no such user. */
    public void removeUser(String name) {
        router.onAnyNodeAtMostOnce(call(stub -> stub.removeUser(RemoveUserRequest.newBuilder().setName(name).build())));
    }

    public List<UserInfo> listUsers() {
        return router.onAnyNode(call(stub -> stub.listUsers(ListUsersRequest.getDefaultInstance()))).getUsersList();
    }

    /** Fails with ALREADY_EXISTS when the same rule exists. */
    public void addAcl(AclEntry acl) {
        router.onAnyNodeAtMostOnce(call(stub -> stub.addAcl(AclRequest.newBuilder().setAcl(acl).build())));
    }

    /** Fails with NOT_FOUND when there is no such rule. */
    public void removeAcl(AclEntry acl) {
        router.onAnyNodeAtMostOnce(call(stub -> stub.removeAcl(AclRequest.newBuilder().setAcl(acl).build())));
    }

    /** Every rule, or those of one principal ("" for all). */
    public List<AclEntry> listAcls(String principal) {
        return router.onAnyNode(call(stub -> stub.listAcls(ListAclsRequest.newBuilder().setPrincipal(principal)
                .build()))).getAclsList();
    }

    /** Sets {@code quota.entity}'s quota ("User:NAME" or "&lt;default&gt;"), replacing what it had. */
    public void setQuota(io.strata.api.v1.QuotaEntry quota) {
        router.onAnyNode(call(stub -> stub.setQuota(io.strata.api.v1.SetQuotaRequest.newBuilder().setQuota(quota)
                .build())));
    }

    /** Fails with NOT_FOUND when the entity has no quota. */
    public void removeQuota(String entity) {
        router.onAnyNodeAtMostOnce(call(stub -> stub.removeQuota(io.strata.api.v1.RemoveQuotaRequest.newBuilder()
                .setEntity(entity).build())));
    }

    public List<io.strata.api.v1.QuotaEntry> listQuotas() {
        return router.onAnyNode(call(stub -> stub.listQuotas(io.strata.api.v1.ListQuotasRequest.getDefaultInstance())))
                .getQuotasList();
    }

    private <T> Function<Channel, T> call(Function<SecurityServiceBlockingStub, T> rpc) {
        return channel -> rpc.apply(SecurityServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS));
    }
}
