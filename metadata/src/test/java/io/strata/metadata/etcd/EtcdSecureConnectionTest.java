package io.strata.metadata.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.strata.launcher.tls.LocalCertificates;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.MetadataStores;
import io.strata.metadata.TopicConfig;
import io.strata.testkit.etcd.EtcdFixture;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real etcd that speaks TLS only, requires client certificates and has its own authentication on: the metadata
 * store reaches it with a CA, a client certificate and a user, and without any of them it does not.
 */
class EtcdSecureConnectionTest {
    @TempDir
    Path dir;

    @Test
    void theStoreReachesAnEtcdWithTlsClientCertificatesAndAuthOnlyWithAllThree() throws Exception {
        LocalCertificates certificates = new LocalCertificates(dir, 2);
        certificates.newCa("etcd-ca");
        LocalCertificates.Issued server = certificates.issue("etcd-ca", "etcd", "ip:127.0.0.1,dns:localhost");
        LocalCertificates.Issued client = certificates.issue("etcd-ca", "strata-node", "dns:strata-node");
        try (EtcdFixture etcd = EtcdFixture.startSecure(server.certificatePem(), server.keyPem(), server.caPem())) {
            EtcdSecurity tlsOnly = new EtcdSecurity(Optional.of(server.caPem()), Optional.of(client.certificatePem()),
                    Optional.of(client.keyPem()), Optional.empty(), Optional.empty());
            enableAuth(etcd.endpoint(), tlsOnly, "root-password");
            EtcdSecurity all = new EtcdSecurity(tlsOnly.ca(), tlsOnly.certificate(), tlsOnly.key(), Optional.of("root"),
                    Optional.of("root-password"));
            try (MetadataStore store = MetadataStores.etcd(List.of(etcd.endpoint()), "/secure", 4, Duration.ofSeconds(5),
                    all)) {
                store.createTopic(new TopicConfig("orders", 2, -1, -1)).get(10, TimeUnit.SECONDS);
                assertThat(store.listTopics().get(10, TimeUnit.SECONDS)).extracting(t -> t.name()).containsExactly("orders");
            }
            EtcdSecurity wrongPassword = new EtcdSecurity(tlsOnly.ca(), tlsOnly.certificate(), tlsOnly.key(),
                    Optional.of("root"), Optional.of("wrong"));
            for (EtcdSecurity refused : List.of(tlsOnly, wrongPassword, new EtcdSecurity(tlsOnly.ca(), Optional.empty(),
                    Optional.empty(), all.user(), all.password()))) {
                assertThatThrownBy(() -> MetadataStores.etcd(List.of(etcd.endpoint()), "/secure", 4,
                        Duration.ofSeconds(3), refused).close()).isInstanceOf(RuntimeException.class);
            }
        }
    }

    /** etcd's own authentication: the root user and role, then auth on (as an operator does with etcdctl). */
    private static void enableAuth(String endpoint, EtcdSecurity tls, String password) throws Exception {
        try (Client c = Client.builder().endpoints(endpoint).sslContext(b -> {
            b.trustManager(tls.ca().get().toFile());
            b.keyManager(tls.certificate().get().toFile(), tls.key().get().toFile());
        }).build()) {
            ByteSequence root = ByteSequence.from("root", StandardCharsets.UTF_8);
            c.getAuthClient().userAdd(root, ByteSequence.from(password, StandardCharsets.UTF_8)).get(10, TimeUnit.SECONDS);
            c.getAuthClient().roleAdd(root).get(10, TimeUnit.SECONDS);
            c.getAuthClient().userGrantRole(root, root).get(10, TimeUnit.SECONDS);
            c.getAuthClient().authEnable().get(10, TimeUnit.SECONDS);
        }
    }
}
