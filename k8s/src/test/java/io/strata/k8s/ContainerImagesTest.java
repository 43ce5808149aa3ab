package io.strata.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The images cannot be built here (no base image can be pulled), so what can be checked without them is:
 * every path a Dockerfile copies exists in the build, its ports are the server's, it runs unprivileged on a
 * JRE with the heap sized to the container, and the Jib configuration of the Maven build says the same.
 */
class ContainerImagesTest {
    private static final Path SERVER = Overlays.HOME.resolve("server");
    private static final Path CLI = Overlays.HOME.resolve("cli");

    @Test
    void theServerDockerfileCopiesWhatTheBuildProducesAndOpensTheServersPorts() throws Exception {
        Dockerfile file = Dockerfile.read(SERVER.resolve("src/main/docker/Dockerfile"));

        for (String source : file.copySources()) {
            assertThat(SERVER.resolve(source)).as("COPY " + source + " (context: server/)").exists();
        }
        assertThat(file.copySources()).contains("target/quarkus-app/quarkus-run.jar");
        assertThat(file.exposed()).isEqualTo(serverPorts());
        assertThat(file.env()).containsEntry("QUARKUS_HTTP_HOST", "0.0.0.0");
        assertThat(file.env().get("JAVA_OPTS")).contains("-XX:MaxRAMPercentage=");
        assertThat(file.entrypoint()).contains("exec java").contains("/opt/strata/quarkus-run.jar");
        assertUnprivilegedOnAJre(file);
        // The data directory it names exists in the image, owned by the user; k8s/ mounts a volume there.
        assertThat(file.run()).contains("mkdir -p").contains(file.env().get("STRATA_DATA_DIR"));
        assertThat(baseConfigMap().path("data").path("STRATA_DATA_DIR").asText())
                .isEqualTo(file.env().get("STRATA_DATA_DIR"));
    }

    @Test
    void thePackagedServerCarriesTheStsModuleThatWebIdentityCredentialsNeed() throws Exception {
        // Without it the AWS SDK's default chain skips web identity: no IAM roles for service accounts.
        try (var libs = Files.list(SERVER.resolve("target/quarkus-app/lib/main"))) {
            assertThat(libs.map(p -> p.getFileName().toString()))
                    .anyMatch(name -> name.startsWith("software.amazon.awssdk.sts-"));
        }
    }

    @Test
    void theJibBuildOfTheServerMakesTheImageOfItsDockerfile() throws Exception {
        Dockerfile file = Dockerfile.read(SERVER.resolve("src/main/docker/Dockerfile"));
        JibImage jib = JibImage.of(SERVER.resolve("pom.xml"));

        assertThat(new TreeSet<>(jib.ports())).isEqualTo(file.exposed());
        assertThat(jib.user()).isEqualTo(file.user());
        assertThat(jib.from()).isEqualTo(file.from());
        assertThat(jib.environment()).isEqualTo(file.env());
        assertThat(jib.entrypoint()).isEqualTo("sh -c exec java $JAVA_OPTS -jar /opt/strata/quarkus-run.jar");
        assertThat(file.entrypoint()).contains(jib.entrypoint().substring("sh -c ".length()));
        // Jib's layers belong to root: the data and cache directories come writable from src/main/jib.
        assertThat(SERVER.resolve("src/main/jib" + file.env().get("STRATA_DATA_DIR"))).isDirectory();
    }

    @Test
    void theJibBuildOfTheCliMakesTheImageOfItsDockerfile() throws Exception {
        Dockerfile file = Dockerfile.read(CLI.resolve("src/main/docker/Dockerfile"));
        JibImage jib = JibImage.of(CLI.resolve("pom.xml"));

        assertThat(jib.from()).isEqualTo(file.from());
        assertThat(jib.user()).isEqualTo(file.user());
        assertThat(jib.environment()).containsEntry("STRATA_SERVER", file.env().get("STRATA_SERVER"));
        assertThat(String.join(" ", jib.jvmFlags())).isEqualTo(file.env().get("JAVA_OPTS"));
        assertThat(jib.repository()).isEqualTo("strata/strata-cli");
    }

