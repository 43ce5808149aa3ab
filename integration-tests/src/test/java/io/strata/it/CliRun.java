package io.strata.it;

import io.strata.cli.StrataCli;
import io.strata.client.StrataClient;
import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** The command line as a user runs it against a node ({@code strata --server ADDRESS ...}), in this process. */
final class CliRun {
    private CliRun() {
    }

    record Outcome(int exitCode, String out, String err) {
    }

    static Outcome strata(String address, String stdin, String... args) {
        StrataCli cli = new StrataCli(addresses -> StrataClient.builder().servers(addresses).build(),
                new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        List<String> all = new ArrayList<>(List.of("--server", address));
        all.addAll(List.of(args));
        int code = cli.run(new PrintWriter(out, true), new PrintWriter(err, true), all.toArray(String[]::new));
        return new Outcome(code, out.toString(), err.toString());
    }
}
