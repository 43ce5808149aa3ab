package io.strata.server.grpc;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import io.strata.api.v1.AclEntry;
import io.strata.api.v1.AclRequest;
import io.strata.api.v1.AclResourceType;
import io.strata.api.v1.AclResponse;
import io.strata.api.v1.AddUserRequest;
import io.strata.api.v1.AddUserResponse;
import io.strata.api.v1.ListAclsRequest;
import io.strata.api.v1.ListAclsResponse;
import io.strata.api.v1.ListUsersRequest;
import io.strata.api.v1.ListUsersResponse;
import io.strata.api.v1.RemoveUserRequest;
import io.strata.api.v1.RemoveUserResponse;
import io.strata.api.v1.SecurityServiceGrpc;
import io.strata.api.v1.UserInfo;
import io.strata.api.v1.WhoAmIRequest;
import io.strata.api.v1.WhoAmIResponse;
import io.strata.metadata.security.Acl;
import io.strata.metadata.security.AclOperation;
import io.strata.metadata.security.ResourceType;
import io.strata.metadata.security.User;
import io.strata.security.Identity;
import io.strata.security.Scram;
import io.strata.server.security.AccessControl;
import io.strata.server.security.CallIdentity;
import jakarta.inject.Inject;
import java.util.Comparator;
import java.util.concurrent.CompletableFuture;

/**
 * gRPC adapter of users and ACLs (every node). Blocking: making a password's SCRAM material is a few milliseconds
 * of PBKDF2, and the embedded store may sync to disk on the calling thread.
 */
@GrpcService
@Blocking
public class SecurityEndpoint extends SecurityServiceGrpc.SecurityServiceImplBase {
    /** Enough to resist guessing from a stolen store; a user who needs more brings a certificate. */
    private static final int MIN_PASSWORD_CHARS = 8;
    private static final int MAX_PASSWORD_CHARS = 1024;

    @Inject
    AccessControl access;

    @Override
    public void whoAmI(WhoAmIRequest request, StreamObserver<WhoAmIResponse> observer) {
        Identity who = CallIdentity.current();
        GrpcErrors.reply(observer, () -> CompletableFuture.completedFuture(WhoAmIResponse.newBuilder()
                .setPrincipal(who.principal()).addAllGroups(who.groups()).setSuperUser(access.superUser(who))
                .setAuthenticatedBy(who.via()).setAuthRequired(access.required()).build()));
    }

    /**
     * A super-user's account is a super-user's to change: an admin of the cluster must not take over a
     * super-user's name (a new password, or a password user for a certificate's super-user) and so escape every deny.
     */
    private void requireSuperUserFor(String name) {
        Identity who = CallIdentity.current();
        if (access.superUserPrincipal(io.strata.metadata.security.Principals.user(name)) && !access.superUser(who)) {
            throw Status.PERMISSION_DENIED.withDescription(who.principal() + " may not change the super-user "
                    + io.strata.metadata.InputText.quoted(name)).asRuntimeException();
        }
    }

    @Override
    public void addUser(AddUserRequest request, StreamObserver<AddUserResponse> observer) {
        GrpcErrors.reply(observer, () -> {
            requireSuperUserFor(request.getName());
            String password = request.getPassword();
            if (password.length() < MIN_PASSWORD_CHARS || password.length() > MAX_PASSWORD_CHARS) {
                throw new IllegalArgumentException("a password has " + MIN_PASSWORD_CHARS + " to " + MAX_PASSWORD_CHARS
                        + " characters");
            }
            User user = new User(request.getName(), Scram.create(password), request.getGroupsList(),
                    System.currentTimeMillis());
            return access.store().user(user.name()).thenCompose(existing -> access.store()
                    .putUser(user, request.getReplace()).thenApply(done -> {
                        if (!done) {
                            throw Status.ALREADY_EXISTS.withDescription("user " + user.name() + " exists (replace it "
                                    + "to change its password or groups)").asRuntimeException();
                        }
                        return AddUserResponse.newBuilder().setReplaced(existing.isPresent()).build();
                    }));
        });
    }

    @Override
    public void removeUser(RemoveUserRequest request, StreamObserver<RemoveUserResponse> observer) {
        GrpcErrors.reply(observer, () -> {
            requireSuperUserFor(request.getName());
            return access.store().removeUser(request.getName()).thenApply(done -> {
                if (!done) {
                    throw Status.NOT_FOUND.withDescription("no user "
                            + io.strata.metadata.InputText.quoted(request.getName())).asRuntimeException();
                }
                return RemoveUserResponse.getDefaultInstance();
            });
        });
    }


    @Override
    public void listUsers(ListUsersRequest request, StreamObserver<ListUsersResponse> observer) {
        GrpcErrors.reply(observer, () -> access.store().read().thenApply(s -> ListUsersResponse.newBuilder()
                .addAllUsers(s.users().values().stream().sorted(Comparator.comparing(User::name))
                        .map(u -> UserInfo.newBuilder().setName(u.name()).addAllGroups(u.groups())
                                .setCreatedAtMs(u.createdAtMs()).build()).toList()).build()));
    }

