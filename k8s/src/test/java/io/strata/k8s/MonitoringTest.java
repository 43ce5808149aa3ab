package io.strata.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The dashboard and the alerts render in the local and the AWS overlays (and the secure ones built on them): a
 * PrometheusRule the operator's API takes with an alert for each thing an operator must hear of, and a Grafana
 * dashboard whose every panel queries something. That every metric they name exists is checked against a live
 * node (integration-tests, ConsoleTest).
 */
class MonitoringTest {
    @Test
    void bothOverlaysRenderTheAlertsAndTheDashboard() throws Exception {
        for (String overlay : List.of("local", "aws", "local-secure", "aws-secure")) {
            List<JsonNode> objects = Overlays.render(Overlays.K8S.resolve("overlays/" + overlay));
            JsonNode rules = objects.stream().filter(o -> o.path("kind").asText().equals("PrometheusRule"))
                    .findFirst().orElseThrow(() -> new AssertionError(overlay + " renders no PrometheusRule"));
            PrometheusObjects.validate(rules);
            List<String> alerts = new ArrayList<>();
            rules.path("spec").path("groups").forEach(g -> g.path("rules").forEach(r -> alerts.add(r.path("alert").asText())));
            assertThat(alerts).as(overlay).contains("StrataConsumerGroupLagGrowing", "StrataCompactionBehind",
                    "StrataMetadataStoreNearQuota", "StrataObjectStoreErrors", "StrataNodeNotReady");

            JsonNode scrape = objects.stream().filter(o -> o.path("kind").asText().equals("PodMonitor")).findFirst()
                    .orElseThrow(() -> new AssertionError(overlay + " renders no PodMonitor"));
            PrometheusObjects.validate(scrape);
            assertThat(scrape.path("spec").path("podMetricsEndpoints").get(0).path("scheme").asText("http"))
                    .as(overlay + ": the HTTP port speaks TLS in the secure overlays")
                    .isEqualTo(overlay.endsWith("-secure") ? "https" : "http");
            JsonNode map = objects.stream().filter(o -> o.path("kind").asText().equals("ConfigMap")
                    && o.path("metadata").path("name").asText().equals("strata-grafana-dashboard")).findFirst()
                    .orElseThrow(() -> new AssertionError(overlay + " renders no dashboard"));
            assertThat(map.path("metadata").path("labels").path("grafana_dashboard").asText()).isEqualTo("1");
            JsonNode dashboard = new ObjectMapper().readTree(map.path("data").path("strata-dashboard.json").asText());
            assertThat(dashboard.path("panels").size()).as(overlay).isGreaterThanOrEqualTo(12);
            dashboard.path("panels").forEach(p -> {
                assertThat(p.path("targets").size()).as(p.path("title").asText()).isPositive();
                p.path("targets").forEach(t -> assertThat(PrometheusObjects.balanced(t.path("expr").asText()))
                        .as(t.path("expr").asText()).isTrue());
            });
        }
    }

    @Test
    void theRuleCheckRefusesAMisspelledFieldAnEmptyExpressionAndABadDuration() throws Exception {
        JsonNode rules = Overlays.render(Overlays.K8S.resolve("overlays/local")).stream()
                .filter(o -> o.path("kind").asText().equals("PrometheusRule")).findFirst().orElseThrow();
        ObjectNode misspelled = rules.deepCopy();
        ((ObjectNode) misspelled.path("spec").path("groups").get(0).path("rules").get(0)).set("exp",
                misspelled.path("spec").path("groups").get(0).path("rules").get(0).path("expr"));
        assertThatThrownBy(() -> PrometheusObjects.validate(misspelled)).hasMessageContaining("exp");
        ObjectNode empty = rules.deepCopy();
        ((ObjectNode) empty.path("spec").path("groups").get(0).path("rules").get(0)).put("expr", " ");
        assertThatThrownBy(() -> PrometheusObjects.validate(empty)).hasMessageContaining("expr");
        ObjectNode badFor = rules.deepCopy();
        ((ObjectNode) badFor.path("spec").path("groups").get(0).path("rules").get(0)).put("for", "10 minutes");
        assertThatThrownBy(() -> PrometheusObjects.validate(badFor)).hasMessageContaining("for");
        ObjectNode unbalanced = rules.deepCopy();
        ((ObjectNode) unbalanced.path("spec").path("groups").get(0).path("rules").get(0)).put("expr", "sum(rate(x[5m])");
        assertThatThrownBy(() -> PrometheusObjects.validate(unbalanced)).hasMessageContaining("brackets");
    }
}
