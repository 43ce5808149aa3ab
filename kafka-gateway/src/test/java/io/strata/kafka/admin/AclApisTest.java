package io.strata.kafka.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.kafka.KafkaApi;
import io.strata.kafka.KafkaRequest;
import io.strata.kafka.KafkaSession;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.MetadataStores;
import io.strata.metadata.security.Acl;
import io.strata.metadata.security.AclOperation;
import io.strata.metadata.security.ResourceType;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.acl.AccessControlEntryFilter;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.message.CreateAclsRequestData;
import org.apache.kafka.common.message.CreateAclsResponseData;
import org.apache.kafka.common.message.DeleteAclsRequestData;
import org.apache.kafka.common.message.DeleteAclsResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.CreateAclsRequest;
import org.apache.kafka.common.requests.DeleteAclsRequest;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.resource.ResourcePatternFilter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ACL APIs over the embedded metadata store (a product adapter). */
class AclApisTest {
    @TempDir
    Path dir;
    private MetadataStore metadata;
    private AclApis apis;

    @BeforeEach
    void open() {
        metadata = MetadataStores.embedded(dir, 4);
        apis = new AclApis(metadata.security());
    }

    @AfterEach
    void close() {
        metadata.close();
    }

    private KafkaRequest request(ApiKeys key, org.apache.kafka.common.requests.AbstractRequest body) {
        return new KafkaRequest(new RequestHeader(key, (short) 3, "test", 1), body,
                new KafkaSession(new InetSocketAddress("127.0.0.1", 1)));
    }

    private KafkaApi api(ApiKeys key) {
        return apis.all().stream().filter(a -> a.key() == key).findFirst().orElseThrow();
    }

    private static CreateAclsRequestData.AclCreation readOf(String topic) {
        return new CreateAclsRequestData.AclCreation().setResourceType((byte) 2).setResourceName(topic)
                .setResourcePatternType((byte) 3).setPrincipal("User:alice").setHost("*").setOperation((byte) 3)
                .setPermissionType((byte) 3);
    }

    @Test
    void aRequestChangesAtMostItsBoundOfRulesAndNeverARuleKafkaCannotName() {
        List<CreateAclsRequestData.AclCreation> creations = new ArrayList<>();
        for (int i = 0; i < AclApis.MAX_PER_REQUEST + 5; i++) {
            creations.add(readOf("t" + i));
        }
        var created = (CreateAclsResponseData) api(ApiKeys.CREATE_ACLS).handle(request(ApiKeys.CREATE_ACLS,
                new CreateAclsRequest.Builder(new CreateAclsRequestData().setCreations(creations)).build((short) 3)))
                .join();
        assertThat(created.results()).hasSize(AclApis.MAX_PER_REQUEST + 5);
        assertThat(created.results().subList(0, AclApis.MAX_PER_REQUEST)).allMatch(r -> r.errorCode() == 0);
        assertThat(created.results().subList(AclApis.MAX_PER_REQUEST, created.results().size()))
                .allMatch(r -> r.errorCode() == Errors.POLICY_VIOLATION.code());
        assertThat(metadata.security().read().join().acls()).hasSize(AclApis.MAX_PER_REQUEST);
        // A rule Kafka has no words for: never matched, never removed through Kafka. And one rule more than a request
        // removes.
        metadata.security().addAcl(new Acl("User:alice", ResourceType.GROUP, "g", false, AclOperation.PRODUCE,
                false)).join();
        metadata.security().addAcl(new Acl("User:alice", ResourceType.TOPIC, "zz-last", false, AclOperation.CONSUME,
                false)).join();

        AclBindingFilter any = AclBindingFilter.ANY;
        AclBindingFilter t0 = new AclBindingFilter(new ResourcePatternFilter(
                org.apache.kafka.common.resource.ResourceType.TOPIC, "t0",
                org.apache.kafka.common.resource.PatternType.LITERAL), AccessControlEntryFilter.ANY);
        var deleted = (DeleteAclsResponseData) api(ApiKeys.DELETE_ACLS).handle(request(ApiKeys.DELETE_ACLS,
                new DeleteAclsRequest.Builder(new DeleteAclsRequestData().setFilters(List.of(
                        DeleteAclsRequest.deleteAclsFilter(t0), DeleteAclsRequest.deleteAclsFilter(any))))
                        .build((short) 3))).join();
        assertThat(deleted.filterResults().get(0).matchingAcls()).singleElement()
                .satisfies(m -> assertThat(m.errorCode()).isZero());
        assertThat(deleted.filterResults().get(1).errorCode()).as("it matched more than one request removes")
                .isEqualTo(Errors.POLICY_VIOLATION.code());
        assertThat(deleted.filterResults().get(1).matchingAcls()).as("what it removed (t0 again, if met before the "
                + "bound)").hasSizeBetween(AclApis.MAX_PER_REQUEST - 1, AclApis.MAX_PER_REQUEST)
                .allMatch(m -> m.errorCode() == 0);
        assertThat(metadata.security().read().join().acls()).as("the rule past the bound and the rule Kafka cannot "
                + "name stay").hasSize(2).anySatisfy(a -> assertThat(a.operation()).isEqualTo(AclOperation.PRODUCE));
    }
}
