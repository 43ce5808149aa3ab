package io.strata.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * The Prometheus Operator's PrometheusRule and PodMonitor (monitoring.coreos.com/v1) the monitoring component renders, checked
 * against the fields the operator's API defines (https://prometheus-operator.dev/docs/api-reference/api/), written
 * out here as the Kubernetes schemas do not include custom resources: an unknown or misspelled field, a rule with
 * neither or both of alert and record, an empty expression, unbalanced brackets, a duration Prometheus would not
 * read, or labels and annotations that are not strings fail.
 */
final class PrometheusObjects {
    private static final Set<String> METADATA = Set.of("name", "namespace", "labels", "annotations");
    private static final Set<String> GROUP = Set.of("name", "interval", "rules", "limit", "partial_response_strategy",
            "query_offset", "labels");
    private static final Set<String> RULE = Set.of("alert", "record", "expr", "for", "keep_firing_for", "labels",
            "annotations");
    private static final String DURATION = "(\\d+(ms|s|m|h|d|w|y))+";
    private static final Set<String> POD_MONITOR = Set.of("selector", "podMetricsEndpoints", "namespaceSelector",
            "jobLabel", "podTargetLabels", "sampleLimit", "targetLimit", "attachMetadata");
    private static final Set<String> ENDPOINT = Set.of("port", "portNumber", "path", "scheme", "interval",
            "scrapeTimeout", "tlsConfig", "honorLabels", "honorTimestamps", "relabelings", "metricRelabelings",
            "params", "basicAuth", "bearerTokenSecret", "authorization", "followRedirects", "enableHttp2");

    private static final FieldChecks FIELDS = new FieldChecks("the Prometheus Operator's v1 API");

    private PrometheusObjects() {
    }

    static boolean isPrometheusOperator(JsonNode object) {
        return object.path("apiVersion").asText().startsWith("monitoring.coreos.com/");
    }

    static void validate(JsonNode object) {
        String name = object.path("kind").asText() + " " + object.path("metadata").path("name").asText();
        FIELDS.check(name, object.path("apiVersion").asText().equals("monitoring.coreos.com/v1"),
                "apiVersion monitoring.coreos.com/v1");
        FIELDS.onlyFields(name, object, Set.of("apiVersion", "kind", "metadata", "spec"));
        FIELDS.onlyFields(name + " metadata", object.path("metadata"), METADATA);
        FIELDS.check(name, !object.path("metadata").path("name").asText().isEmpty(), "metadata.name");
        switch (object.path("kind").asText()) {
            case "PrometheusRule" -> rules(name, object);
            case "PodMonitor" -> podMonitor(name, object.path("spec"));
            default -> throw new AssertionError(name + ": not a kind of the Prometheus Operator this check knows");
        }
    }

    private static void podMonitor(String name, JsonNode spec) {
        FIELDS.onlyFields(name + " spec", spec, POD_MONITOR);
        FIELDS.check(name, spec.path("selector").isObject(), "a selector");
        FIELDS.onlyFields(name + " selector", spec.path("selector"), Set.of("matchLabels", "matchExpressions"));
        FIELDS.check(name, spec.path("podMetricsEndpoints").isArray() && !spec.path("podMetricsEndpoints").isEmpty(),
                "podMetricsEndpoints");
        for (JsonNode e : spec.path("podMetricsEndpoints")) {
            FIELDS.onlyFields(name + " endpoint", e, ENDPOINT);
            FIELDS.check(name, !e.has("scheme") || Set.of("http", "https").contains(e.path("scheme").asText()),
                    "scheme http or https");
            FIELDS.check(name, !e.has("interval") || e.path("interval").asText().matches(DURATION), "interval a duration");
            FIELDS.onlyFields(name + " tlsConfig", e.path("tlsConfig"), Set.of("ca", "cert", "keySecret", "serverName",
                    "insecureSkipVerify"));
            FIELDS.onlyFields(name + " tlsConfig.ca", e.path("tlsConfig").path("ca"), Set.of("secret", "configMap"));
            FIELDS.onlyFields(name + " tlsConfig.ca.secret", e.path("tlsConfig").path("ca").path("secret"),
                    Set.of("name", "key", "optional"));
        }
    }

    private static void rules(String name, JsonNode object) {
        FIELDS.onlyFields(name + " spec", object.path("spec"), Set.of("groups"));
        JsonNode groups = object.path("spec").path("groups");
        FIELDS.check(name, groups.isArray() && !groups.isEmpty(), "spec.groups a list of groups");
        for (JsonNode group : groups) {
            String g = name + " group " + group.path("name").asText();
            FIELDS.onlyFields(g, group, GROUP);
            FIELDS.check(g, group.path("name").isTextual() && !group.path("name").asText().isEmpty(), "a name");
            FIELDS.check(g, group.path("rules").isArray() && !group.path("rules").isEmpty(), "rules");
            for (JsonNode rule : group.path("rules")) {
                String r = g + " rule " + rule.path("alert").asText(rule.path("record").asText());
                FIELDS.onlyFields(r, rule, RULE);
                FIELDS.check(r, rule.has("alert") != rule.has("record"), "exactly one of alert and record");
                String expr = rule.path("expr").asText();
                FIELDS.check(r, rule.path("expr").isTextual() && !expr.isBlank(), "an expr");
                FIELDS.check(r, balanced(expr), "balanced brackets in its expr");
                for (String duration : new String[] {"for", "keep_firing_for"}) {
                    FIELDS.check(r, !rule.has(duration) || rule.path(duration).asText().matches(DURATION),
                            duration + " a Prometheus duration");
                }
                for (String map : new String[] {"labels", "annotations"}) {
                    for (Iterator<Map.Entry<String, JsonNode>> it = rule.path(map).fields(); it.hasNext(); ) {
                        var e = it.next();
                        FIELDS.check(r, e.getValue().isTextual(), map + "." + e.getKey() + " a string");
                    }
                }
            }
        }
    }

    /** Whether (), [] and {} close in order, outside quoted strings. */
    static boolean balanced(String expr) {
        StringBuilder open = new StringBuilder();
        char quote = 0;
        for (char c : expr.toCharArray()) {
            if (quote != 0) {
                quote = c == quote ? 0 : quote;
            } else if (c == '"' || c == '\'' || c == '`') {
                quote = c;
            } else if ("([{".indexOf(c) >= 0) {
                open.append(c);
            } else if (")]}".indexOf(c) >= 0) {
                if (open.isEmpty() || "([{".indexOf(open.charAt(open.length() - 1)) != ")]}".indexOf(c)) {
                    return false;
                }
                open.setLength(open.length() - 1);
            }
        }
        return open.isEmpty() && quote == 0;
    }
}
