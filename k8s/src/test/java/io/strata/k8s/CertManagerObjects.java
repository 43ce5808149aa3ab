package io.strata.k8s;

import com.fasterxml.jackson.databind.JsonNode;
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

    private static final FieldChecks FIELDS = new FieldChecks("cert-manager's v1 API");

    private CertManagerObjects() {
    }

    static boolean isCertManager(JsonNode object) {
        return object.path("apiVersion").asText().startsWith("cert-manager.io/");
    }

    static void validate(JsonNode object) {
        String name = object.path("kind").asText() + " " + object.path("metadata").path("name").asText();
        FIELDS.check(name, object.path("apiVersion").asText().equals("cert-manager.io/v1"), "apiVersion cert-manager.io/v1");
        FIELDS.onlyFields(name + " metadata", object.path("metadata"), METADATA);
        FIELDS.check(name, !object.path("metadata").path("name").asText().isEmpty(), "metadata.name");
        FIELDS.onlyFields(name, object, Set.of("apiVersion", "kind", "metadata", "spec"));
        JsonNode spec = object.path("spec");
        switch (object.path("kind").asText()) {
            case "Issuer", "ClusterIssuer" -> {
                FIELDS.onlyFields(name + " spec", spec, ISSUER_TYPES);
                FIELDS.check(name, spec.size() == 1, "exactly one issuer type of " + ISSUER_TYPES);
                if (spec.has("ca")) {
                    FIELDS.onlyFields(name + " spec.ca", spec.path("ca"), Set.of("secretName", "crlDistributionPoints",
                            "ocspServers", "issuingCertificateURLs"));
                    FIELDS.check(name, spec.path("ca").path("secretName").isTextual(), "spec.ca.secretName");
                }
                if (spec.has("selfSigned")) {
                    FIELDS.onlyFields(name + " spec.selfSigned", spec.path("selfSigned"), Set.of("crlDistributionPoints"));
                }
            }
            case "Certificate" -> {
                FIELDS.onlyFields(name + " spec", spec, CERTIFICATE_SPEC);
                FIELDS.check(name, spec.path("secretName").isTextual(), "spec.secretName");
                FIELDS.onlyFields(name + " spec.issuerRef", spec.path("issuerRef"), Set.of("name", "kind", "group"));
                FIELDS.check(name, spec.path("issuerRef").path("name").isTextual(), "spec.issuerRef.name");
                JsonNode key = spec.path("privateKey");
                FIELDS.onlyFields(name + " spec.privateKey", key, PRIVATE_KEY.keySet());
                PRIVATE_KEY.forEach((field, allowed) -> {
                    if (key.has(field) && !allowed.isEmpty()) {
                        FIELDS.check(name, allowed.contains(key.path(field).asText()), "privateKey." + field + " in " + allowed);
                    }
                });
                FIELDS.check(name, !key.has("size") || key.path("size").isInt(), "privateKey.size a number");
                FIELDS.check(name, !spec.has("isCA") || spec.path("isCA").isBoolean(), "isCA a boolean");
                for (String list : List.of("dnsNames", "ipAddresses", "uris", "emailAddresses", "usages")) {
                    FIELDS.check(name, !spec.has(list) || spec.path(list).isArray(), list + " a list");
                }
                spec.path("usages").forEach(u -> FIELDS.check(name, USAGES.contains(u.asText()), "usage '" + u.asText()
                        + "' is one cert-manager knows"));
                for (String duration : List.of("duration", "renewBefore")) {
                    FIELDS.check(name, !spec.has(duration) || spec.path(duration).asText().matches("(\\d+h)?(\\d+m)?(\\d+s)?"),
                            duration + " a Go duration (h, m, s)");
                }
            }
            default -> throw new AssertionError(name + ": not a cert-manager kind this check knows");
        }
    }
}
