package io.strata.cli;

import io.grpc.Status;
import io.strata.client.ServerAddress;
import io.strata.client.StrataException;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** Turns what a command failed with into the one line the user sees on stderr. */
final class CliErrors {
    private CliErrors() {
    }

    /**
     * A TLS mismatch said in words: a node that speaks TLS closes a plaintext connection without a word; a
     * plaintext node's bytes are no TLS record; a certificate of another CA fails the path check.
     */
    static String explained(String description) {
        if (description.contains("Network closed for unknown reason")) {
            return description + " (does the node speak TLS? give --tls-ca FILE or STRATA_TLS_CA)";
        }
        if (description.contains("not an SSL/TLS record")) {
            return "the node does not speak TLS (drop --tls-ca and STRATA_TLS_CA, or turn TLS on at the node; "
                    + "credentials go over TLS only, unless --plaintext)";
        }
        if (description.contains("unable to find valid certification path")) {
            return "the node's TLS certificate is not signed by the CA given (--tls-ca or STRATA_TLS_CA)";
        }
        return description;
    }

    /** {@code servers}: the nodes the command line was pointed at, the first tried first (null: none yet). */
    static String oneLine(Throwable failure, List<ServerAddress> servers) {
        Throwable t = failure;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof io.grpc.StatusRuntimeException || t instanceof io.grpc.StatusException) {
            t = StrataException.from(t);
        }
        String line;
        if (t instanceof StrataException e) {
            if (e.unreachable()) {
                // Every node the client knew was tried: name them all (or the one it was given).
                List<String> nodes = e.nodes().isEmpty() && servers != null && !servers.isEmpty()
                        ? List.of(servers.get(0).toString()) : e.nodes();
                line = "cannot reach Strata at " + String.join(", ", nodes) + ": " + explained(e.description());
            } else if (e.code() == Status.Code.DEADLINE_EXCEEDED && e.description().startsWith("deadline exceeded")) {
                // The client's own deadline: its description lists transport internals nobody needs.
                line = "Strata at " + (servers == null || servers.isEmpty() ? "?" : servers.get(0))
                        + " did not answer in time";
            } else {
                line = explained(e.description());
            }

        } else {
            line = t.getMessage() == null || t.getMessage().isBlank() ? t.getClass().getSimpleName() : t.getMessage();
        }
        // One line, whatever the description holds.
        return line.replaceAll("\\s*[\\r\\n]+\\s*", " ").strip();
    }
}
