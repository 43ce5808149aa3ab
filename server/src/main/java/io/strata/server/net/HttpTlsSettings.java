package io.strata.server.net;

import io.smallrye.config.ConfigSourceInterceptor;
import io.smallrye.config.ConfigSourceInterceptorContext;
import io.smallrye.config.ConfigValue;
import io.smallrye.config.Priorities;

/**
 * The HTTP port (health checks, metrics) speaks TLS with the node's certificate as the client ports do: given
 * {@code strata.tls.certificate} and {@code strata.tls.key} (or {@code strata.tls.key-store}), Quarkus's HTTP
 * server is told to serve them on its
 * port (and nothing in clear), reading them again as often as the node's own TLS does. Settings a user gives
 * for {@code quarkus.http.ssl.*} or {@code quarkus.http.insecure-requests} themselves win. A config interceptor, not
 * application.properties: "TLS when a certificate is given" is a condition, which properties cannot say.
 */
@jakarta.annotation.Priority(Priorities.APPLICATION + 100)
public class HttpTlsSettings implements ConfigSourceInterceptor {
    private static final String CERTIFICATE = "strata.tls.certificate";
    private static final String KEY_STORE = "strata.tls.key-store";

    @Override
    public ConfigValue getValue(ConfigSourceInterceptorContext context, String name) {
        ConfigValue given = context.proceed(name);
        // Quarkus's own defaults (8443, insecure requests enabled) come from a source below every real one.
        if (!name.startsWith("quarkus.http.") || (given != null && given.getConfigSourceOrdinal() > 100)) {
            return given;
        }
        String derived = switch (name) {
            case "quarkus.http.ssl.certificate.files" -> value(context, CERTIFICATE);
            case "quarkus.http.ssl.certificate.key-files" -> value(context, CERTIFICATE) != null
                    ? value(context, "strata.tls.key") : null;
            case "quarkus.http.ssl.certificate.key-store-file" -> value(context, KEY_STORE);
            case "quarkus.http.ssl.certificate.key-store-password" -> value(context, KEY_STORE) != null
                    ? value(context, "strata.tls.key-store-password") : null;
            case "quarkus.http.ssl.certificate.key-store-file-type" -> value(context, KEY_STORE) == null ? null
                    : keyStoreType(context);
            case "quarkus.http.ssl.certificate.key-store-alias" -> value(context, KEY_STORE) != null
                    ? value(context, "strata.tls.key-store-alias") : null;
            case "quarkus.http.insecure-requests" -> certificate(context) ? "disabled" : null;
            case "quarkus.http.ssl-port" -> certificate(context) ? value(context, "quarkus.http.port") : null;
            case "quarkus.http.test-ssl-port" -> certificate(context) ? value(context, "quarkus.http.test-port") : null;
            case "quarkus.http.ssl.certificate.reload-period" -> certificate(context)
                    ? reloadPeriod(value(context, "strata.tls.reload-interval")) : null;
            default -> null;
        };
        return derived == null ? given : ConfigValue.builder().withName(name).withValue(derived)
                .withConfigSourceName("strata.tls.* (HttpTlsSettings)").withConfigSourceOrdinal(250).build();
    }

    /** Whether the node has a certificate, in PEM files or in a key store. */
    private static boolean certificate(ConfigSourceInterceptorContext context) {
        return value(context, CERTIFICATE) != null || value(context, KEY_STORE) != null;
    }

    /** Quarkus's name for the store's type, as the node reads it. */
    private static String keyStoreType(ConfigSourceInterceptorContext context) {
        String type = value(context, "strata.tls.key-store-type");
        return (type != null ? type : KeyStoreIdentity.typeOf(value(context, KEY_STORE))).toLowerCase(java.util.Locale.ROOT);
    }

    private static String value(ConfigSourceInterceptorContext context, String name) {
        ConfigValue v = context.proceed(name);
        return v == null || v.getValue() == null || v.getValue().isBlank() ? null : v.getValue();
    }

    /** The node's reload interval, but not below the 30 s Quarkus's HTTP server takes at least. */
    private static String reloadPeriod(String interval) {
        java.time.Duration d = interval == null ? java.time.Duration.ofMinutes(1)
                : io.quarkus.runtime.configuration.DurationConverter.parseDuration(interval);
        return d.compareTo(java.time.Duration.ofSeconds(30)) < 0 ? "30s" : d.toSeconds() + "s";
    }
}
