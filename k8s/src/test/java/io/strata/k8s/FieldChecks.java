package io.strata.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.Set;

/** Checks of a custom resource against the fields its API defines, failing with the API's name in the message. */
final class FieldChecks {
    private final String api;

    FieldChecks(String api) {
        this.api = api;
    }

    /** Every field of {@code node} (an object, when present) is one of {@code allowed}. */
    void onlyFields(String where, JsonNode node, Set<String> allowed) {
        if (node.isMissingNode() || node.isNull()) {
            return;
        }
        check(where, node.isObject(), "an object");
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            check(where, allowed.contains(field), "no field '" + field + "' (known: " + allowed + ")");
        }
    }

    void check(String where, boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(where + " does not match " + api + ": " + what);
        }
    }
}
