package io.strata.metadata.codec;

import com.google.protobuf.ByteString;
import io.strata.metadata.security.Acl;
import io.strata.metadata.security.AclOperation;
import io.strata.metadata.security.ResourceType;
import io.strata.metadata.security.ScramCredential;
import io.strata.metadata.security.User;

/** Users and ACLs in their stored form. */
public final class SecurityCodec {
    private SecurityCodec() {
    }

    public static byte[] encode(User u) {
        ScramCredential c = u.credential();
        return UserValue.newBuilder().setName(u.name()).setIterations(c.iterations()).setSalt(ByteString.copyFrom(c.salt()))
                .setStoredKey(ByteString.copyFrom(c.storedKey())).setServerKey(ByteString.copyFrom(c.serverKey()))
                .addAllGroups(u.groups()).setCreatedAtMs(u.createdAtMs()).build().toByteArray();
    }

    public static User decodeUser(String key, byte[] bytes) {
        return MetadataCodec.parse(key, bytes, b -> {
            UserValue v = UserValue.parseFrom(b);
            return new User(v.getName(), new ScramCredential(v.getIterations(), v.getSalt().toByteArray(),
                    v.getStoredKey().toByteArray(), v.getServerKey().toByteArray()), v.getGroupsList(), v.getCreatedAtMs());
        });
    }

    public static byte[] encode(Acl a) {
        return AclValue.newBuilder().setPrincipal(a.principal()).setResourceType(a.resourceType().ordinal())
                .setResourceName(a.resourceName()).setPrefixed(a.prefixed()).setOperation(a.operation().ordinal())
                .setDeny(a.deny()).build().toByteArray();
    }

    public static Acl decodeAcl(String key, byte[] bytes) {
        return MetadataCodec.parse(key, bytes, b -> {
            AclValue v = AclValue.parseFrom(b);
            if (v.getResourceType() >= ResourceType.values().length || v.getOperation() >= AclOperation.values().length) {
                throw new IllegalArgumentException("an ACL of a newer version (resource type " + v.getResourceType()
                        + ", operation " + v.getOperation() + ")");
            }
            return new Acl(v.getPrincipal(), ResourceType.values()[v.getResourceType()], v.getResourceName(),
                    v.getPrefixed(), AclOperation.values()[v.getOperation()], v.getDeny());
        });
    }

    public static byte[] encode(io.strata.metadata.security.Quota q) {
        return QuotaValue.newBuilder().setEntity(q.entity()).setProduceBytesPerSecond(q.produceBytesPerSecond())
                .setFetchBytesPerSecond(q.fetchBytesPerSecond()).setRequestsPerSecond(q.requestsPerSecond()).build()
                .toByteArray();
    }

    public static io.strata.metadata.security.Quota decodeQuota(String key, byte[] bytes) {
        return MetadataCodec.parse(key, bytes, b -> {
            QuotaValue v = QuotaValue.parseFrom(b);
            return new io.strata.metadata.security.Quota(v.getEntity(), v.getProduceBytesPerSecond(),
                    v.getFetchBytesPerSecond(), v.getRequestsPerSecond());
        });
    }

    public static byte[] encode(java.util.Map<String, io.strata.metadata.security.QuotaRates> usage) {
        QuotaUsageValue.Builder b = QuotaUsageValue.newBuilder();
        usage.forEach((entity, r) -> b.addEntries(QuotaUsageEntry.newBuilder().setEntity(entity)
                .setProduceBytes(r.produceBytes()).setFetchBytes(r.fetchBytes()).setRequests(r.requests())));
        return b.build().toByteArray();
    }

    public static java.util.Map<String, io.strata.metadata.security.QuotaRates> decodeUsage(String key, byte[] bytes) {
        return MetadataCodec.parse(key, bytes, b -> {
            java.util.Map<String, io.strata.metadata.security.QuotaRates> usage = new java.util.HashMap<>();
            for (QuotaUsageEntry e : QuotaUsageValue.parseFrom(b).getEntriesList()) {
                usage.put(e.getEntity(), new io.strata.metadata.security.QuotaRates(e.getProduceBytes(),
                        e.getFetchBytes(), e.getRequests()));
            }
            return usage;
        });
    }
}
