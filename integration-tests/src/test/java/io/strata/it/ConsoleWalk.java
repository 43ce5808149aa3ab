package io.strata.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs src/test/console/console-check.mjs: headless Chromium (Debian's) driven by puppeteer-core through the web
 * console. Fails clearly when its tools are missing (scripts/ensure-console-browser installs them), and never
 * waits for it longer than its deadline.
 */
final class ConsoleWalk {
    private static final Path CHECK = Path.of("src/test/console");

    private ConsoleWalk() {
    }

    record Outcome(int exitCode, String output) {
    }

    static Outcome run(Map<String, String> env) throws Exception {
        assertThat(CHECK.resolve("node_modules/puppeteer-core")).as("puppeteer-core is not installed: run "
                + "scripts/ensure-console-browser (./scripts/test does)").exists();
        assertThat(Path.of("/usr/bin/chromium")).as("Debian's chromium is not installed: run "
                + "scripts/ensure-console-browser (./scripts/test does)").exists();
        ProcessBuilder pb = new ProcessBuilder("node", "console-check.mjs").directory(CHECK.toFile())
                .redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "(output not read: " + e + ")";
            }
        });
        if (!p.waitFor(4, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            return new Outcome(-1, "the walk did not end in 4 minutes: " + out.getNow(""));
        }
        return new Outcome(p.exitValue(), out.get(10, TimeUnit.SECONDS));
    }
}
