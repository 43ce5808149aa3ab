package io.strata.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.strata.api.v1.AclEntry;
import io.strata.api.v1.AclOperation;
import io.strata.api.v1.AclRequest;
import io.strata.api.v1.AclResourceType;
import io.strata.api.v1.AddUserRequest;
import io.strata.api.v1.AdminServiceGrpc;
import io.strata.api.v1.AlterTopicRequest;
import io.strata.api.v1.ClusterServiceGrpc;
import io.strata.api.v1.CommitOffsetsRequest;
import io.strata.api.v1.CreateTopicRequest;
import io.strata.api.v1.DeleteGroupRequest;
import io.strata.api.v1.DeleteTopicRequest;
import io.strata.api.v1.DescribeClusterRequest;
import io.strata.api.v1.DescribeGroupRequest;
import io.strata.api.v1.DescribeTopicRequest;
import io.strata.api.v1.FetchCommittedRequest;
import io.strata.api.v1.FetchRequest;
import io.strata.api.v1.FetchServiceGrpc;
import io.strata.api.v1.GroupServiceGrpc;
import io.strata.api.v1.HeartbeatRequest;
import io.strata.api.v1.InitProducerRequest;
import io.strata.api.v1.JoinGroupRequest;
import io.strata.api.v1.LeaveGroupRequest;
import io.strata.api.v1.ListAclsRequest;
import io.strata.api.v1.ListGroupsRequest;
import io.strata.api.v1.ListOffsetsRequest;
import io.strata.api.v1.ListTopicsRequest;
import io.strata.api.v1.ListUsersRequest;
import io.strata.api.v1.OffsetSpec;
import io.strata.api.v1.PartitionCommit;
import io.strata.api.v1.ProduceRequest;
import io.strata.api.v1.ProduceResponse;
import io.strata.api.v1.ProducerServiceGrpc;
import io.strata.api.v1.Record;
import io.strata.api.v1.RemoveUserRequest;
import io.strata.api.v1.ResetOffsetsRequest;
import io.strata.api.v1.SecurityServiceGrpc;
import io.strata.api.v1.SubscribeRequest;
import io.strata.api.v1.SyncAssignmentRequest;
import io.strata.api.v1.TopicPartitionRecords;
import io.strata.api.v1.WhoAmIRequest;
import io.strata.api.v1.Assignment;
import io.strata.metadata.kv.KeyValue;
import io.strata.metadata.kv.KvStore;
import io.strata.client.StrataClient;
import io.strata.testkit.etcd.EtcdFixture;
import com.google.protobuf.ByteString;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Authentication and ACLs across processes, against a real etcd: two nodes with TLS, client certificates
 * requested, auth required and one super-user. Every RPC of every service is called as nobody, with a wrong
 * password, as a user without ACLs, as one granted exactly what the call needs, and as the super-user; each
 * gets its precise status, and a denied call changes nothing in etcd or the bucket.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SecurityTest {
    private static final String ADMIN_PASSWORD = "admin-password-1";
    private static final String ALICE_PASSWORD = "alice-password-1";
    /** What a call that reached its service may end with: its answer, or a refusal of its own, never a guard's. */
    private static final java.util.Set<Status.Code> SERVED = java.util.Set.of(Status.Code.OK, Status.Code.NOT_FOUND,
            Status.Code.ALREADY_EXISTS, Status.Code.FAILED_PRECONDITION, Status.Code.INVALID_ARGUMENT);

    @TempDir
    static Path work;

    private StrataCluster cluster;
    private StrataProcess a;
    private StrataProcess b;
    private Certificates.Issued node;
    private Certificates.Issued carol;
    private final List<ManagedChannel> channels = new ArrayList<>();
    private static final String ISSUER = "https://issuer.strata.test";
    private java.security.KeyPair issuerKeys;
    private KvStore etcd;
    private String root;
    private ClusterInspector inspector;

    /** One RPC as a client built from the .proto would make it; answers the status it ended with. */
    private record Call(MethodDescriptor<?, ?> method, Function<Channel, Status> invoke, List<AclEntry> grants) {
    }

    @BeforeAll
    void startCluster() throws Exception {
        Path tls = Files.createDirectories(work.resolve("tls"));
        node = Certificates.issue(tls, "ca", "node");
        Certificates.Issued peer = Certificates.issue(tls, "node-ca", "peer", "dns:strata-internal");
        carol = Certificates.issue(tls, "client-ca", "carol");
        Map<String, String> settings = new HashMap<>(Map.of(
                "strata.tls.certificate", node.certificatePem().toString(), "strata.tls.key", node.keyPem().toString(),
                "strata.tls.internal.certificate", peer.certificatePem().toString(),
                "strata.tls.internal.key", peer.keyPem().toString(), "strata.tls.internal.ca", peer.caPem().toString(),
                "strata.tls.client-auth", "request", "strata.tls.client-ca", carol.caPem().toString(),
                "strata.auth.mode", "required", "strata.auth.super-users", "User:admin",
                "strata.auth.bootstrap-user", "admin"));
        settings.put("strata.auth.bootstrap-password", ADMIN_PASSWORD);
        settings.put("strata.auth.principal-mapping-rules", "RULE:^CN=([a-z]+)$/$1/L");
        // Bearer tokens of one issuer, whose public key the nodes read from a file (a JWKS URL works alike).
        java.security.KeyPairGenerator generator = java.security.KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        issuerKeys = generator.generateKeyPair();
        Path publicKey = tls.resolve("issuer.pem");
        Files.writeString(publicKey, "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(
                StandardCharsets.US_ASCII)).encodeToString(issuerKeys.getPublic().getEncoded()) + "\n-----END PUBLIC KEY-----\n");
        settings.put("strata.auth.jwt.keys", publicKey.toString());
        settings.put("strata.auth.jwt.issuer", ISSUER);
        settings.put("strata.auth.jwt.audiences", "strata");
        cluster = new StrataCluster(work);
        List<StrataProcess> together = cluster.startTogether(cluster.prepare("a", "ingest,fetch", settings),
                cluster.prepare("b", "ingest,fetch", settings));
        a = together.get(0);
        b = together.get(1);
        root = cluster.root();
        inspector = cluster.inspector();
        etcd = io.strata.metadata.etcd.EtcdKvStore.connect(List.of(EtcdFixture.shared().endpoint()), Duration.ofSeconds(10));
        Channel admin = as(a, "admin", ADMIN_PASSWORD);
        AdminServiceGrpc.newBlockingStub(admin).createTopic(CreateTopicRequest.newBuilder().setName("t").setPartitions(2).build());
        AdminServiceGrpc.newBlockingStub(admin).createTopic(CreateTopicRequest.newBuilder().setName("doomed").setPartitions(1).build());
        for (String topic : KafkaCalls.TOPICS) {
            AdminServiceGrpc.newBlockingStub(admin).createTopic(CreateTopicRequest.newBuilder().setName(topic)
                    .setPartitions(1).build());
        }
        ProducerServiceGrpc.newBlockingStub(admin).produce(produce("t"));
        SecurityServiceGrpc.newBlockingStub(admin).addUser(AddUserRequest.newBuilder().setName("alice")
                .setPassword(ALICE_PASSWORD).build());
    }

    @AfterAll
    void stopCluster() {
        channels.forEach(ManagedChannel::shutdownNow);
        if (etcd != null) {
            etcd.close();
        }
        if (inspector != null) {
            inspector.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    /**
     * The console's door is the client port's services called in JSON: over the node's TLS, refused without
     * credentials, denied without an ACL (the topic stays), allowed to the super-user; and the console's sign-in form
     * in a real browser gets the signed-in user in.
     */
    @Test
    void theConsoleMeetsTheSameAuthenticationAndAclsAsTheClientPort() throws Exception {
        java.net.http.HttpClient http = java.net.http.HttpClient.newBuilder().sslContext(Certificates.trusting(node.caPem()))
                .connectTimeout(java.time.Duration.ofSeconds(10)).build();
        String console = "https://" + a.httpAddress() + "/console/";
        assertThat(http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(console)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
        String adminAuth = "Basic " + Base64.getEncoder().encodeToString(("admin:" + ADMIN_PASSWORD)
                .getBytes(StandardCharsets.UTF_8));
        String aliceAuth = "Basic " + Base64.getEncoder().encodeToString(("alice:" + ALICE_PASSWORD)
                .getBytes(StandardCharsets.UTF_8));
        java.util.function.BiFunction<String, String[], java.net.http.HttpResponse<String>> call = (method, authAndBody) -> {
            java.net.http.HttpRequest.Builder request = java.net.http.HttpRequest.newBuilder(java.net.URI.create(console
                    + "api/" + method)).header("Content-Type", "application/json")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString(authAndBody[1]));
            if (authAndBody[0] != null) {
                request.header("Authorization", authAndBody[0]);
            }
            try {
                return http.send(request.build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        };
        var nobody = call.apply("strata.v1.AdminService/ListTopics", new String[] {null, "{}"});
        assertThat(nobody.statusCode()).isEqualTo(401);
        assertThat(nobody.body()).contains("\"code\":\"unauthenticated\"");
        var wrong = call.apply("strata.v1.AdminService/ListTopics", new String[] {"Basic " + Base64.getEncoder()
                .encodeToString("alice:nope".getBytes(StandardCharsets.UTF_8)), "{}"});
        assertThat(wrong.statusCode()).isEqualTo(401);
        var made = call.apply("strata.v1.AdminService/CreateTopic", new String[] {adminAuth,
                "{\"name\":\"console-made\",\"partitions\":1}"});
        assertThat(made.statusCode()).as(made.body()).isEqualTo(200);
        var denied = call.apply("strata.v1.AdminService/DeleteTopic", new String[] {aliceAuth,
                "{\"name\":\"console-made\"}"});
        assertThat(denied.statusCode()).isEqualTo(403);
        assertThat(denied.body()).contains("permission_denied", "User:alice may not ");
        var still = call.apply("strata.v1.AdminService/DescribeTopic", new String[] {adminAuth,
                "{\"name\":\"console-made\"}"});
        assertThat(still.statusCode()).as("the topic after a denied delete: %s", still.body()).isEqualTo(200);

        // The charts' history names topics and groups: a user sees the series of what it may describe, no more.
        Channel admin = as(a, "admin", ADMIN_PASSWORD);
        SecurityServiceGrpc.newBlockingStub(admin).addUser(AddUserRequest.newBuilder().setName("carl")
                .setPassword("carl-password-1").build());
        SecurityServiceGrpc.newBlockingStub(admin).addAcl(AclRequest.newBuilder().setAcl(acl("User:carl",
                AclOperation.ACL_OPERATION_DESCRIBE, AclResourceType.ACL_RESOURCE_TOPIC, "t", false)).build());
        String carlAuth = "Basic " + Base64.getEncoder().encodeToString("carl:carl-password-1"
                .getBytes(StandardCharsets.UTF_8));
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(40); // sampled every 10 s; the ACL on its way
        List<String> adminSees = List.of();
        List<String> carlSees = List.of();
        while (System.nanoTime() < until && !(adminSees.size() > 1 && carlSees.contains("t"))) {
            adminSees = topicsOf(json.readTree(call.apply("strata.v1.ClusterService/DescribeHistory",
                    new String[] {adminAuth, "{\"names\":[\"topic.records\"]}"}).body()));
            carlSees = topicsOf(json.readTree(call.apply("strata.v1.ClusterService/DescribeHistory",
                    new String[] {carlAuth, "{\"names\":[\"topic.records\"]}"}).body()));
            Thread.sleep(1_000);
        }
        assertThat(adminSees).as("the super-user sees every topic's series").contains("t").hasSizeGreaterThan(1);
        assertThat(carlSees).as("carl, who may describe t only").containsExactly("t");
        // Where the stores are and how they fail is for who may describe the cluster; the nodes are for anyone.
        assertThat(call.apply("strata.v1.ClusterService/DescribeCluster", new String[] {carlAuth,
                "{\"includeHealth\":true}"}).statusCode()).isEqualTo(403);
        assertThat(call.apply("strata.v1.ClusterService/DescribeCluster", new String[] {carlAuth, "{}"}).statusCode())
                .isEqualTo(200);
        var health = call.apply("strata.v1.ClusterService/DescribeCluster", new String[] {adminAuth,
                "{\"includeHealth\":true}"});
        assertThat(health.body()).contains("\"metadataStore\":{\"kind\":\"etcd\",\"healthy\":true")
                .contains("\"objectStore\":{\"kind\":\"s3\",\"healthy\":true");

        // The sign-in form, in Chromium, against the node's certificate (a test CA the browser is told to accept).
        ConsoleWalk.Outcome walk = ConsoleWalk.run(Map.of("MODE", "sign-in", "CONSOLE_URL", console, "CONSOLE_USER",
                "admin", "CONSOLE_PASSWORD", ADMIN_PASSWORD, "NODE_ID", "a",
                "SCREENSHOTS", Path.of("target/console-screenshots/signed-in").toAbsolutePath().toString()));
        assertThat(walk.exitCode()).as(walk.output()).isZero();
        String out = walk.output();
        assertThat(out).contains("\"failures\":[]", "signed in as User:admin");
    }

    /** The topics a history's series name. */
    private static List<String> topicsOf(com.fasterxml.jackson.databind.JsonNode history) {
        List<String> topics = new ArrayList<>();
        history.path("series").forEach(s -> topics.add(s.path("labels").path("topic").asText()));
        return topics;
    }

    /** First: the stores must stand still, before the granted calls below leave members whose sessions run out. */
    @Test
    @Order(1)
    void everyMethodIsRefusedWithoutValidCredentialsAndDeniedWithoutAnAcl() throws Exception {
        List<String> covered = calls().stream().map(c -> c.method().getFullMethodName()).toList();
        List<String> declared = Stream.of(AdminServiceGrpc.getServiceDescriptor(), ClusterServiceGrpc.getServiceDescriptor(),
                        FetchServiceGrpc.getServiceDescriptor(), GroupServiceGrpc.getServiceDescriptor(),
                        ProducerServiceGrpc.getServiceDescriptor(), SecurityServiceGrpc.getServiceDescriptor(),
                        io.strata.api.v1.ShareServiceGrpc.getServiceDescriptor())
                .map(ServiceDescriptor::getMethods).flatMap(java.util.Collection::stream)
                .map(MethodDescriptor::getFullMethodName).toList();
        assertThat(covered).as("the matrix calls every method").containsExactlyInAnyOrderElementsOf(declared);

        Map<String, String> before = stores();
        for (Call call : calls()) {
            String name = call.method().getFullMethodName();
            assertThat(call.invoke().apply(tls(a)).getCode()).as("%s without credentials", name)
                    .isEqualTo(Status.Code.UNAUTHENTICATED);
            assertThat(call.invoke().apply(as(a, "alice", "wrong-password")).getCode()).as("%s with a wrong password", name)
                    .isEqualTo(Status.Code.UNAUTHENTICATED);
            Status withoutAcl = call.invoke().apply(as(a, "alice", ALICE_PASSWORD));
            if (call.grants().isEmpty()) {
                assertThat(withoutAcl.getCode()).as("%s needs no ACL: %s", name, withoutAcl).isIn(SERVED);
            } else {
                assertThat(withoutAcl.getCode()).as("%s as alice without an ACL", name)
                        .isEqualTo(Status.Code.PERMISSION_DENIED);
                assertThat(withoutAcl.getDescription()).startsWith("User:alice may not ");
                assertThat(stores()).as("the stores after a denied %s", name).isEqualTo(before);
            }
            before = stores(); // calls that need no ACL may change things of their own (a producer id)
        }
        String longName = "mallory-" + "m".repeat(10_000);
        Status.Code refused = Status.fromThrowable(org.junit.jupiter.api.Assertions.assertThrows(Exception.class,
                () -> AdminServiceGrpc.newBlockingStub(as(a, longName, "wrong")).withDeadlineAfter(10, TimeUnit.SECONDS)
                        .listTopics(io.strata.api.v1.ListTopicsRequest.getDefaultInstance()))).getCode();
        assertThat(refused).isEqualTo(Status.Code.UNAUTHENTICATED);
        // The ellipsis after the cut is written in the node's charset: matched as any one to three bytes.
        assertThat(a.logTail(200)).as("the refusal's audit line names the user tried, quoted and cut")
                .containsPattern(java.util.regex.Pattern.quote("\"action\":\"ListTopics\",\"resource\":\"user '"
                        + longName.substring(0, 64)) + ".{1,3}' \\(10008 characters\\)\"")
                .doesNotContain(longName.substring(0, 65));
    }

    /** Second, for the same reason: every API of the Kafka listener, as the gRPC methods above. */
    @Test
    @Order(2)
    void everyKafkaApiIsRefusedWithoutValidCredentialsAndDeniedWithoutAnAcl() throws Exception {
        List<KafkaCalls.KafkaCall> calls = KafkaCalls.all("User:alice", kafkaTopicId("t"));
        java.util.Set<org.apache.kafka.common.protocol.ApiKeys> signIn = java.util.EnumSet.of(
                org.apache.kafka.common.protocol.ApiKeys.API_VERSIONS, org.apache.kafka.common.protocol.ApiKeys.SASL_HANDSHAKE,
                org.apache.kafka.common.protocol.ApiKeys.SASL_AUTHENTICATE);
        assertThat(calls.stream().map(KafkaCalls.KafkaCall::key).distinct().toList())
                .as("the matrix calls every API the listener offers, besides the sign-in's own")
                .containsExactlyInAnyOrderElementsOf(kafkaApisOffered().stream().filter(k -> !signIn.contains(k)).toList());

        Map<String, String> before = stores();
        try (KafkaWire alice = KafkaWire.open(a.kafkaAddress(), node.caPem())) {
            assertThat(alice.signInPlain("alice", ALICE_PASSWORD)).isEqualTo(org.apache.kafka.common.protocol.Errors.NONE);
            for (KafkaCalls.KafkaCall call : calls) {
                try (KafkaWire nobody = KafkaWire.open(a.kafkaAddress(), node.caPem())) {
                    // A healthy connection (ApiVersions needs no sign-in) that the request itself ends.
                    assertThat(nobody.call(new org.apache.kafka.common.message.ApiVersionsRequestData(), (short) 0))
                            .isPresent();
                    assertThat(nobody.call(call.request().get(), call.version())).as("%s before signing in", call.name())
                            .isEmpty();
                }
                try (KafkaWire wrong = KafkaWire.open(a.kafkaAddress(), node.caPem())) {
                    assertThat(wrong.signInPlain("alice", "wrong-password")).as("%s: a wrong password", call.name())
                            .isEqualTo(org.apache.kafka.common.protocol.Errors.SASL_AUTHENTICATION_FAILED);
                    assertThat(wrong.call(call.request().get(), call.version()))
                            .as("%s after a failed sign-in", call.name()).isEmpty();
                }
                var answer = alice.call(call.request().get(), call.version())
                        .orElseThrow(() -> new AssertionError(call.name() + " as alice closed the connection"));
                var errors = KafkaWire.errors(answer).keySet();
                if (call.denied() == null) {
                    assertThat(errors).as("%s needs no ACL: %s", call.name(), answer).isSubsetOf(call.served());
                } else {
                    assertThat(errors).as("%s as alice without an ACL: %s", call.name(), answer)
                            .contains(call.denied()).allMatch(e -> e == call.denied()
                                    || e == org.apache.kafka.common.protocol.Errors.NONE);
                    assertThat(stores()).as("the stores after a refused or denied %s", call.name()).isEqualTo(before);
                }
                before = stores(); // calls that need no ACL may change things of their own (a producer id)
            }
        }
    }

    @Test
    void aKafkaAclOpensItsApiAndTheSuperUserMayUseEveryApi() throws Exception {
        Channel admin = as(a, "admin", ADMIN_PASSWORD);
        try (KafkaWire alice = KafkaWire.open(a.kafkaAddress(), node.caPem());
             KafkaWire superUser = KafkaWire.open(a.kafkaAddress(), node.caPem())) {
            assertThat(alice.signInPlain("alice", ALICE_PASSWORD)).isEqualTo(org.apache.kafka.common.protocol.Errors.NONE);
            assertThat(superUser.signInPlain("admin", ADMIN_PASSWORD)).isEqualTo(org.apache.kafka.common.protocol.Errors.NONE);
            for (KafkaCalls.KafkaCall call : KafkaCalls.all("User:alice", kafkaTopicId("t"))) {
                for (AclEntry grant : call.grants()) {
                    SecurityServiceGrpc.newBlockingStub(admin).addAcl(AclRequest.newBuilder().setAcl(grant).build());
                }
                try {
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                    org.apache.kafka.common.requests.AbstractResponse granted;
                    while (KafkaWire.errors(granted = alice.call(call.request().get(), call.version()).orElseThrow())
                            .keySet().stream().anyMatch(KAFKA_DENIALS::contains) && System.nanoTime() < deadline) {
                        Thread.sleep(50); // the ACL reaches the node within about a second
                    }
                    assertThat(KafkaWire.errors(granted).keySet()).as("%s as alice with %s: %s", call.name(),
                            call.grants(), granted).isSubsetOf(call.served());
                } finally {
                    for (AclEntry grant : call.grants()) {
                        SecurityServiceGrpc.newBlockingStub(admin).removeAcl(AclRequest.newBuilder().setAcl(grant).build());
                    }
                }
                var asAdmin = superUser.call(call.request().get(), call.version()).orElseThrow();
                assertThat(KafkaWire.errors(asAdmin).keySet()).as("%s as the super-user: %s", call.name(), asAdmin)
                        .isSubsetOf(call.served());
            }
            kafkaTransactionsAreListedAndDescribedOnlyAsTheCallerMayDescribeThem(admin, alice);
            assertThat(a.logTail(Integer.MAX_VALUE)).as("the Kafka door's admin actions in the audit log")
                    .containsPattern("\"principal\":\"User:alice\",.*\"action\":\"Kafka CreateTopics\","
                            + "\"resource\":\"topic 'k-made'\",\"outcome\":\"ok\"")
                    .containsPattern("\"principal\":\"User:admin\",.*\"action\":\"Kafka DeleteRecords\","
                            + "\"resource\":\"topic 'k-purged'\",\"outcome\":\"failed: UNKNOWN_TOPIC_OR_PARTITION\"")
                    // The matrix's OffsetCommit is outside a generation, as kafka-consumer-groups --reset-offsets sends it.
                    .containsPattern("\"principal\":\"User:alice\",.*\"action\":\"Kafka OffsetCommit\","
                            + "\"resource\":\"group 'k-g'\",\"outcome\":\"(ok|failed: NOT_COORDINATOR)\"");
        } finally {
            // AlterClientQuotas set one: the quota test counts the cluster's quotas.
            status(() -> SecurityServiceGrpc.newBlockingStub(admin).removeQuota(io.strata.api.v1.RemoveQuotaRequest
                    .newBuilder().setEntity("User:k-matrix").build()));
            // AlterUserScramCredentials made a user whose salted password the matrix knows.
            status(() -> SecurityServiceGrpc.newBlockingStub(admin).removeUser(RemoveUserRequest.newBuilder()
                    .setName("k-scram").build()));
        }
    }

    /**
     * The matrix's transactional id ({@code k-txn}, initialised by its InitProducerId) is listed to the super-user,
     * not to alice; once alice may describe it, a DescribeTransactions of it and of an id she may not describe
     * answers each on its own. Each node lists the ids it coordinates: the listing is both nodes', as Kafka's admin
     * client asks every broker.
     */
    private void kafkaTransactionsAreListedAndDescribedOnlyAsTheCallerMayDescribeThem(Channel admin, KafkaWire alice)
            throws Exception {
        assertThat(listedTransactions("admin", ADMIN_PASSWORD)).containsOnlyOnce("k-txn");
        assertThat(listedTransactions("alice", ALICE_PASSWORD)).as("ids alice may not describe").isEmpty();
        AclEntry describe = AclEntry.newBuilder().setPrincipal("User:alice").setOperation(AclOperation.ACL_OPERATION_DESCRIBE)
                .setResourceType(io.strata.api.v1.AclResourceType.ACL_RESOURCE_TRANSACTIONAL_ID).setResourceName("k-txn")
                .build();
        SecurityServiceGrpc.newBlockingStub(admin).addAcl(AclRequest.newBuilder().setAcl(describe).build());
        try {
            var both = new org.apache.kafka.common.message.DescribeTransactionsRequestData()
                    .setTransactionalIds(List.of("k-txn", "k-txn-not-hers"));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            org.apache.kafka.common.message.DescribeTransactionsResponseData described;
            do {
                described = (org.apache.kafka.common.message.DescribeTransactionsResponseData) alice.call(both, (short) 0)
                        .orElseThrow().data();
            } while (described.transactionStates().get(0).errorCode() != 0 && System.nanoTime() < deadline);
            assertThat(described.transactionStates()).extracting(t -> t.transactionalId() + " "
                    + org.apache.kafka.common.protocol.Errors.forCode(t.errorCode())).containsExactly("k-txn NONE",
                    "k-txn-not-hers TRANSACTIONAL_ID_AUTHORIZATION_FAILED");
            assertThat(listedTransactions("alice", ALICE_PASSWORD)).containsExactly("k-txn");
        } finally {
            SecurityServiceGrpc.newBlockingStub(admin).removeAcl(AclRequest.newBuilder().setAcl(describe).build());
        }
    }

    /** The transactional ids ListTransactions answers the user, from both nodes. */
    private List<String> listedTransactions(String user, String password) throws Exception {
        List<String> ids = new ArrayList<>();
        for (StrataProcess n : List.of(a, b)) {
            try (KafkaWire wire = KafkaWire.open(n.kafkaAddress(), node.caPem())) {
                assertThat(wire.signInPlain(user, password)).isEqualTo(org.apache.kafka.common.protocol.Errors.NONE);
                var listed = (org.apache.kafka.common.message.ListTransactionsResponseData) wire.call(
                        new org.apache.kafka.common.message.ListTransactionsRequestData(), (short) 1).orElseThrow().data();
                assertThat(listed.errorCode()).isZero();
                listed.transactionStates().forEach(t -> ids.add(t.transactionalId()));
            }
        }
        return ids;
    }

    private static final java.util.Set<org.apache.kafka.common.protocol.Errors> KAFKA_DENIALS = java.util.EnumSet.of(
            org.apache.kafka.common.protocol.Errors.TOPIC_AUTHORIZATION_FAILED,
            org.apache.kafka.common.protocol.Errors.GROUP_AUTHORIZATION_FAILED,
            org.apache.kafka.common.protocol.Errors.CLUSTER_AUTHORIZATION_FAILED,
            org.apache.kafka.common.protocol.Errors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
            org.apache.kafka.common.protocol.Errors.SASL_AUTHENTICATION_FAILED);

    /** The APIs the Kafka listener offers, as ApiVersions tells any client before it signs in. */
    private List<org.apache.kafka.common.protocol.ApiKeys> kafkaApisOffered() throws Exception {
        try (KafkaWire wire = KafkaWire.open(a.kafkaAddress(), node.caPem())) {
            var versions = (org.apache.kafka.common.message.ApiVersionsResponseData) wire.call(
                    new org.apache.kafka.common.message.ApiVersionsRequestData().setClientSoftwareName("matrix")
                            .setClientSoftwareVersion("1"), (short) 3).orElseThrow().data();
            return versions.apiKeys().stream().map(v -> org.apache.kafka.common.protocol.ApiKeys.forId(v.apiKey())).toList();
        }
    }

    /** A topic's id, as the super-user's Metadata request shows it. */
    private org.apache.kafka.common.Uuid kafkaTopicId(String topic) throws Exception {
        try (KafkaWire wire = KafkaWire.open(a.kafkaAddress(), node.caPem())) {
            assertThat(wire.signInPlain("admin", ADMIN_PASSWORD)).isEqualTo(org.apache.kafka.common.protocol.Errors.NONE);
            var metadata = (org.apache.kafka.common.message.MetadataResponseData) wire.call(
                    new org.apache.kafka.common.message.MetadataRequestData().setTopics(List.of(
                            new org.apache.kafka.common.message.MetadataRequestData.MetadataRequestTopic().setName(topic))),
                    (short) 12).orElseThrow().data();
            return metadata.topics().find(topic).topicId();
        }
    }

    @Test
    void anAclOpensItsCallAndTheSuperUserMayDoEverything() throws Exception {
        Channel admin = as(a, "admin", ADMIN_PASSWORD);
        Channel alice = as(a, "alice", ALICE_PASSWORD);
        for (Call call : calls()) {
            String name = call.method().getFullMethodName();
            for (AclEntry grant : call.grants()) {
                SecurityServiceGrpc.newBlockingStub(admin).addAcl(AclRequest.newBuilder().setAcl(grant).build());
            }
            try {
                Status granted = awaitNotDenied(() -> call.invoke().apply(alice));
                assertThat(granted.getCode()).as("%s as alice with %s: %s", name, call.grants(), granted)
                        .isIn(SERVED);
            } finally {
                for (AclEntry grant : call.grants()) {
                    SecurityServiceGrpc.newBlockingStub(admin).removeAcl(AclRequest.newBuilder().setAcl(grant).build());
                }
            }
            Status asAdmin = call.invoke().apply(admin);
            assertThat(asAdmin.getCode()).as("%s as the super-user: %s", name, asAdmin).isIn(SERVED);
        }
        assertThat(a.logTail(Integer.MAX_VALUE)).as("admin actions in the audit log, with their outcome")
                .containsPattern("\"principal\":\"User:alice\",.*\"action\":\"CreateTopic\","
                        + "\"resource\":\"topic 'made'\",\"outcome\":\"(ok|failed: ALREADY_EXISTS.*)\"")
                .containsPattern("\"principal\":\"User:admin\",.*\"action\":\"DeleteRecords\","
                        + "\"resource\":\"topic 'purged'\",\"outcome\":\"failed: NOT_FOUND unknown topic 'purged'\"");
    }

    @Test
    void aUserGrantedProduceOnAPrefixProducesThereAndNowhereElseAndSeesOnlyWhatItMayDescribe() throws Exception {
        Channel admin = as(a, "admin", ADMIN_PASSWORD);
        AdminServiceGrpc.newBlockingStub(admin).createTopic(CreateTopicRequest.newBuilder().setName("logs-web")
                .setPartitions(1).build());
        AclEntry prefix = acl("User:bob", AclOperation.ACL_OPERATION_PRODUCE, AclResourceType.ACL_RESOURCE_TOPIC, "logs-", true);
        SecurityServiceGrpc.newBlockingStub(admin).addUser(AddUserRequest.newBuilder().setName("bob")
                .setPassword("bob-password-1").build());
        SecurityServiceGrpc.newBlockingStub(admin).addAcl(AclRequest.newBuilder().setAcl(prefix).build());
        try (StrataClient bob = StrataClient.builder().server(b.address()).tlsCa(node.caPem())
                .credentials("bob", "bob-password-1").deadline(Duration.ofSeconds(20)).build()) {
            awaitNotDenied(() -> {
                try {
                    bob.producer().send("logs-web", 0, null, "hello".getBytes(StandardCharsets.UTF_8)).get(20, TimeUnit.SECONDS);
                    return Status.OK;
                } catch (Exception e) {
                    return Status.fromThrowable(e);
                }
            });
            var metadata = bob.producer().send("logs-web", 0, null, "again".getBytes(StandardCharsets.UTF_8))
                    .get(20, TimeUnit.SECONDS);
            assertThat(metadata.offset()).isPositive();
            assertThat(bob.admin().listTopics()).extracting(t -> t.name()).containsExactly("logs-web");
            Throwable denied = catchFailure(() -> bob.producer().send("t", 0, null,
                    "no".getBytes(StandardCharsets.UTF_8)).get(20, TimeUnit.SECONDS));
            assertThat(denied).hasCauseInstanceOf(io.strata.client.StrataException.class);
            assertThat(((io.strata.client.StrataException) denied.getCause()).code()).isEqualTo(Status.Code.PERMISSION_DENIED);
            assertThat(bob.security().whoAmI().getPrincipal()).isEqualTo("User:bob");
        }
        // A producer id is bob's alone: even the super-user may not produce with it, and its refused try stores
        // nothing (bob's own first sequence is then new, not a duplicate).
        long bobsId = ProducerServiceGrpc.newBlockingStub(as(b, "bob", "bob-password-1"))
                .initProducer(io.strata.api.v1.InitProducerRequest.getDefaultInstance()).getProducerId();
        ProduceRequest idempotent = ProduceRequest.newBuilder().setProducerId(bobsId).addEntries(TopicPartitionRecords
                .newBuilder().setTopic("logs-web").setPartition(0).setBaseSequence(0)
                .addRecords(Record.newBuilder().setValue(ByteString.copyFromUtf8("mine")))).build();
        assertThat(status(() -> ProducerServiceGrpc.newBlockingStub(as(a, "admin", ADMIN_PASSWORD)).produce(idempotent))
                .getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
        // An id of the older form, which names nobody, is unknown here: its producer must ask for a new one.
        Status legacy = status(() -> ProducerServiceGrpc.newBlockingStub(as(a, "bob", "bob-password-1"))
                .produce(idempotent.toBuilder().setProducerId(1).build()));
        assertThat(legacy.getCode()).isNotEqualTo(Status.Code.OK);
        assertThat(legacy.getDescription()).contains("unknown producer id");
        ProduceResponse own = ProducerServiceGrpc.newBlockingStub(as(a, "bob", "bob-password-1")).produce(idempotent);
        assertThat(own.getAppends(0).getDuplicate()).isFalse();
        assertThat(own.getAppends(0).getBaseOffset()).isPositive();
        // The stream form: a denied request is that request's error; the stream goes on.
        List<ProduceResponse> answers = produceStream(as(b, "bob", "bob-password-1"), "t", "logs-web");
        assertThat(answers.get(0).getError().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED.value());
        assertThat(answers.get(1).hasError()).isFalse();
        assertThat(answers.get(1).getAppends(0).getBaseOffset()).isPositive();
        // A transactional id's producer is its initialiser's: another principal who may use the id (the super-user
        // here) and read its producer id and epoch may not end its transaction, and initialising the id itself gets
        // a producer id of its own, which fences bob's.
        SecurityServiceGrpc.newBlockingStub(admin).addAcl(AclRequest.newBuilder().setAcl(acl("User:bob",
                AclOperation.ACL_OPERATION_PRODUCE, AclResourceType.ACL_RESOURCE_TRANSACTIONAL_ID, "etl-", true)).build());
        var bobsTxn = io.strata.api.v1.TransactionServiceGrpc.newBlockingStub(as(b, "bob", "bob-password-1"));
        io.strata.api.v1.InitTransactionsResponse bobsProducer = awaitAnswer(() -> bobsTxn.initTransactions(
                io.strata.api.v1.InitTransactionsRequest.newBuilder().setTransactionalId("etl-bob").build()));
        var adminsTxn = io.strata.api.v1.TransactionServiceGrpc.newBlockingStub(as(a, "admin", ADMIN_PASSWORD));
        assertThat(status(() -> adminsTxn.endTransaction(io.strata.api.v1.EndTransactionRequest.newBuilder()
                .setTransactionalId("etl-bob").setProducerId(bobsProducer.getProducerId())
                .setProducerEpoch(bobsProducer.getProducerEpoch()).setCommit(true).build())).getCode())
                .isEqualTo(Status.Code.PERMISSION_DENIED);
        io.strata.api.v1.InitTransactionsResponse adminsProducer = adminsTxn.initTransactions(
                io.strata.api.v1.InitTransactionsRequest.newBuilder().setTransactionalId("etl-bob").build());
        assertThat(adminsProducer.getProducerId()).isNotEqualTo(bobsProducer.getProducerId());
        assertThat(status(() -> bobsTxn.endTransaction(io.strata.api.v1.EndTransactionRequest.newBuilder()
                .setTransactionalId("etl-bob").setProducerId(bobsProducer.getProducerId())
                .setProducerEpoch(bobsProducer.getProducerEpoch()).setCommit(false).build())).getCode())
                .as("bob's producer is fenced").isNotEqualTo(Status.Code.OK);
        // Deciding a half message needs produce on its topic, which only the id names: a topic bob may not produce
        // to and one that does not exist are answered alike, neither by name (ids count up: trying them one by
        // one must not list the topics).
        long forbidden = AdminServiceGrpc.newBlockingStub(admin).describeTopic(io.strata.api.v1.DescribeTopicRequest
                .newBuilder().setName("t").build()).getTopicId();
        List<Status> decisions = new ArrayList<>();
        for (long topicId : List.of(forbidden, 1_000_000L)) {
            decisions.add(status(() -> bobsTxn.endHalf(io.strata.api.v1.EndHalfRequest.newBuilder()
                    .setId("h-" + topicId + "-0-0").setCommit(true).build())));
        }
        assertThat(decisions).extracting(Status::getCode).containsOnly(Status.Code.PERMISSION_DENIED);
        assertThat(decisions).extracting(d -> d.getDescription().replaceAll("h-\\d+", "h-N")).containsOnly(
                "the caller may not decide half message h-N-0-0 (produce on its topic is needed)");
    }

    @Test
    void anAclAddedThroughOneNodeIsEnforcedByTheOtherWithinASecond() throws Exception {
        Channel admin = as(a, "admin", ADMIN_PASSWORD);
        Channel alice = as(b, "alice", ALICE_PASSWORD);
        DescribeGroupRequest describe = DescribeGroupRequest.newBuilder().setGroup("watched").build();
        assertThat(status(() -> GroupServiceGrpc.newBlockingStub(alice).describeGroup(describe)).getCode())
                .isEqualTo(Status.Code.PERMISSION_DENIED);
        AclEntry grant = acl("User:alice", AclOperation.ACL_OPERATION_DESCRIBE, AclResourceType.ACL_RESOURCE_GROUP,
                "watched", false);
        SecurityServiceGrpc.newBlockingStub(admin).addAcl(AclRequest.newBuilder().setAcl(grant).build());
        long added = System.nanoTime();
        Status seen;
        do {
            seen = status(() -> GroupServiceGrpc.newBlockingStub(alice).describeGroup(describe));
        } while (seen.getCode() == Status.Code.PERMISSION_DENIED && System.nanoTime() - added < TimeUnit.SECONDS.toNanos(5));
        long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - added);
        assertThat(seen.getCode()).isNotEqualTo(Status.Code.PERMISSION_DENIED);
        assertThat(tookMs).as("enforced by the other node after %d ms", tookMs).isLessThanOrEqualTo(1000);
        SecurityServiceGrpc.newBlockingStub(admin).removeAcl(AclRequest.newBuilder().setAcl(grant).build());
        long removed = System.nanoTime();
        do {
            seen = status(() -> GroupServiceGrpc.newBlockingStub(alice).describeGroup(describe));
        } while (seen.getCode() != Status.Code.PERMISSION_DENIED && System.nanoTime() - removed < TimeUnit.SECONDS.toNanos(5));
        assertThat(seen.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    }

    @Test
    void aGroupMemberWithItsAclsConsumesAndCommitsAndSeesOnlyTheTopicsItMayDescribe() throws Exception {
        Channel admin = as(a, "admin", ADMIN_PASSWORD);
        AdminServiceGrpc.newBlockingStub(admin).createTopic(CreateTopicRequest.newBuilder().setName("orders")
                .setPartitions(2).build());
        for (int i = 0; i < 2; i++) {
            ProducerServiceGrpc.newBlockingStub(admin).produce(produce("orders").toBuilder().setEntries(0,
                    produce("orders").getEntries(0).toBuilder().setPartition(i)).build());
        }
        SecurityServiceGrpc.newBlockingStub(admin).addUser(AddUserRequest.newBuilder().setName("frank")
                .setPassword("frank-password").build());
        for (AclEntry grant : List.of(acl("User:frank", AclOperation.ACL_OPERATION_CONSUME, AclResourceType.ACL_RESOURCE_GROUP,
                "billing", false), acl("User:frank", AclOperation.ACL_OPERATION_CONSUME, AclResourceType.ACL_RESOURCE_TOPIC,
                "orders", false))) {
            SecurityServiceGrpc.newBlockingStub(admin).addAcl(AclRequest.newBuilder().setAcl(grant).build());
        }
        Thread.sleep(1000); // the rules reach both nodes
        try (StrataClient frank = StrataClient.builder().server(b.address()).tlsCa(node.caPem())
                .credentials("frank", "frank-password").deadline(Duration.ofSeconds(20)).build();
             io.strata.client.Consumer consumer = frank.consumer("orders", io.strata.client.ConsumerConfig.DEFAULT)) {
            consumer.subscribe("billing");
            List<String> read = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (read.size() < 2 && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(500)).forEach(r -> read.add(new String(r.value(), StandardCharsets.UTF_8)));
            }
            assertThat(read).hasSize(2);
            consumer.commitSync();
            // It may describe its group, but the group's answers show no topic it may not describe.
            var description = frank.groups().describe("billing");
            assertThat(description.partitions()).extracting(p -> p.topic()).containsOnly("orders");
            assertThat(frank.groups().list()).extracting(g -> g.group()).containsExactly("billing");
        }
        // A topic frank may not describe, committed in the same group by the super-user: hidden from frank.
        try (StrataClient root = StrataClient.builder().server(a.address()).tlsCa(node.caPem())
                .credentials("admin", ADMIN_PASSWORD).deadline(Duration.ofSeconds(20)).build();
             io.strata.client.Consumer consumer = root.consumer("t", io.strata.client.ConsumerConfig.DEFAULT)) {
            consumer.subscribe("billing");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            int read = 0;
            while (read == 0 && System.nanoTime() < deadline) {
                read += consumer.poll(Duration.ofMillis(500)).size();
            }
            consumer.commitSync();
        }
        var committed = GroupServiceGrpc.newBlockingStub(as(a, "frank", "frank-password"))
                .fetchCommitted(FetchCommittedRequest.newBuilder().setGroup("billing").build());
        assertThat(committed.getOffsetsList()).extracting(o -> o.getTopic()).containsOnly("orders");
        var all = GroupServiceGrpc.newBlockingStub(admin).fetchCommitted(FetchCommittedRequest.newBuilder()
                .setGroup("billing").build());
        assertThat(all.getOffsetsList()).extracting(o -> o.getTopic()).contains("orders", "t");
    }

    @Test
    void anOpenStreamEndsWhenItsAclIsRemoved() throws Exception {
        Channel admin = as(a, "admin", ADMIN_PASSWORD);
        AclEntry grant = acl("User:alice", AclOperation.ACL_OPERATION_CONSUME, AclResourceType.ACL_RESOURCE_TOPIC, "t", false);
        SecurityServiceGrpc.newBlockingStub(admin).addAcl(AclRequest.newBuilder().setAcl(grant).build());
        Channel alice = as(a, "alice", ALICE_PASSWORD);
        var stream = awaitStream(() -> FetchServiceGrpc.newBlockingStub(alice).withDeadlineAfter(60, TimeUnit.SECONDS)
                .subscribe(SubscribeRequest.newBuilder().setTopic("t").setPartition(0).setOffset(0).build()));
        assertThat(stream.next().getRecords().getRecordsCount()).isPositive();
        SecurityServiceGrpc.newBlockingStub(admin).removeAcl(AclRequest.newBuilder().setAcl(grant).build());
        Thread.sleep(1000);
        ProducerServiceGrpc.newBlockingStub(admin).produce(produce("t")); // the stream's next step asks again
        Status ended = status(() -> {
            while (stream.hasNext()) {
                stream.next();
            }
        });
        assertThat(ended.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    }

    /** Opens a stream once its ACL is in force on the node (a first answer, or a refusal other than the guard's). */
    private static java.util.Iterator<io.strata.api.v1.SubscribeResponse> awaitStream(
            java.util.function.Supplier<java.util.Iterator<io.strata.api.v1.SubscribeResponse>> open) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (true) {
            var stream = open.get();
            try {
                if (stream.hasNext()) {
                    return stream;
                }
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() != Status.Code.PERMISSION_DENIED || System.nanoTime() > deadline) {
                    throw e;
                }
            }
            Thread.sleep(50);
        }
    }

    @Test
    void kafkaClientsSignInWithScramOrPlainAndAreHeldToTheSameAcls() throws Exception {
        Channel admin = as(a, "admin", ADMIN_PASSWORD);
        AdminServiceGrpc.newBlockingStub(admin).createTopic(CreateTopicRequest.newBuilder().setName("logs-kafka")
                .setPartitions(1).build());
        SecurityServiceGrpc.newBlockingStub(admin).addUser(AddUserRequest.newBuilder().setName("kim")
                .setPassword("kim-password-1").build());
        for (AclEntry grant : List.of(
                acl("User:kim", AclOperation.ACL_OPERATION_PRODUCE, AclResourceType.ACL_RESOURCE_TOPIC, "logs-", true),
                acl("User:kim", AclOperation.ACL_OPERATION_CONSUME, AclResourceType.ACL_RESOURCE_TOPIC, "logs-", true),
                acl("User:kim", AclOperation.ACL_OPERATION_CONSUME, AclResourceType.ACL_RESOURCE_GROUP, "kim-", true),
                // kim may see t, so its producer sends a Produce there, which the Produce check refuses
                acl("User:kim", AclOperation.ACL_OPERATION_DESCRIBE, AclResourceType.ACL_RESOURCE_TOPIC, "t", false))) {
            SecurityServiceGrpc.newBlockingStub(admin).addAcl(AclRequest.newBuilder().setAcl(grant).build());
        }
        Thread.sleep(1000);
        var serializer = new org.apache.kafka.common.serialization.StringSerializer();
        try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<>(kafka("SCRAM-SHA-512", "kim",
                "kim-password-1"), serializer, serializer)) {
            producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>("logs-kafka", 0, "k", "scram"))
                    .get(30, TimeUnit.SECONDS);
            Throwable denied = catchFailure(() -> producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(
                    "t", 0, "k", "no")).get(30, TimeUnit.SECONDS));
            assertThat(denied).hasCauseInstanceOf(org.apache.kafka.common.errors.TopicAuthorizationException.class);
        }
        var deserializer = new org.apache.kafka.common.serialization.StringDeserializer();
        java.util.Map<String, Object> settings = new HashMap<>(kafka("PLAIN", "kim", "kim-password-1"));
        settings.put("group.id", "kim-readers");
        settings.put("auto.offset.reset", "earliest");
        try (var consumer = new org.apache.kafka.clients.consumer.KafkaConsumer<>(settings, deserializer, deserializer)) {
            consumer.subscribe(List.of("logs-kafka"));
            List<String> values = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (values.isEmpty() && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(500)).forEach(r -> values.add(r.value()));
            }
            assertThat(values).containsExactly("scram");
            consumer.commitSync();
            // What kim may not describe is not listed.
            assertThat(consumer.listTopics(Duration.ofSeconds(20)).keySet()).allMatch(t -> t.startsWith("logs-")
                    || t.equals("t"));
        }
        try (var admin2 = org.apache.kafka.clients.admin.Admin.create(kafka("SCRAM-SHA-512", "kim", "kim-password-1"))) {
            Throwable create = catchFailure(() -> admin2.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic(
                    "kim-made", 1, (short) 1))).all().get(30, TimeUnit.SECONDS));
            assertThat(create).hasCauseInstanceOf(org.apache.kafka.common.errors.TopicAuthorizationException.class);
        }
        assertThat(AdminServiceGrpc.newBlockingStub(admin).listTopics(ListTopicsRequest.getDefaultInstance())
                .getTopicsList()).extracting(d -> d.getName()).doesNotContain("kim-made");
        // ACLs through Kafka's own admin client (kafka-acls.sh): the same rules as strata acls, in force within a second.
        var kimCreates = new org.apache.kafka.common.acl.AclBinding(new org.apache.kafka.common.resource.ResourcePattern(
                org.apache.kafka.common.resource.ResourceType.TOPIC, "kim-granted",
                org.apache.kafka.common.resource.PatternType.LITERAL), new org.apache.kafka.common.acl.AccessControlEntry(
                "User:kim", "*", org.apache.kafka.common.acl.AclOperation.CREATE,
                org.apache.kafka.common.acl.AclPermissionType.ALLOW));
        try (var superUser = org.apache.kafka.clients.admin.Admin.create(kafka("SCRAM-SHA-512", "admin", ADMIN_PASSWORD));
             var kimAdmin = org.apache.kafka.clients.admin.Admin.create(kafka("SCRAM-SHA-512", "kim", "kim-password-1"))) {
            var fromHost = new org.apache.kafka.common.acl.AclBinding(kimCreates.pattern(),
                    new org.apache.kafka.common.acl.AccessControlEntry("User:kim", "10.0.0.1",
                            org.apache.kafka.common.acl.AclOperation.CREATE,
                            org.apache.kafka.common.acl.AclPermissionType.ALLOW));
            var created = superUser.createAcls(List.of(kimCreates, fromHost)).values();
            created.get(kimCreates).get(30, TimeUnit.SECONDS);
            assertThat(catchFailure(() -> created.get(fromHost).get(30, TimeUnit.SECONDS)))
                    .as("a rule Strata cannot hold, alone").hasCauseInstanceOf(
                            org.apache.kafka.common.errors.InvalidRequestException.class);
            assertThat(catchFailure(() -> kimAdmin.createAcls(List.of(kimCreates)).all().get(30, TimeUnit.SECONDS)))
                    .hasCauseInstanceOf(org.apache.kafka.common.errors.ClusterAuthorizationException.class);
            assertThat(catchFailure(() -> kimAdmin.describeUserScramCredentials().all().get(30, TimeUnit.SECONDS)))
                    .as("every user's credentials, refused in an answer").hasCauseInstanceOf(
                            org.apache.kafka.common.errors.ClusterAuthorizationException.class);
            assertThat(SecurityServiceGrpc.newBlockingStub(admin).listAcls(io.strata.api.v1.ListAclsRequest.newBuilder()
                    .setPrincipal("User:kim").build()).getAclsList()).as("one rule for both doors")
                    .anySatisfy(e -> {
                        assertThat(e.getResourceName()).isEqualTo("kim-granted");
                        assertThat(e.getOperation()).isEqualTo(AclOperation.ACL_OPERATION_CREATE);
                    });
            var kimsRules = superUser.describeAcls(new org.apache.kafka.common.acl.AclBindingFilter(
                    org.apache.kafka.common.resource.ResourcePatternFilter.ANY, new org.apache.kafka.common.acl.AccessControlEntryFilter(
                    "User:kim", null, org.apache.kafka.common.acl.AclOperation.ANY,
                    org.apache.kafka.common.acl.AclPermissionType.ANY))).values().get(30, TimeUnit.SECONDS);
            assertThat(kimsRules).as("strata acls' rules in Kafka's words").contains(kimCreates,
                    new org.apache.kafka.common.acl.AclBinding(new org.apache.kafka.common.resource.ResourcePattern(
                            org.apache.kafka.common.resource.ResourceType.TOPIC, "logs-",
                            org.apache.kafka.common.resource.PatternType.PREFIXED),
                            new org.apache.kafka.common.acl.AccessControlEntry("User:kim", "*",
                                    org.apache.kafka.common.acl.AclOperation.WRITE,
                                    org.apache.kafka.common.acl.AclPermissionType.ALLOW))).hasSize(5);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            Throwable refused;
            do {
                Thread.sleep(100); // the rule reaches the node within about a second
                refused = catchFailure(() -> kimAdmin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic(
                        "kim-granted", 1, (short) 1))).all().get(30, TimeUnit.SECONDS));
            } while (refused != null && System.nanoTime() < deadline);
            assertThat(refused).as("kim creates what the Kafka-made rule grants").isNull();

            var deleted = superUser.deleteAcls(List.of(kimCreates.toFilter())).all().get(30, TimeUnit.SECONDS);
            assertThat(deleted).containsExactly(kimCreates);
            assertThat(superUser.describeAcls(kimCreates.toFilter()).values().get(30, TimeUnit.SECONDS)).isEmpty();

            // Users through Kafka's admin client (kafka-configs --entity-type users): the users of strata users.
            var sha512 = org.apache.kafka.clients.admin.ScramMechanism.SCRAM_SHA_512;
            superUser.alterUserScramCredentials(List.of(new org.apache.kafka.clients.admin.UserScramCredentialUpsertion(
                    "kafka-made", new org.apache.kafka.clients.admin.ScramCredentialInfo(sha512, 8192), "made-by-kafka-1")))
                    .all().get(30, TimeUnit.SECONDS);
            assertThat(catchFailure(() -> superUser.alterUserScramCredentials(List.of(
                    new org.apache.kafka.clients.admin.UserScramCredentialUpsertion("kafka-made-256",
                            new org.apache.kafka.clients.admin.ScramCredentialInfo(
                                    org.apache.kafka.clients.admin.ScramMechanism.SCRAM_SHA_256, 8192), "made-by-kafka-2")))
                    .all().get(30, TimeUnit.SECONDS))).hasCauseInstanceOf(
                    org.apache.kafka.common.errors.UnsupportedSaslMechanismException.class);
            assertThat(superUser.describeUserScramCredentials(List.of("kafka-made")).all().get(30, TimeUnit.SECONDS)
                    .get("kafka-made").credentialInfos()).singleElement().satisfies(info -> {
                        assertThat(info.mechanism()).isEqualTo(sha512);
                        assertThat(info.iterations()).isEqualTo(8192);
                    });
            long signInBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            Throwable signIn;
            do {
                try (var made = org.apache.kafka.clients.admin.Admin.create(kafka("SCRAM-SHA-512", "kafka-made",
                        "made-by-kafka-1"))) {
                    signIn = catchFailure(() -> made.listTopics().names().get(30, TimeUnit.SECONDS));
                }
            } while (signIn != null && System.nanoTime() < signInBy && sleep(100));
            assertThat(signIn).as("the Kafka-made user signs in over SCRAM").isNull();
            Channel made = as(a, "kafka-made", "made-by-kafka-1");
            Status overGrpc;
            do {
                overGrpc = status(() -> SecurityServiceGrpc.newBlockingStub(made).whoAmI(
                        io.strata.api.v1.WhoAmIRequest.getDefaultInstance()));
            } while (!overGrpc.isOk() && System.nanoTime() < signInBy && sleep(100));
            assertThat(overGrpc.getCode()).as("and with its password over gRPC, on any node").isEqualTo(Status.Code.OK);
            assertThat(SecurityServiceGrpc.newBlockingStub(made).whoAmI(io.strata.api.v1.WhoAmIRequest
                    .getDefaultInstance()).getPrincipal()).isEqualTo("User:kafka-made");
            superUser.alterUserScramCredentials(List.of(new org.apache.kafka.clients.admin.UserScramCredentialDeletion(
                    "kafka-made", sha512))).all().get(30, TimeUnit.SECONDS);
            assertThat(SecurityServiceGrpc.newBlockingStub(admin).listUsers(ListUsersRequest.getDefaultInstance())
                    .getUsersList()).extracting(u -> u.getName()).doesNotContain("kafka-made", "kafka-made-256");
            // kafka-consumer-groups --reset-offsets: the admin client's alterConsumerGroupOffsets.
            superUser.alterConsumerGroupOffsets("k-reset", Map.of(new org.apache.kafka.common.TopicPartition("t", 0),
                    new org.apache.kafka.clients.consumer.OffsetAndMetadata(0))).all().get(30, TimeUnit.SECONDS);
            superUser.deleteConsumerGroups(List.of("k-reset")).all().get(30, TimeUnit.SECONDS);
            assertThat(a.logTail(Integer.MAX_VALUE) + "\n" + b.logTail(Integer.MAX_VALUE))
                    .as("each rule and user changed through Kafka's tools, a line of its own in the audit log")
                    .containsPattern("\"principal\":\"User:admin\",.*\"action\":\"Kafka OffsetCommit\","
                            + "\"resource\":\"group 'k-reset'\",\"outcome\":\"ok\"")
                    .containsPattern("\"principal\":\"User:admin\",.*\"action\":\"Kafka OffsetCommit\","
                            + "\"resource\":\"topic 't'\",\"outcome\":\"ok\"")
                    .containsPattern("\"principal\":\"User:admin\",.*\"action\":\"Kafka CreateAcls\",\"resource\":"
                            + "\"acl \\(pattern=ResourcePattern\\(resourceType=TOPIC, name=kim-granted, .*\"outcome\":\"ok\"")
                    .containsPattern("\"action\":\"Kafka CreateAcls\",\"resource\":\"acl .*host=10\\.0\\.0\\.1.*"
                            + "\"outcome\":\"failed: INVALID_REQUEST\"")
                    .containsPattern("\"action\":\"Kafka DeleteAcls\",\"resource\":\"acl .*name=kim-granted.*"
                            + "\"outcome\":\"ok\"")
                    .containsPattern("\"action\":\"Kafka AlterUserScramCredentials\",\"resource\":\"user 'kafka-made'\","
                            + "\"outcome\":\"ok\"")
                    .containsPattern("\"resource\":\"user 'kafka-made-256'\",\"outcome\":\"failed: "
                            + "UNSUPPORTED_SASL_MECHANISM\"");
        }
        // TLS without SASL (and without a client certificate): the node takes nothing but the handshake.
        java.util.Map<String, Object> noSasl = new HashMap<>(kafka("PLAIN", "kim", "kim-password-1"));
        noSasl.put("security.protocol", "SSL");
        noSasl.remove("sasl.mechanism");
        noSasl.remove("sasl.jaas.config");
        noSasl.put("default.api.timeout.ms", 5_000);
        noSasl.put("request.timeout.ms", 3_000);
        try (var anonymous = org.apache.kafka.clients.admin.Admin.create(noSasl)) {
            assertThat(catchFailure(() -> anonymous.listTopics().names().get(10, TimeUnit.SECONDS))).isNotNull();
        }
        // A wrong password fails the SASL exchange, and nothing is sent.
        for (String mechanism : List.of("SCRAM-SHA-512", "PLAIN")) {
            try (var wrong = org.apache.kafka.clients.admin.Admin.create(kafka(mechanism, "kim", "wrong-password"))) {
                Throwable refused = catchFailure(() -> wrong.listTopics().names().get(30, TimeUnit.SECONDS));
                assertThat(refused).as(mechanism)
                        .hasCauseInstanceOf(org.apache.kafka.common.errors.SaslAuthenticationException.class);
            }
        }
    }

    @Test
    void aBearerTokenOfTheTrustedIssuerIsAnIdentityWithItsGroupsAndAnyOtherIsRefused() throws Exception {
        String token = token(issuerKeys.getPrivate(), ISSUER, "system:serviceaccount:apps:indexer", List.of("readers"), 600);
        try (StrataClient client = StrataClient.builder().server(b.address()).tlsCa(node.caPem()).token(token)
                .deadline(Duration.ofSeconds(20)).build()) {
            var me = client.security().whoAmI();
            assertThat(me.getPrincipal()).isEqualTo("User:system:serviceaccount:apps:indexer");
            assertThat(me.getGroupsList()).containsExactly("readers");
            assertThat(me.getAuthenticatedBy()).isEqualTo("token");
            SecurityServiceGrpc.newBlockingStub(as(a, "admin", ADMIN_PASSWORD)).addAcl(AclRequest.newBuilder().setAcl(
                    acl("Group:readers", AclOperation.ACL_OPERATION_DESCRIBE, AclResourceType.ACL_RESOURCE_TOPIC, "t",
                            false)).build());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (client.admin().listTopics().isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(client.admin().listTopics()).extracting(t -> t.name()).containsExactly("t");
        }
        // The Kafka listener takes the same token (OAUTHBEARER), checked the same way, with the same groups.
        for (String[] attempt : new String[][] {{token, "t"}, {token(issuerKeys.getPrivate(), "https://other.issuer",
                "mallory", List.of(), 600), null}}) {
            StaticTokenLogin.token = attempt[0];
            java.util.Map<String, Object> settings = new HashMap<>(kafka("PLAIN", "unused", "unused"));
            settings.put("sasl.mechanism", "OAUTHBEARER");
            settings.put("sasl.jaas.config", "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;");
            settings.put("sasl.login.callback.handler.class", StaticTokenLogin.class.getName());
            try (var kafkaAdmin = org.apache.kafka.clients.admin.Admin.create(settings)) {
                if (attempt[1] != null) {
                    assertThat(kafkaAdmin.listTopics().names().get(30, TimeUnit.SECONDS)).containsExactly(attempt[1]);
                } else {
                    assertThat(catchFailure(() -> kafkaAdmin.listTopics().names().get(30, TimeUnit.SECONDS)))
                            .hasCauseInstanceOf(org.apache.kafka.common.errors.SaslAuthenticationException.class);
                }
            }
        }
        java.security.KeyPairGenerator generator = java.security.KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        for (String refused : List.of(token(generator.generateKeyPair().getPrivate(), ISSUER, "mallory", List.of(), 600),
                token(issuerKeys.getPrivate(), "https://other.issuer", "mallory", List.of(), 600),
                token(issuerKeys.getPrivate(), ISSUER, "late", List.of(), -600),
                token(issuerKeys.getPrivate(), ISSUER, "kubernetes", "a-pods-own-token", List.of(), 600), "not-a-jwt")) {
            Metadata headers = new Metadata();
            headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + refused);
            Channel channel = ClientInterceptors.intercept(tls(a), MetadataUtils.newAttachHeadersInterceptor(headers));
            Status status = status(() -> SecurityServiceGrpc.newBlockingStub(channel).whoAmI(WhoAmIRequest.getDefaultInstance()));
            assertThat(status.getCode()).as(refused).isEqualTo(Status.Code.UNAUTHENTICATED);
        }
    }

    /** A JWT as an OIDC provider signs it (RS256), expiring {@code lifetimeSeconds} from now. */
    private static String token(java.security.PrivateKey key, String issuer, String subject, List<String> groups,
                                long lifetimeSeconds) throws Exception {
        return token(key, issuer, "strata", subject, groups, lifetimeSeconds);
    }

    private static String token(java.security.PrivateKey key, String issuer, String audience, String subject,
                                List<String> groups, long lifetimeSeconds) throws Exception {
        org.jose4j.jwt.JwtClaims claims = new org.jose4j.jwt.JwtClaims();
        claims.setIssuer(issuer);
        claims.setAudience(audience);
        claims.setSubject(subject);
        claims.setIssuedAtToNow();
        claims.setExpirationTimeMinutesInTheFuture(lifetimeSeconds / 60f);
        claims.setStringListClaim("groups", groups);
        org.jose4j.jws.JsonWebSignature jws = new org.jose4j.jws.JsonWebSignature();
        jws.setPayload(claims.toJson());
        jws.setKey(key);
        jws.setAlgorithmHeaderValue(org.jose4j.jws.AlgorithmIdentifiers.RSA_USING_SHA256);
        return jws.getCompactSerialization();
    }

    @Test
    void aNodeWithoutAuthenticationRefusesToJoinAClusterThatRequiresIt() throws Exception {
        StrataProcess open = cluster.prepare("open", "ingest,fetch", Map.of()).launch();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (open.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        assertThat(open.isAlive()).as("the node without authentication stopped").isFalse();
        assertThat(open.exitCode().orElse(0)).isNotZero();
        assertThat(open.logTail(200)).contains("this cluster requires authentication");
    }

    /** A Kafka client of node a over TLS and SASL, as a user would configure it. */
    /**
     * A quota holds its principal to its rate across both nodes (slowed, told so in throttle_time_ms, never failed),
     * on gRPC and on the Kafka listener, and leaves everyone else alone; lifted, it holds nobody. The rate's
     * precision is the benchmark's (scripts/bench-quotas); here only bounds a slow machine cannot break.
     */
    @Test
    void aPrincipalOverItsQuotaIsSlowedOnEveryNodeAndDoorAndNobodyElseIs() throws Exception {
        Channel admin = as(a, "admin", ADMIN_PASSWORD);
        AdminServiceGrpc.newBlockingStub(admin).createTopic(CreateTopicRequest.newBuilder().setName("quota-t")
                .setPartitions(1).build());
        SecurityServiceGrpc.newBlockingStub(admin).addUser(AddUserRequest.newBuilder().setName("quinn")
                .setPassword("quinn-password-1").build());
        for (String who : List.of("User:quinn", "User:alice")) {
            SecurityServiceGrpc.newBlockingStub(admin).addAcl(AclRequest.newBuilder().setAcl(acl(who,
                    AclOperation.ACL_OPERATION_PRODUCE, AclResourceType.ACL_RESOURCE_TOPIC, "quota-", true)).build());
        }
        long rate = 512 * 1024;
        try (StrataClient client = StrataClient.builder().server(a.address()).tlsCa(node.caPem())
                .credentials("admin", ADMIN_PASSWORD).deadline(Duration.ofSeconds(20)).build()) {
            client.security().setQuota(io.strata.api.v1.QuotaEntry.newBuilder().setEntity("User:quinn")
                    .setProduceBytesPerSecond(rate).build());
            assertThat(client.security().listQuotas()).extracting(q -> q.getEntity()).containsExactly("User:quinn");
        }
        Thread.sleep(2000); // the nodes read quotas once a second
        ProduceRequest request = ProduceRequest.newBuilder().addEntries(TopicPartitionRecords.newBuilder()
                .setTopic("quota-t").setPartition(0).addRecords(Record.newBuilder()
                        .setValue(ByteString.copyFrom(new byte[64 * 1024])))).build();
        Channel[] quinn = {as(a, "quinn", "quinn-password-1"), as(b, "quinn", "quinn-password-1")};
        Channel aliceOnA = as(a, "alice", ALICE_PASSWORD);
        // Six seconds on both nodes in turn. Each node alone would allow the whole rate (twice it together) until
        // the nodes have told each other what quinn uses there; from then on they share it.
        long started = System.nanoTime();
        long settled = started + TimeUnit.SECONDS.toNanos(3);
        long sentSinceSettled = 0;
        int[] throttled = new int[2]; // one node may do all the holding back: quinn waits there, and the other refills meanwhile
        for (int i = 0; System.nanoTime() - started < TimeUnit.SECONDS.toNanos(6); i++) {
            ProduceResponse r = ProducerServiceGrpc.newBlockingStub(quinn[i % 2]).withDeadlineAfter(40, TimeUnit.SECONDS)
                    .produce(request);
            assertThat(r.getAppends(0).getBaseOffset()).isNotNegative();
            throttled[i % 2] += r.getThrottleTimeMs() > 0 ? 1 : 0;
            sentSinceSettled += System.nanoTime() > settled ? request.getSerializedSize() : 0;
            // Alice, on the same node meanwhile, has no quota: never held back.
            assertThat(ProducerServiceGrpc.newBlockingStub(aliceOnA).produce(produce("quota-t")).getThrottleTimeMs())
                    .isZero();
        }
        double seconds = (System.nanoTime() - settled) / 1e9;
        assertThat(throttled[0] + throttled[1]).as("answers that said they were held back").isPositive();
        assertThat(sentSinceSettled / seconds).as("quinn's rate over both nodes").isLessThan(rate * 1.5);

        // The Kafka listener counts against the same quota, and says so as Kafka does.
        var serializer = new org.apache.kafka.common.serialization.ByteArraySerializer();
        try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<>(kafka("SCRAM-SHA-512", "quinn",
                "quinn-password-1"), serializer, serializer)) {
            for (int i = 0; i < 16; i++) {
                producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>("quota-t", 0, null,
                        new byte[64 * 1024])).get(60, TimeUnit.SECONDS);
            }
            double throttleMax = producer.metrics().entrySet().stream()
                    .filter(e -> e.getKey().name().equals("produce-throttle-time-max"))
                    .mapToDouble(e -> ((Number) e.getValue().metricValue()).doubleValue()).max().orElse(0);
            assertThat(throttleMax).as("the Kafka producer's produce-throttle-time-max").isPositive();
        }

        // Kafka's tools see and change the same quotas (kafka-configs --entity-type users).
        try (var kafkaAdmin = org.apache.kafka.clients.admin.Admin.create(kafka("SCRAM-SHA-512", "admin", ADMIN_PASSWORD))) {
            var quinnEntity = new org.apache.kafka.common.quota.ClientQuotaEntity(Map.of("user", "quinn"));
            var described = kafkaAdmin.describeClientQuotas(org.apache.kafka.common.quota.ClientQuotaFilter.all())
                    .entities().get(30, TimeUnit.SECONDS);
            assertThat(described.get(quinnEntity)).containsEntry("producer_byte_rate", (double) rate);
            var other = new org.apache.kafka.common.quota.ClientQuotaEntity(Map.of("user", "kafka-set"));
            kafkaAdmin.alterClientQuotas(List.of(new org.apache.kafka.common.quota.ClientQuotaAlteration(other, List.of(
                    new org.apache.kafka.common.quota.ClientQuotaAlteration.Op("consumer_byte_rate", 4096.0)))))
                    .all().get(30, TimeUnit.SECONDS);
            Throwable clientId = catchFailure(() -> kafkaAdmin.alterClientQuotas(List.of(
                    new org.apache.kafka.common.quota.ClientQuotaAlteration(new org.apache.kafka.common.quota
                            .ClientQuotaEntity(Map.of("client-id", "x")), List.of(new org.apache.kafka.common.quota
                            .ClientQuotaAlteration.Op("producer_byte_rate", 1.0))))).all().get(30, TimeUnit.SECONDS));
            assertThat(clientId).hasCauseInstanceOf(org.apache.kafka.common.errors.InvalidRequestException.class);
        }
        assertThat(SecurityServiceGrpc.newBlockingStub(admin).listQuotas(io.strata.api.v1.ListQuotasRequest
                .getDefaultInstance()).getQuotasList()).anyMatch(q -> q.getEntity().equals("User:kafka-set")
                && q.getFetchBytesPerSecond() == 4096 && q.getProduceBytesPerSecond() == 0);
        SecurityServiceGrpc.newBlockingStub(admin).removeQuota(io.strata.api.v1.RemoveQuotaRequest.newBuilder()
                .setEntity("User:kafka-set").build());
        SecurityServiceGrpc.newBlockingStub(admin).removeQuota(io.strata.api.v1.RemoveQuotaRequest.newBuilder()
                .setEntity("User:quinn").build());
        Thread.sleep(2000);
        for (int i = 0; i < 4; i++) {
            assertThat(ProducerServiceGrpc.newBlockingStub(quinn[i % 2]).produce(request).getThrottleTimeMs()).isZero();
        }
    }

    /** A Kafka client's OAUTHBEARER login that hands over one given token (the test's stand-in for an identity provider). */
    public static final class StaticTokenLogin implements org.apache.kafka.common.security.auth.AuthenticateCallbackHandler {
        static volatile String token;

        @Override
        public void configure(java.util.Map<String, ?> configs, String mechanism,
                              List<javax.security.auth.login.AppConfigurationEntry> entries) {
        }

        @Override
        public void handle(javax.security.auth.callback.Callback[] callbacks) {
            String value = token;
            long now = System.currentTimeMillis();
            for (javax.security.auth.callback.Callback c : callbacks) {
                if (c instanceof org.apache.kafka.common.security.oauthbearer.OAuthBearerTokenCallback t) {
                    t.token(new org.apache.kafka.common.security.oauthbearer.internals.secured.BasicOAuthBearerToken(
                            value, java.util.Set.of(), now + 600_000, "client", now));
                }
            }
        }

        @Override
        public void close() {
        }
    }

    private java.util.Map<String, Object> kafka(String mechanism, String user, String password) {
        String module = mechanism.equals("PLAIN") ? "org.apache.kafka.common.security.plain.PlainLoginModule"
                : "org.apache.kafka.common.security.scram.ScramLoginModule";
        return java.util.Map.of("bootstrap.servers", a.kafkaAddress(), "security.protocol", "SASL_SSL",
                "ssl.truststore.type", "PEM", "ssl.truststore.location", node.caPem().toString(),
                "sasl.mechanism", mechanism, "sasl.jaas.config", module + " required username=\"" + user
                        + "\" password=\"" + password + "\";", "request.timeout.ms", 20_000, "default.api.timeout.ms", 30_000);
    }

    @Test
    void aClientCertificateOfTheClientsCaIsAnIdentityAndOfAnotherCaIsRefused() throws Exception {
        try (StrataClient client = StrataClient.builder().server(a.address()).tlsCa(node.caPem())
                .tlsCertificate(carol.certificatePem(), carol.keyPem()).deadline(Duration.ofSeconds(20)).build()) {
            var me = client.security().whoAmI();
            assertThat(me.getPrincipal()).isEqualTo("User:carol");
            assertThat(me.getAuthenticatedBy()).isEqualTo("certificate");
        }
        Certificates.Issued mallory = Certificates.issue(work.resolve("tls"), "evil-ca", "mallory");
        try (StrataClient client = StrataClient.builder().server(a.address()).tlsCa(node.caPem())
                .tlsCertificate(mallory.certificatePem(), mallory.keyPem()).deadline(Duration.ofSeconds(20)).build()) {
            // Asked for, not required: the handshake leaves a certificate the node does not trust out, and the
            // call has no identity.
            Throwable refused = catchFailure(() -> client.security().whoAmI());
            assertThat(refused).isInstanceOf(io.strata.client.StrataException.class);
            assertThat(((io.strata.client.StrataException) refused).code()).isEqualTo(Status.Code.UNAUTHENTICATED);
        }
    }

    /** Every RPC of the client port, with what a principal needs for it. */
    private List<Call> calls() {
        String t = "t";
        List<Call> calls = new ArrayList<>();
        AclResourceType topic = AclResourceType.ACL_RESOURCE_TOPIC;
        AclResourceType group = AclResourceType.ACL_RESOURCE_GROUP;
        List<AclEntry> admin = List.of(acl("User:alice", AclOperation.ACL_OPERATION_ADMIN, AclResourceType.ACL_RESOURCE_CLUSTER, "", false));
        calls.add(new Call(AdminServiceGrpc.getCreateTopicMethod(), c -> status(() -> AdminServiceGrpc.newBlockingStub(c)
                .createTopic(CreateTopicRequest.newBuilder().setName("made").setPartitions(1).build())),
                List.of(acl("User:alice", AclOperation.ACL_OPERATION_CREATE, topic, "made", false))));
        calls.add(new Call(AdminServiceGrpc.getAlterTopicMethod(), c -> status(() -> AdminServiceGrpc.newBlockingStub(c)
                .alterTopic(AlterTopicRequest.newBuilder().setName(t).setRetentionMs(86_400_000).build())),
                List.of(acl("User:alice", AclOperation.ACL_OPERATION_ALTER, topic, t, false))));
        calls.add(new Call(AdminServiceGrpc.getDeleteTopicMethod(), c -> status(() -> AdminServiceGrpc.newBlockingStub(c)
                .deleteTopic(DeleteTopicRequest.newBuilder().setName("doomed").build())),
                List.of(acl("User:alice", AclOperation.ACL_OPERATION_DELETE, topic, "doomed", false))));
        calls.add(new Call(AdminServiceGrpc.getDeleteRecordsMethod(), c -> status(() -> AdminServiceGrpc.newBlockingStub(c)
                .deleteRecords(io.strata.api.v1.DeleteRecordsRequest.newBuilder().setTopic("purged").addPartitions(
                        io.strata.api.v1.RecordsBefore.newBuilder().setPartition(0).setBeforeOffset(-1)).build())),
                List.of(acl("User:alice", AclOperation.ACL_OPERATION_DELETE, topic, "purged", false))));
        calls.add(new Call(AdminServiceGrpc.getListTopicsMethod(), c -> status(() -> AdminServiceGrpc.newBlockingStub(c)
                .listTopics(ListTopicsRequest.getDefaultInstance())), List.of()));
        calls.add(new Call(AdminServiceGrpc.getDescribeTopicMethod(), c -> status(() -> AdminServiceGrpc.newBlockingStub(c)
                .describeTopic(DescribeTopicRequest.newBuilder().setName(t).build())),
                List.of(acl("User:alice", AclOperation.ACL_OPERATION_DESCRIBE, topic, t, false))));
        calls.add(new Call(AdminServiceGrpc.getListOffsetsMethod(), c -> status(() -> AdminServiceGrpc.newBlockingStub(c)
                .listOffsets(ListOffsetsRequest.newBuilder().setTopic(t).setPosition(OffsetSpec.OFFSET_SPEC_LATEST).build())),
                List.of(acl("User:alice", AclOperation.ACL_OPERATION_DESCRIBE, topic, t, false))));
        calls.add(new Call(ClusterServiceGrpc.getDescribeClusterMethod(), c -> status(() -> ClusterServiceGrpc
                .newBlockingStub(c).describeCluster(DescribeClusterRequest.getDefaultInstance())), List.of()));
        calls.add(new Call(ClusterServiceGrpc.getDescribeCompactionMethod(), c -> status(() -> ClusterServiceGrpc
                .newBlockingStub(c).describeCompaction(io.strata.api.v1.DescribeCompactionRequest.getDefaultInstance())),
                List.of(acl("User:alice", AclOperation.ACL_OPERATION_DESCRIBE, AclResourceType.ACL_RESOURCE_CLUSTER, "",
                        false))));
        calls.add(new Call(ClusterServiceGrpc.getDescribeHistoryMethod(), c -> status(() -> ClusterServiceGrpc
                .newBlockingStub(c).describeHistory(io.strata.api.v1.DescribeHistoryRequest.getDefaultInstance())),
                List.of()));
        List<AclEntry> produce = List.of(acl("User:alice", AclOperation.ACL_OPERATION_PRODUCE, topic, t, false));
        calls.add(new Call(ProducerServiceGrpc.getProduceMethod(), c -> status(() -> ProducerServiceGrpc.newBlockingStub(c)
                .produce(produce(t))), produce));
        calls.add(new Call(ProducerServiceGrpc.getProduceStreamMethod(), c -> {
            try {
                List<ProduceResponse> answers = produceStream(c, t);
                return answers.get(0).hasError() ? Status.fromCodeValue(answers.get(0).getError().getCode())
                        .withDescription(answers.get(0).getError().getMessage()) : Status.OK;
            } catch (Exception e) {
                return Status.fromThrowable(e);
            }
        }, produce));
        calls.add(new Call(ProducerServiceGrpc.getInitProducerMethod(), c -> status(() -> ProducerServiceGrpc
                .newBlockingStub(c).initProducer(InitProducerRequest.getDefaultInstance())), List.of()));
        List<AclEntry> consume = List.of(acl("User:alice", AclOperation.ACL_OPERATION_CONSUME, topic, t, false));
        FetchRequest fetch = FetchRequest.newBuilder().setTopic(t).setPartition(0).setOffset(0).build();
        calls.add(new Call(FetchServiceGrpc.getFetchMethod(), c -> status(() -> FetchServiceGrpc.newBlockingStub(c)
                .fetch(fetch)), consume));
        calls.add(new Call(FetchServiceGrpc.getFetchChunksMethod(), c -> status(() -> FetchServiceGrpc.newBlockingStub(c)
                .fetchChunks(fetch)), consume));
        calls.add(new Call(FetchServiceGrpc.getSubscribeMethod(), c -> status(() -> FetchServiceGrpc.newBlockingStub(c)
                .withDeadlineAfter(10, TimeUnit.SECONDS)
                .subscribe(SubscribeRequest.newBuilder().setTopic(t).setPartition(0).setOffset(0).build()).next()), consume));
        List<AclEntry> member = List.of(acl("User:alice", AclOperation.ACL_OPERATION_CONSUME, group, "g", false));
        List<AclEntry> memberOfT = List.of(member.get(0), consume.get(0));
        calls.add(new Call(GroupServiceGrpc.getJoinGroupMethod(), c -> status(() -> GroupServiceGrpc.newBlockingStub(c)
                .joinGroup(JoinGroupRequest.newBuilder().setGroup("g").addTopics(t).setSessionTimeoutMs(6000).build())),
                memberOfT));
        calls.add(new Call(GroupServiceGrpc.getHeartbeatMethod(), c -> status(() -> GroupServiceGrpc.newBlockingStub(c)
                .heartbeat(HeartbeatRequest.newBuilder().setGroup("g").setMemberId("nobody").build())), member));
        calls.add(new Call(GroupServiceGrpc.getLeaveGroupMethod(), c -> status(() -> GroupServiceGrpc.newBlockingStub(c)
                .leaveGroup(LeaveGroupRequest.newBuilder().setGroup("g").setMemberId("nobody").build())), member));
        calls.add(new Call(GroupServiceGrpc.getSyncAssignmentMethod(), c -> syncAssignment(c, "g"), member));
        calls.add(new Call(GroupServiceGrpc.getCommitOffsetsMethod(), c -> status(() -> GroupServiceGrpc.newBlockingStub(c)
                .commitOffsets(CommitOffsetsRequest.newBuilder().setGroup("g").setMemberId("nobody").addOffsets(
                        PartitionCommit.newBuilder().setTopic(t).setPartition(0).setOffset(1)).build())), memberOfT));
        calls.add(new Call(io.strata.api.v1.ShareServiceGrpc.getShareFetchMethod(), c -> status(() -> io.strata.api.v1
                .ShareServiceGrpc.newBlockingStub(c).shareFetch(io.strata.api.v1.ShareFetchRequest.newBuilder()
                        .setGroup("g").setTopic(t).setMemberId("m").setMaxRecords(1).build())), memberOfT));
        calls.add(new Call(io.strata.api.v1.ShareServiceGrpc.getShareAcknowledgeMethod(), c -> status(() -> io.strata
                .api.v1.ShareServiceGrpc.newBlockingStub(c).shareAcknowledge(io.strata.api.v1.ShareAcknowledgeRequest
                        .newBuilder().setGroup("g").setTopic(t).setMemberId("m").addAcks(io.strata.api.v1.ShareAck
                                .newBuilder().setPartition(0).setFirstOffset(0).setLastOffset(0)
                                .setAnswer(io.strata.api.v1.ShareAnswer.SHARE_ANSWER_ACCEPT)).build())), memberOfT));
        List<AclEntry> describeG = List.of(acl("User:alice", AclOperation.ACL_OPERATION_DESCRIBE, group, "g", false));
        calls.add(new Call(GroupServiceGrpc.getFetchCommittedMethod(), c -> status(() -> GroupServiceGrpc.newBlockingStub(c)
                .fetchCommitted(FetchCommittedRequest.newBuilder().setGroup("g").build())), describeG));
        calls.add(new Call(GroupServiceGrpc.getDescribeGroupMethod(), c -> status(() -> GroupServiceGrpc.newBlockingStub(c)
                .describeGroup(DescribeGroupRequest.newBuilder().setGroup("g").build())), describeG));
        calls.add(new Call(GroupServiceGrpc.getListGroupsMethod(), c -> status(() -> GroupServiceGrpc.newBlockingStub(c)
                .listGroups(ListGroupsRequest.getDefaultInstance())), List.of()));
        calls.add(new Call(GroupServiceGrpc.getResetOffsetsMethod(), c -> status(() -> GroupServiceGrpc.newBlockingStub(c)
                .resetOffsets(ResetOffsetsRequest.newBuilder().setGroup("g").setTopic(t).setEarliest(true).build())),
                List.of(acl("User:alice", AclOperation.ACL_OPERATION_ALTER_GROUP, group, "g", false),
                        acl("User:alice", AclOperation.ACL_OPERATION_DESCRIBE, topic, t, false))));
        calls.add(new Call(GroupServiceGrpc.getDeleteGroupMethod(), c -> status(() -> GroupServiceGrpc.newBlockingStub(c)
                .deleteGroup(DeleteGroupRequest.newBuilder().setGroup("g-doomed").build())),
                List.of(acl("User:alice", AclOperation.ACL_OPERATION_DELETE, group, "g-doomed", false))));
        calls.add(new Call(io.strata.api.v1.ShareServiceGrpc.getListShareGroupsMethod(), c -> status(() ->
                io.strata.api.v1.ShareServiceGrpc.newBlockingStub(c).listShareGroups(
                        io.strata.api.v1.ListShareGroupsRequest.getDefaultInstance())), List.of()));
        calls.add(new Call(io.strata.api.v1.ShareServiceGrpc.getDescribeShareGroupMethod(), c -> status(() ->
                io.strata.api.v1.ShareServiceGrpc.newBlockingStub(c).describeShareGroup(
                        io.strata.api.v1.DescribeShareGroupRequest.newBuilder().setGroup("g").build())), describeG));
        calls.add(new Call(io.strata.api.v1.ShareServiceGrpc.getDeleteShareGroupMethod(), c -> status(() ->
                io.strata.api.v1.ShareServiceGrpc.newBlockingStub(c).deleteShareGroup(
                        io.strata.api.v1.DeleteShareGroupRequest.newBuilder().setGroup("g-doomed").build())),
                List.of(acl("User:alice", AclOperation.ACL_OPERATION_DELETE, group, "g-doomed", false))));
        // Naming a dead-letter topic takes leave to write there.
        calls.add(new Call(GroupServiceGrpc.getAlterGroupSettingsMethod(), c -> status(() -> GroupServiceGrpc
                .newBlockingStub(c).alterGroupSettings(io.strata.api.v1.AlterGroupSettingsRequest.newBuilder()
                        .setGroup("g").setDeadLetterTopic(t).setMaxDeliveryAttempts(3).build())),
                List.of(acl("User:alice", AclOperation.ACL_OPERATION_ALTER_GROUP, group, "g", false),
                        acl("User:alice", AclOperation.ACL_OPERATION_PRODUCE, topic, t, false))));
        calls.add(new Call(GroupServiceGrpc.getDescribeGroupSettingsMethod(), c -> status(() -> GroupServiceGrpc
                .newBlockingStub(c).describeGroupSettings(io.strata.api.v1.DescribeGroupSettingsRequest.newBuilder()
                        .setGroup("g").build())), describeG));
        calls.add(new Call(SecurityServiceGrpc.getWhoAmIMethod(), c -> status(() -> SecurityServiceGrpc.newBlockingStub(c)
                .whoAmI(WhoAmIRequest.getDefaultInstance())), List.of()));
        calls.add(new Call(SecurityServiceGrpc.getAddUserMethod(), c -> status(() -> SecurityServiceGrpc.newBlockingStub(c)
                .addUser(AddUserRequest.newBuilder().setName("dave").setPassword("dave-password").setReplace(true).build())),
                admin));
        calls.add(new Call(SecurityServiceGrpc.getRemoveUserMethod(), c -> status(() -> SecurityServiceGrpc.newBlockingStub(c)
                .removeUser(RemoveUserRequest.newBuilder().setName("dave").build())), admin));
        calls.add(new Call(SecurityServiceGrpc.getListUsersMethod(), c -> status(() -> SecurityServiceGrpc.newBlockingStub(c)
                .listUsers(ListUsersRequest.getDefaultInstance())), admin));
        AclEntry someRule = acl("User:erin", AclOperation.ACL_OPERATION_CONSUME, topic, "x", false);
        calls.add(new Call(SecurityServiceGrpc.getAddAclMethod(), c -> status(() -> SecurityServiceGrpc.newBlockingStub(c)
                .addAcl(AclRequest.newBuilder().setAcl(someRule).build())), admin));
        calls.add(new Call(SecurityServiceGrpc.getRemoveAclMethod(), c -> status(() -> SecurityServiceGrpc.newBlockingStub(c)
                .removeAcl(AclRequest.newBuilder().setAcl(someRule).build())), admin));
        calls.add(new Call(SecurityServiceGrpc.getListAclsMethod(), c -> status(() -> SecurityServiceGrpc.newBlockingStub(c)
                .listAcls(ListAclsRequest.getDefaultInstance())), admin));
        calls.add(new Call(SecurityServiceGrpc.getSetQuotaMethod(), c -> status(() -> SecurityServiceGrpc.newBlockingStub(c)
                .setQuota(io.strata.api.v1.SetQuotaRequest.newBuilder().setQuota(io.strata.api.v1.QuotaEntry.newBuilder()
                        .setEntity("User:matrix").setRequestsPerSecond(1000)).build())), admin));
        calls.add(new Call(SecurityServiceGrpc.getRemoveQuotaMethod(), c -> status(() -> SecurityServiceGrpc.newBlockingStub(c)
                .removeQuota(io.strata.api.v1.RemoveQuotaRequest.newBuilder().setEntity("User:matrix").build())), admin));
        calls.add(new Call(SecurityServiceGrpc.getListQuotasMethod(), c -> status(() -> SecurityServiceGrpc.newBlockingStub(c)
                .listQuotas(io.strata.api.v1.ListQuotasRequest.getDefaultInstance())), admin));
        return calls;
    }

    private static AclEntry acl(String principal, AclOperation op, AclResourceType type, String name, boolean prefixed) {
        return AclEntry.newBuilder().setPrincipal(principal).setOperation(op).setResourceType(type).setResourceName(name)
                .setPrefixed(prefixed).build();
    }

    private static ProduceRequest produce(String topic) {
        return ProduceRequest.newBuilder().addEntries(TopicPartitionRecords.newBuilder().setTopic(topic).setPartition(0)
                .addRecords(Record.newBuilder().setValue(ByteString.copyFromUtf8("v")))).build();
    }

    /** One request per topic on one ProduceStream; the answers in order. */
    private static List<ProduceResponse> produceStream(Channel channel, String... topics) throws Exception {
        List<ProduceResponse> answers = new java.util.concurrent.CopyOnWriteArrayList<>();
        CompletableFuture<Void> done = new CompletableFuture<>();
        StreamObserver<ProduceRequest> requests = ProducerServiceGrpc.newStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS)
                .produceStream(new StreamObserver<>() {
                    @Override
                    public void onNext(ProduceResponse value) {
                        answers.add(value);
                        if (answers.size() == topics.length) {
                            done.complete(null);
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        done.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                        done.complete(null);
                    }
                });
        for (int i = 0; i < topics.length; i++) {
            requests.onNext(produce(topics[i]).toBuilder().setRequestId(i).build());
        }
        try {
            done.get(20, TimeUnit.SECONDS);
        } finally {
            requests.onCompleted();
        }
        return answers;
    }

    /** Opens a SyncAssignment stream for a member that does not exist: the status it ends with. */
    private static Status syncAssignment(Channel channel, String group) {
        CompletableFuture<Status> ended = new CompletableFuture<>();
        StreamObserver<SyncAssignmentRequest> requests = GroupServiceGrpc.newStub(channel)
                .withDeadlineAfter(10, TimeUnit.SECONDS).syncAssignment(new StreamObserver<Assignment>() {
                    @Override
                    public void onNext(Assignment value) {
                        ended.complete(Status.OK);
                    }

                    @Override
                    public void onError(Throwable t) {
                        ended.complete(Status.fromThrowable(t));
                    }

                    @Override
                    public void onCompleted() {
                        ended.complete(Status.OK);
                    }
                });
        requests.onNext(SyncAssignmentRequest.newBuilder().setGroup(group).setMemberId("nobody").build());
        try {
            return ended.get(15, TimeUnit.SECONDS);
        } catch (Exception e) {
            return Status.fromThrowable(e);
        } finally {
            requests.onCompleted();
        }
    }

    private static Status status(Runnable call) {
        try {
            call.run();
            return Status.OK;
        } catch (StatusRuntimeException e) {
            return e.getStatus();
        }
    }

    /** Sleeps, then answers true: for a retry loop's condition. */
    private static boolean sleep(long ms) throws InterruptedException {
        Thread.sleep(ms);
        return true;
    }

    private static Throwable catchFailure(ThrowingRunnable call) {
        try {
            call.run();
            return null;
        } catch (Throwable t) {
            return t;
        }
    }

    @FunctionalInterface
    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    /** Tries the call for a while as an ACL reaches the node (it is in force within about a second). */
    private static Status awaitNotDenied(java.util.function.Supplier<Status> call) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        Status s;
        while ((s = call.get()).getCode() == Status.Code.PERMISSION_DENIED && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        return s;
    }

    /** The call's answer once an ACL just added reached the node (as {@link #awaitNotDenied}). */
    private static <T> T awaitAnswer(java.util.function.Supplier<T> call) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (true) {
            try {
                return call.get();
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() != Status.Code.PERMISSION_DENIED || System.nanoTime() >= deadline) {
                    throw e;
                }
                Thread.sleep(50);
            }
        }
    }

    private ManagedChannel tls(StrataProcess node) {
        try {
            ManagedChannel c = NettyChannelBuilder.forTarget(node.address()).sslContext(GrpcSslContexts.forClient()
                    .trustManager(this.node.caPem().toFile()).build()).build();
            channels.add(c);
            return c;
        } catch (javax.net.ssl.SSLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A TLS channel whose calls carry {@code authorization: Basic} for this user, as any gRPC client sends it. */
    private Channel as(StrataProcess node, String user, String password) {
        Metadata headers = new Metadata();
        headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Basic " + Base64.getEncoder()
                .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8)));
        return ClientInterceptors.intercept(tls(node), MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    /**
     * What the cluster keeps that a call could change: every key under its root that is not bound to a lease
     * (node registrations and quota usage come and go on their own) or is a group member's (bound to its
     * session: a denied join must not leave one), with its revision, and the bucket's objects.
     */
    private Map<String, String> stores() throws Exception {
        Map<String, String> seen = new TreeMap<>();
        for (KeyValue kv : etcd.range(root + "/").get(10, TimeUnit.SECONDS).entries()) {
            if (kv.lease() == 0 || kv.key().startsWith(root + "/group/")) {
                seen.put(kv.key(), Long.toString(kv.modRevision()));
            }
        }
        for (String object : inspector.objects()) {
            seen.put("object " + object, "");
        }
        return seen;
    }
}
