package io.strata.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.gson.JsonParser;
import java.lang.reflect.InvocationTargetException;

/**
 * Checks an object against the Kubernetes API's OpenAPI schema, through the models the Kubernetes Java
 * client generates from it: each model's {@code validateJsonElement} refuses a field the schema does not
 * define, a required field that is missing and a value of the wrong type, down to the last nested object.
 */
final class KubernetesSchema {
    private static final String MODELS = "io.kubernetes.client.openapi.models.";

    private KubernetesSchema() {
    }

    /** Throws an AssertionError naming the object and the schema's complaint, if it has one. */
    static void validate(JsonNode object) {
        String apiVersion = object.path("apiVersion").asText();
        String kind = object.path("kind").asText();
        String name = kind + " " + object.path("metadata").path("name").asText();
        Class<?> model = model(apiVersion, kind, name);
        try {
            // The schema's fields, required fields and structure; then the typed model, which refuses a value
            // of the wrong type (a list where a number belongs, say) that the first check lets through.
            model.getMethod("validateJsonElement", com.google.gson.JsonElement.class)
                    .invoke(null, JsonParser.parseString(object.toString()));
            model.getMethod("fromJson", String.class).invoke(null, object.toString());
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException(e);
        } catch (InvocationTargetException e) {
            throw new AssertionError(name + " (" + apiVersion + ") does not match the Kubernetes schema: "
                    + e.getCause().getMessage(), e.getCause());
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The model of apps/v1 Deployment is V1Deployment, of autoscaling/v2 HorizontalPodAutoscaler V2Horiz... */
    private static Class<?> model(String apiVersion, String kind, String name) {
        String version = apiVersion.substring(apiVersion.lastIndexOf('/') + 1);
        String model = MODELS + Character.toUpperCase(version.charAt(0)) + version.substring(1) + kind;
        try {
            return Class.forName(model);
        } catch (ClassNotFoundException e) {
            throw new AssertionError(name + ": no Kubernetes schema for " + apiVersion + " " + kind
                    + " (a kind or version the API does not serve?)", e);
        }
    }
}
