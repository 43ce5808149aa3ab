package io.strata.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** The overlays under {@code k8s/overlays}, rendered with {@code kubectl kustomize} as a user would apply them. */
final class Overlays {
    static final Path HOME = Path.of(System.getProperty("strata.home", "..")).toAbsolutePath().normalize();
    static final Path K8S = HOME.resolve("k8s");

    private Overlays() {
    }

    /** Every directory under k8s/overlays. */
    static List<Path> all() throws IOException {
        try (Stream<Path> dirs = Files.list(K8S.resolve("overlays"))) {
            return dirs.filter(Files::isDirectory).sorted().toList();
        }
    }

    /** The objects {@code kubectl kustomize dir} renders, in order. */
    static List<JsonNode> render(Path dir) throws IOException, InterruptedException {
        Path out = Files.createTempFile("kustomize-", ".yaml");
        try {
            Process p = new ProcessBuilder(kubectl(), "kustomize", dir.toString())
                    .redirectOutput(out.toFile()).redirectErrorStream(false).start();
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("kubectl kustomize " + dir + " did not finish within 120 s");
            }
            if (p.exitValue() != 0) {
                throw new AssertionError("kubectl kustomize " + dir + " failed (exit " + p.exitValue() + "):\n" + err);
            }
            List<JsonNode> objects = new ArrayList<>();
            try (MappingIterator<JsonNode> docs = new YAMLMapper().readerFor(JsonNode.class).readValues(out.toFile())) {
                while (docs.hasNext()) {
                    JsonNode doc = docs.next();
                    if (doc != null && !doc.isNull() && !doc.isEmpty()) {
                        objects.add(doc);
                    }
                }
            }
            return objects;
        } finally {
            Files.deleteIfExists(out);
        }
    }

    /** kubectl from {@code KUBECTL} or the PATH; a clear failure where it is missing, never a skip. */
    private static String kubectl() {
        String configured = System.getenv("KUBECTL");
        if (configured != null && !configured.isBlank()) {
            return configured;
        }
        Optional<Path> found = Stream.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
                .map(d -> Path.of(d.isEmpty() ? "." : d, "kubectl")).filter(Files::isExecutable).findFirst();
        return found.map(Path::toString).orElseThrow(() -> new AssertionError("kubectl is not installed: these "
                + "tests render every overlay with 'kubectl kustomize' (kubectl 1.14 or later; see "
                + "https://kubernetes.io/docs/tasks/tools/), or set KUBECTL to its path"));
    }
}
