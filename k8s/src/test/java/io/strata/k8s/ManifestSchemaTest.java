package io.strata.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every overlay renders, and every object it renders is valid for the Kubernetes API. */
class ManifestSchemaTest {
    @Test
    void thereAreALocalAndAnAwsOverlayEachAlsoWithTheSecureComponent() throws Exception {
        assertThat(Overlays.all()).extracting(p -> p.getFileName().toString())
                .contains("local", "aws", "local-secure", "aws-secure");
    }

    @Test
    void everyObjectOfEveryOverlayMatchesTheKubernetesSchema() throws Exception {
        for (Path overlay : Overlays.all()) {
            List<JsonNode> objects = Overlays.render(overlay);
            assertThat(objects).as(overlay + " renders objects").isNotEmpty();
            objects.forEach(o -> {
                if (CertManagerObjects.isCertManager(o)) {
                    CertManagerObjects.validate(o);
                } else if (PrometheusObjects.isPrometheusOperator(o)) {
                    PrometheusObjects.validate(o);
                } else {
                    KubernetesSchema.validate(o);
                }
            });
        }
    }

    @Test
    void theSchemaCheckRefusesAMisspelledFieldAMissingRequiredOneAndAWrongType() throws Exception {
        JsonNode deployment = Overlays.render(Overlays.K8S.resolve("overlays/local")).stream()
                .filter(o -> o.path("kind").asText().equals("Deployment")).findFirst().orElseThrow();
        KubernetesSchema.validate(deployment);

        ObjectNode misspelled = deployment.deepCopy();
        container(misspelled).set("readinesProbe", container(misspelled).get("readinessProbe"));
        assertThatThrownBy(() -> KubernetesSchema.validate(misspelled)).hasMessageContaining("readinesProbe");

        ObjectNode unnamed = deployment.deepCopy();
        container(unnamed).remove("name");
        assertThatThrownBy(() -> KubernetesSchema.validate(unnamed)).hasMessageContaining("name");

        ObjectNode wrongType = deployment.deepCopy();
        ((ObjectNode) wrongType.get("spec")).putArray("replicas");
        assertThatThrownBy(() -> KubernetesSchema.validate(wrongType)).isInstanceOf(AssertionError.class)
                .hasMessageContaining("does not match the Kubernetes schema");

        ObjectNode notAList = deployment.deepCopy();
        ((ObjectNode) notAList.get("spec").get("template").get("spec")).putObject("containers");
        assertThatThrownBy(() -> KubernetesSchema.validate(notAList)).hasMessageContaining("containers");

        ObjectNode unknownKind = deployment.deepCopy();
        unknownKind.put("kind", "Deploymint");
        assertThatThrownBy(() -> KubernetesSchema.validate(unknownKind)).hasMessageContaining("no Kubernetes schema");
    }

    @Test
    void theCertManagerCheckRefusesAnUnknownFieldAndAValueOutsideItsEnumeration() throws Exception {
        JsonNode certificate = Overlays.render(Overlays.K8S.resolve("overlays/local-secure")).stream()
                .filter(o -> o.path("kind").asText().equals("Certificate")).findFirst().orElseThrow();
        CertManagerObjects.validate(certificate);
        ObjectNode misspelled = certificate.deepCopy();
        ((ObjectNode) misspelled.get("spec")).put("secretNmae", "x");
        assertThatThrownBy(() -> CertManagerObjects.validate(misspelled)).hasMessageContaining("secretNmae");
        ObjectNode badEncoding = certificate.deepCopy();
        ((ObjectNode) badEncoding.get("spec")).putObject("privateKey").put("encoding", "PKCS12");
        assertThatThrownBy(() -> CertManagerObjects.validate(badEncoding)).hasMessageContaining("encoding");
        ObjectNode noSecret = certificate.deepCopy();
        ((ObjectNode) noSecret.get("spec")).remove("secretName");
        assertThatThrownBy(() -> CertManagerObjects.validate(noSecret)).hasMessageContaining("secretName");
    }

    private static ObjectNode container(ObjectNode deployment) {
        return (ObjectNode) ((ArrayNode) deployment.get("spec").get("template").get("spec").get("containers")).get(0);
    }
}
