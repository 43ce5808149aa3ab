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
    void thereAreALocalAndAnAwsOverlay() throws Exception {
        assertThat(Overlays.all()).extracting(p -> p.getFileName().toString()).contains("local", "aws");
    }

    @Test
    void everyObjectOfEveryOverlayMatchesTheKubernetesSchema() throws Exception {
        for (Path overlay : Overlays.all()) {
            List<JsonNode> objects = Overlays.render(overlay);
            assertThat(objects).as(overlay + " renders objects").isNotEmpty();
            objects.forEach(KubernetesSchema::validate);
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

    private static ObjectNode container(ObjectNode deployment) {
        return (ObjectNode) ((ArrayNode) deployment.get("spec").get("template").get("spec").get("containers")).get(0);
    }
}