    @Override
    public void addAcl(AclRequest request, StreamObserver<AclResponse> observer) {
        GrpcErrors.reply(observer, () -> {
            Acl acl = fromProto(request.getAcl());
            return access.store().addAcl(acl).thenApply(done -> {
                if (!done) {
                    throw Status.ALREADY_EXISTS.withDescription("the rule exists: " + acl).asRuntimeException();
                }
                return AclResponse.getDefaultInstance();
            });
        });
    }

    @Override
    public void removeAcl(AclRequest request, StreamObserver<AclResponse> observer) {
        GrpcErrors.reply(observer, () -> {
            Acl acl = fromProto(request.getAcl());
            return access.store().removeAcl(acl).thenApply(done -> {
                if (!done) {
                    throw Status.NOT_FOUND.withDescription("no such rule: " + acl).asRuntimeException();
                }
                return AclResponse.getDefaultInstance();
            });
        });
    }

    @Override
    public void listAcls(ListAclsRequest request, StreamObserver<ListAclsResponse> observer) {
        GrpcErrors.reply(observer, () -> access.store().read().thenApply(s -> ListAclsResponse.newBuilder()
                .addAllAcls(s.acls().stream().filter(a -> request.getPrincipal().isEmpty()
                                || a.principal().equals(request.getPrincipal()))
                        .sorted(Comparator.comparing(Acl::principal).thenComparing(Acl::resourceType)
                                .thenComparing(Acl::resourceName).thenComparing(Acl::operation))
                        .map(SecurityEndpoint::toProto).toList()).build()));
    }

    @Override
    public void setQuota(io.strata.api.v1.SetQuotaRequest request,
                         StreamObserver<io.strata.api.v1.SetQuotaResponse> observer) {
        GrpcErrors.reply(observer, () -> {
            io.strata.api.v1.QuotaEntry q = request.getQuota();
            return access.store().putQuota(new io.strata.metadata.security.Quota(q.getEntity(),
                    q.getProduceBytesPerSecond(), q.getFetchBytesPerSecond(), q.getRequestsPerSecond()))
                    .thenApply(x -> io.strata.api.v1.SetQuotaResponse.getDefaultInstance());
        });
    }

    @Override
    public void removeQuota(io.strata.api.v1.RemoveQuotaRequest request,
                            StreamObserver<io.strata.api.v1.RemoveQuotaResponse> observer) {
        GrpcErrors.reply(observer, () -> access.store().removeQuota(request.getEntity()).thenApply(done -> {
            if (!done) {
                throw Status.NOT_FOUND.withDescription("no quota for "
                        + io.strata.metadata.InputText.quoted(request.getEntity())).asRuntimeException();
            }
            return io.strata.api.v1.RemoveQuotaResponse.getDefaultInstance();
        }));
    }

    @Override
    public void listQuotas(io.strata.api.v1.ListQuotasRequest request,
                           StreamObserver<io.strata.api.v1.ListQuotasResponse> observer) {
        GrpcErrors.reply(observer, () -> access.store().read().thenApply(s -> io.strata.api.v1.ListQuotasResponse
                .newBuilder().addAllQuotas(s.quotas().values().stream()
                        .sorted(Comparator.comparing(io.strata.metadata.security.Quota::entity))
                        .map(q -> io.strata.api.v1.QuotaEntry.newBuilder().setEntity(q.entity())
                                .setProduceBytesPerSecond(q.produceBytesPerSecond())
                                .setFetchBytesPerSecond(q.fetchBytesPerSecond())
                                .setRequestsPerSecond(q.requestsPerSecond()).build()).toList()).build()));
    }

    static Acl fromProto(AclEntry e) {
        if (e.getOperation() == io.strata.api.v1.AclOperation.ACL_OPERATION_UNSPECIFIED
                || e.getOperation() == io.strata.api.v1.AclOperation.UNRECOGNIZED) {
            throw new IllegalArgumentException("an ACL names an operation");
        }
        if (e.getResourceType() == AclResourceType.UNRECOGNIZED) {
            throw new IllegalArgumentException("unknown resource type");
        }
        return new Acl(e.getPrincipal(), ResourceType.values()[e.getResourceType().getNumber()], e.getResourceName(),
                e.getPrefixed(), AclOperation.values()[e.getOperation().getNumber() - 1], e.getDeny());
    }

    static AclEntry toProto(Acl a) {
        return AclEntry.newBuilder().setPrincipal(a.principal())
                .setResourceType(AclResourceType.forNumber(a.resourceType().ordinal()))
                .setResourceName(a.resourceName()).setPrefixed(a.prefixed())
                .setOperation(io.strata.api.v1.AclOperation.forNumber(a.operation().ordinal() + 1))
                .setDeny(a.deny()).build();
    }
}
