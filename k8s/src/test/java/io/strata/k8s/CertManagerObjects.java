package io.strata.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The cert-manager objects the secure component renders (Issuer, Certificate of cert-manager.io/v1), checked
 * against the fields cert-manager's v1 API defines (https://cert-manager.io/docs/reference/api-docs/), written
 * out here for what the manifests use: the Kubernetes schemas the other objects are checked against do not
 * include custom resources. A misspelled or unknown field, a missing required one, or a value outside an
 * enumeration fails.
 */
final class CertManagerObjects {
    private static final Set<String> METADATA = Set.of("name", "namespace", "labels", "annotations");
    private static final Set<String> ISSUER_TYPES = Set.of("selfSigned", "ca", "acme", "vault", "venafi");
    private static final Set<String> CERTIFICATE_SPEC = Set.of("secretName", "issuerRef", "commonName", "dnsNames",
            "ipAddresses", "uris", "emailAddresses", "duration", "renewBefore", "renewBeforePercentage", "isCA",
            "usages", "privateKey", "secretTemplate", "subject", "keystores", "revisionHistoryLimit", "literalSubject",
            "additionalOutputFormats", "nameConstraints", "otherNames", "encodeUsagesInRequest");
    private static final Map<String, Set<String>> PRIVATE_KEY = Map.of("algorithm", Set.of("RSA", "ECDSA", "Ed25519"),
            "encoding", Set.of("PKCS1", "PKCS8"), "rotationPolicy", Set.of("Never", "Always"), "size", Set.of());
    private static final Set<String> USAGES = Set.of("signing", "digital signature", "content commitment",
            "key encipherment", "key agreement", "data encipherment", "cert sign", "crl sign", "encipher only",
            "decipher only", "any", "server auth", "client auth", "code signing", "email protection", "s/mime",
            "ipsec end system", "ipsec tunnel", "ipsec user", "timestamping", "ocsp signing", "microsoft sgc",
            "netscape sgc");

    private CertManagerObjects() {
    }

    static boolean isCertManager(JsonNode object) {
        return object.path("apiVersion").asText().startsWith("cert-manager.io/");
    }

    static void validate(JsonNode object) {
        String name = object.path("kind").asText() + " " + object.path("metadata").path("name").asText();
        check(name, object.path("apiVersion").asText().equals("cert-manager.io/v1"), "apiVersion cert-manager.io/v1");
        onlyFields(name + " metadata", object.path("metadata"), METADATA);
        check(name, !object.path("metadata").path("name").asText().isEmpty(), "metadata.name");
        onlyFields(name, object, Set.of("apiVersion", "kind", "metadata", "spec"));
        JsonNode spec = object.path("spec");
        switch (object.path("kind").asText()) {
            case "Issuer", "ClusterIssuer" -> {
                onlyFields(name + " spec", spec, ISSUER_TYPES);
                check(name, spec.size() == 1, "exactly one issuer type of " + ISSUER_TYPES);
                if (spec.has("ca")) {
                    onlyFields(name + " spec.ca", spec.path("ca"), Set.of("secretName", "crlDistributionPoints",
                            "ocspServers", "issuingCertificateURLs"));
                    check(name, spec.path("ca").path("secretName").isTextual(), "spec.ca.secretName");
                }
                if (spec.has("selfSigned")) {
                    onlyFields(name + " spec.selfSigned", spec.path("selfSigned"), Set.of("crlDistributionPoints"));
                }
            }
            case "Certificate" -> {
                onlyFields(name + " spec", spec, CERTIFICATE_SPEC);
                check(name, spec.path("secretName").isTextual(), "spec.secretName");
                onlyFields(name + " spec.issuerRef", spec.path("issuerRef"), Set.of("name", "kind", "group"));
                check(name, spec.path("issuerRef").path("name").isTextual(), "spec.issuerRef.name");
                JsonNode key = spec.path("privateKey");
                onlyFields(name + " spec.privateKey", key, PRIVATE_KEY.keySet());
                PRIVATE_KEY.forEach((field, allowed) -> {
                    if (key.has(field) && !allowed.isEmpty()) {
                        check(name, allowed.contains(key.path(field).asText()), "privateKey." + field + " in " + allowed);
                    }
                });
                check(name, !key.has("size") || key.path("size").isInt(), "privateKey.size a number");
                check(name, !spec.has("isCA") || spec.path("isCA").isBoolean(), "isCA a boolean");
                for (String list : List.of("dnsNames", "ipAddresses", "uris", "emailAddresses", "usages")) {
                    check(name, !spec.has(list) || spec.path(list).isArray(), list + " a list");
                }
                spec.path("usages").forEach(u -> check(name, USAGES.contains(u.asText()), "usage '" + u.asText()
                        + "' is one cert-manager knows"));
                for (String duration : List.of("duration", "renewBefore")) {
                    check(name, !spec.has(duration) || spec.path(duration).asText().matches("(\\d+h)?(\\d+m)?(\\d+s)?"),
                            duration + " a Go duration (h, m, s)");
                }
            }
            default -> throw new AssertionError(name + ": not a cert-manager kind this check knows");
        }
    }

    private static void onlyFields(String where, JsonNode node, Set<String> allowed) {
        if (node.isMissingNode() || node.isNull()) {
            return;
        }
        check(where, node.isObject(), "an object");
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            check(where, allowed.contains(field), "no field '" + field + "' (known: " + allowed + ")");
        }
    }

    private static void check(String where, boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(where + " does not match cert-manager's v1 API: " + what);
        }
    }
}