    @Test
    void theCliDockerfileCopiesTheCliJarAndItsLibrariesAndReachesTheClientService() throws Exception {
        Dockerfile file = Dockerfile.read(CLI.resolve("src/main/docker/Dockerfile"));

        for (String source : file.copySources()) {
            assertThat(CLI.resolve(source)).as("COPY " + source + " (context: cli/)").exists();
        }
        try (JarFile jar = new JarFile(CLI.resolve("target/strata-cli.jar").toFile())) {
            String classPath = jar.getManifest().getMainAttributes().getValue("Class-Path");
            for (String entry : classPath.split(" ")) {
                assertThat(CLI.resolve("target").resolve(entry)).as("the jar's Class-Path entry " + entry).exists();
            }
            assertThat(jar.getManifest().getMainAttributes().getValue("Main-Class")).isEqualTo("io.strata.cli.StrataCli");
        }
        String client = file.env().get("STRATA_SERVER");
        JsonNode service = Overlays.render(Overlays.K8S.resolve("base")).stream()
                .filter(o -> o.path("kind").asText().equals("Service")
                        && o.path("metadata").path("name").asText().equals(client.split(":")[0]))
                .findFirst().orElseThrow(() -> new AssertionError("no Service " + client + " in k8s/base"));
        assertThat(service.path("spec").path("ports").get(0).path("port").asInt())
                .isEqualTo(Integer.parseInt(client.split(":")[1]));
        assertUnprivilegedOnAJre(file);
    }

    private static void assertUnprivilegedOnAJre(Dockerfile file) {
        assertThat(file.from()).as("a JRE base image, no JDK or build tools").contains("jre");
        assertThat(file.user()).as("a numeric, unprivileged user (runAsNonRoot can check it)").matches("[1-9][0-9]*");
    }

    private static Set<Integer> serverPorts() {
        return new TreeSet<>(List.of(Integer.parseInt(ServerSettings.application("quarkus.grpc.server.port")),
                Integer.parseInt(ServerSettings.application("quarkus.http.port")),
                Integer.parseInt(ServerSettings.strataDefault("strata.internal.port"))));
    }

    private static JsonNode baseConfigMap() throws Exception {
        return Overlays.render(Overlays.K8S.resolve("base")).stream()
                .filter(o -> o.path("kind").asText().equals("ConfigMap")).findFirst().orElseThrow();
    }

    /** The few instructions these Dockerfiles use, continuation lines joined. */
    private record Dockerfile(List<String[]> instructions) {
        static Dockerfile read(Path path) throws IOException {
            List<String[]> instructions = new ArrayList<>();
            StringBuilder current = new StringBuilder();
            for (String line : Files.readAllLines(path)) {
                String stripped = line.strip();
                if (stripped.startsWith("#") || stripped.isEmpty()) {
                    continue;
                }
                if (stripped.endsWith("\\")) {
                    current.append(stripped, 0, stripped.length() - 1).append(' ');
                    continue;
                }
                current.append(stripped);
                String[] parts = current.toString().split("\\s+", 2);
                instructions.add(new String[] {parts[0].toUpperCase(), parts.length > 1 ? parts[1] : ""});
                current.setLength(0);
            }
            return new Dockerfile(instructions);
        }

        private List<String> all(String instruction) {
            return instructions.stream().filter(i -> i[0].equals(instruction)).map(i -> i[1]).toList();
        }

        String from() {
            return all("FROM").get(0);
        }

        String user() {
            List<String> users = all("USER");
            return users.isEmpty() ? "root" : users.get(users.size() - 1);
        }

        String run() {
            return String.join("\n", all("RUN"));
        }

        String entrypoint() {
            return String.join("\n", all("ENTRYPOINT"));
        }

        List<String> copySources() {
            List<String> sources = new ArrayList<>();
            for (String copy : all("COPY")) {
                List<String> words = new ArrayList<>(Arrays.asList(copy.split("\\s+")));
                words.removeIf(w -> w.startsWith("--"));
                sources.addAll(words.subList(0, words.size() - 1));
            }
            return sources;
        }

        Set<Integer> exposed() {
            Set<Integer> ports = new TreeSet<>();
            all("EXPOSE").forEach(e -> Arrays.stream(e.split("\\s+")).forEach(p ->
                    ports.add(Integer.parseInt(p.replace("/tcp", "")))));
            return ports;
        }

        Map<String, String> env() {
            Map<String, String> env = new LinkedHashMap<>();
            Matcher m = Pattern.compile("([A-Z_][A-Z0-9_]*)=(\"[^\"]*\"|\\S+)").matcher(String.join(" ", all("ENV")));
            while (m.find()) {
                env.put(m.group(1), m.group(2).replace("\"", ""));
            }
            return env;
        }
    }
}
