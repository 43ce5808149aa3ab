package io.strata.cli;

import picocli.CommandLine.Option;

/** {@code --output text|json} of the commands scripts read: a table (the default), or one JSON document on one line. */
final class OutputOption {
    enum Kind {
        text, json
    }

    @Option(names = "--output", paramLabel = "FORMAT", defaultValue = "text",
            description = "text (a table, the default) or json (one JSON document, on one line).")
    Kind output = Kind.text;

    boolean json() {
        return output == Kind.json;
    }
}
