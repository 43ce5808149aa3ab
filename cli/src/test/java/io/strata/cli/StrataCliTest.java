package io.strata.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.client.FakeStrata;
import io.strata.client.ServerAddress;
import io.strata.client.StrataClient;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class StrataCliTest {
    private final FakeStrata fake = new FakeStrata();
    private final List<ServerAddress> addressesUsed = new ArrayList<>();

    record Outcome(int exitCode, String out, String err) {}

    @AfterEach
    void stop() throws InterruptedException {
        fake.close();
    }

    @Test
    void topicsCanBeCreatedListedDescribedAndDeleted() {
        assertThat(run("topics", "create", "orders", "--partitions", "2", "--retention-ms", "60000"))
                .isEqualTo(new Outcome(0, "created topic orders with 2 partitions\n", ""));
        fake.append("orders", 1, "a", "b");
        assertThat(run("topics", "list").out()).isEqualTo("orders\n");

        Outcome described = run("topics", "describe", "orders");
        assertThat(described.exitCode()).isZero();
        assertThat(described.out()).contains("topic orders", "partitions 2")
                .contains("stored bytes not measured yet")
                .containsPattern("(?m)^0 +0 +0 +0$").containsPattern("(?m)^1 +0 +2 +0$");

        assertThat(run("topics", "delete", "orders").exitCode()).isZero();
        assertThat(run("topics", "list").out()).isEmpty();
    }

    @Test
    void consumeFormatJsonPrintsOneParsableObjectPerRecordWithKeyOffsetPartitionTimestampAndHeaders()
            throws Exception {
        fake.createTopic("orders", 1);
        Outcome produced = runWithInput("k1\t{\"id\": 1, \"note\": \"tab\\there\"}\nk2\tplain \"quoted\"\n", "produce", "orders",
                "--partition", "0", "--key-separator", "\t", "--header", "region=eu", "--header", "level=3");
        assertThat(produced.exitCode()).as(produced.err()).isZero();

        Outcome json = run("consume", "orders", "--from-beginning", "--max-messages", "2", "--format", "json");
        List<String> lines = json.out().lines().toList();
        assertThat(lines).hasSize(2);
        com.fasterxml.jackson.databind.ObjectMapper parser = new com.fasterxml.jackson.databind.ObjectMapper();
        com.fasterxml.jackson.databind.JsonNode first = parser.readTree(lines.get(0));
        assertThat(first.get("topic").asText()).isEqualTo("orders");
        assertThat(first.get("partition").asInt()).isZero();
        assertThat(first.get("offset").asLong()).isZero();
        assertThat(first.get("timestamp").asLong()).isPositive();
        assertThat(first.get("key").asText()).isEqualTo("k1");
        assertThat(first.get("value").asText()).isEqualTo("{\"id\": 1, \"note\": \"tab\\there\"}");
        assertThat(first.get("headers").get(0).get("key").asText()).isEqualTo("region");
        assertThat(first.get("headers").get(1).get("value").asText()).isEqualTo("3");
        com.fasterxml.jackson.databind.JsonNode second = parser.readTree(lines.get(1));
        assertThat(second.get("offset").asLong()).isEqualTo(1);
        assertThat(second.get("value").asText()).isEqualTo("plain \"quoted\"");

        assertThat(run("consume", "orders", "--from-beginning", "--max-messages", "1", "--print-partition",
                "--print-offset", "--print-key", "--print-headers").out())
                .isEqualTo("0\t0\tk1\tregion=eu,level=3\t{\"id\": 1, \"note\": \"tab\\there\"}\n");
        assertThat(runWithInput("no separator here\n", "produce", "orders", "--key-separator", ":").exitCode())
                .as("a line without the separator").isNotZero();

        com.fasterxml.jackson.databind.JsonNode topics = parser.readTree(run("topics", "list", "--output", "json").out());
        assertThat(topics.get(0).get("name").asText()).isEqualTo("orders");
        com.fasterxml.jackson.databind.JsonNode described = parser.readTree(run("topics", "describe", "orders",
                "--output", "json").out());
        assertThat(described.get("partition_offsets").get(0).get("end_offset").asLong()).isEqualTo(2);
    }

    @Test
    void jsonEscapesWhatRfc8259AsksAndPrintsBytesThatAreNotUtf8InBase64() throws Exception {
        com.fasterxml.jackson.databind.ObjectMapper parser = new com.fasterxml.jackson.databind.ObjectMapper();
        String tricky = "q\"b\\n\nt\tc\u0001u\u2028é";
        assertThat(parser.readTree(Json.of(java.util.Map.of("s", tricky))).get("s").asText()).isEqualTo(tricky);
        String line = new RecordFormat(false, false, false, false, false, true).line("t", 2, 9, 5, null,
                new byte[] {(byte) 0xff, 0, 1}, List.of(new io.strata.client.RecordHeader("h", new byte[] {(byte) 0xc3})),
                0);
        com.fasterxml.jackson.databind.JsonNode node = parser.readTree(line);
        assertThat(node.get("key").isNull()).isTrue();
        assertThat(node.get("value_base64").asText()).isEqualTo("/wAB");
        assertThat(node.get("headers").get(0).get("value_base64").asText()).isEqualTo("ww==");
    }

    @Test
    void producedLinesComeBackFromConsumeInOrder() {
        fake.createTopic("orders", 1);

        Outcome produced = runWithInput("one\ntwo\n\nthree\n", "produce", "orders");
        assertThat(produced).isEqualTo(new Outcome(0, "", "produced 4 records to orders\n"));

        assertThat(run("consume", "orders", "--from-beginning", "--max-messages", "4").out())
                .isEqualTo("one\ntwo\n\nthree\n");
    }

    @Test
    void produceWithAKeySendsEveryLineToTheKeysPartition() {
        fake.createTopic("keyed", 5);

        assertThat(runWithInput("x\ny\n", "produce", "keyed", "--key", "foobar").exitCode()).isZero();

        assertThat(fake.values("keyed", 1)).containsExactly("x", "y"); // murmur2("foobar") mod 5 = 1
    }

    @Test
    void produceToAPartitionKeepsNonAsciiTextIntact() {
        fake.createTopic("orders", 2);

        assertThat(runWithInput("grüße ✓\r\nnext", "produce", "orders", "--partition", "1").exitCode()).isZero();

        assertThat(fake.values("orders", 1)).containsExactly("grüße ✓", "next");
    }

    @Test
    void consumeStopsWhenNothingNewCameForTheTimeout() {
        fake.createTopic("orders", 2);
        fake.append("orders", 0, "a");
        fake.append("orders", 1, "b");

        Outcome consumed = run("consume", "orders", "--from-beginning", "--timeout-ms", "300");

        assertThat(consumed.exitCode()).isZero();
        assertThat(consumed.out().lines()).containsExactlyInAnyOrder("a", "b");
    }

    @Test
    void consumeWithoutFromBeginningStartsAtTheEnd() {
        fake.createTopic("orders", 1);
        fake.append("orders", 0, "old");

        assertThat(run("consume", "orders", "--timeout-ms", "200")).isEqualTo(new Outcome(0, "", ""));
    }

    @Test
    void consumeOfOnePartitionReadsOnlyThatPartition() {
        fake.createTopic("orders", 2);
        fake.append("orders", 0, "a");
        fake.append("orders", 1, "b", "c");

        assertThat(run("consume", "orders", "--from-beginning", "--partition", "1", "--timeout-ms", "200").out())
                .isEqualTo("b\nc\n");
    }

    @Test
    void deleteRecordsMovesEveryPartitionsStartOrTheOnesNamedAndPrintsTheStarts() {
        fake.createTopic("orders", 2);
        fake.append("orders", 0, "a", "b", "c");
        fake.append("orders", 1, "d");

        assertThat(run("topics", "delete-records", "orders", "--partition", "0", "--before", "2"))
                .isEqualTo(new Outcome(0, "PARTITION  LOG-START\n0          2\n", ""));
        assertThat(run("topics", "delete-records", "orders", "--before", "end").out())
                .isEqualTo("PARTITION  LOG-START\n0          3\n1          1\n");
        assertThat(run("offsets", "orders", "--partition", "0", "--earliest").out()).isEqualTo("3\n");
        Outcome bad = run("topics", "delete-records", "orders", "--before", "-3");
        assertThat(bad.exitCode()).isEqualTo(2);
        assertThat(bad.err()).startsWith("--before takes an offset (0 or more) or 'end', not '-3'");
    }

    @Test
    void offsetsPrintsTheOffsetAsked() {
        fake.createTopic("orders", 1);
        fake.append("orders", 0, "t0", "t1000", "t2000");
        fake.truncate("orders", 0, 1);

        assertThat(run("offsets", "orders", "--partition", "0", "--earliest").out()).isEqualTo("1\n");
        assertThat(run("offsets", "orders", "--partition", "0", "--latest").out()).isEqualTo("3\n");
        assertThat(run("offsets", "orders", "--partition", "0", "--timestamp", "1500").out()).isEqualTo("2\n");
    }

    @Test
    void anUnknownTopicPrintsTheServersDescriptionAndExits1() {
        Outcome expected = new Outcome(1, "", "unknown topic 'nope'\n");
        assertThat(run("topics", "describe", "nope")).isEqualTo(expected);
        assertThat(run("consume", "nope", "--from-beginning")).isEqualTo(expected);
        assertThat(run("offsets", "nope", "--partition", "0", "--latest")).isEqualTo(expected);
        assertThat(runWithInput("a\n", "produce", "nope")).isEqualTo(expected);
        assertThat(runWithInput("a\n", "produce", "nope", "--partition", "0")).isEqualTo(expected);
    }

    @Test
    void anUnreachableServerPrintsOneLineAndExits1() throws IOException {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        StrataCli cli = new StrataCli(addresses -> StrataClient.builder().servers(addresses).build(),
                new ByteArrayInputStream(new byte[0]));

        Outcome outcome = run(cli, "--server", "127.0.0.1:" + port, "topics", "list");

        assertThat(outcome.exitCode()).isEqualTo(1);
        assertThat(outcome.err()).startsWith("cannot reach Strata at 127.0.0.1:" + port + ": Connection refused")
                .hasLineCount(1);
    }

    @Test
    void aCommandTriesEveryNodeItKnowsAndNamesThemWhenNoneAnswers() throws IOException {
        int first;
        int second;
        try (ServerSocket a = new ServerSocket(0); ServerSocket b = new ServerSocket(0)) {
            first = a.getLocalPort();
            second = b.getLocalPort();
        }
        StrataCli cli = new StrataCli(addresses -> StrataClient.builder().servers(addresses).build(),
                new ByteArrayInputStream(new byte[0]));

        Outcome outcome = run(cli, "--server", "127.0.0.1:" + first + ",127.0.0.1:" + second, "topics", "list");

        assertThat(outcome.exitCode()).isEqualTo(1);
        assertThat(outcome.err()).startsWith("cannot reach Strata at 127.0.0.1:" + first + ", 127.0.0.1:" + second
                + ": Connection refused").hasLineCount(1);
    }

    @Test
    void badArgumentsExit2WithTheReasonFirstAndAShortUsage() {
        assertUsageError(run("topics", "create", "orders"), "Missing required option: '--partitions=N'");
        assertUsageError(run("topics", "create", "orders", "--partitions", "many"), "'many' is not an int");
        assertUsageError(run("offsets", "orders", "--partition", "0"), "--earliest | --latest | --timestamp=MS");
        assertUsageError(run("offsets", "orders", "--partition", "0", "--earliest", "--latest"), "mutually exclusive");
        assertUsageError(run("--server", "nowhere", "topics", "list"), "expected HOST:PORT");
        assertUsageError(run("consume", "orders", "--max-messages", "0"), "--max-messages must be positive");
        assertUsageError(run("topics"), "Missing required subcommand");
        assertUsageError(run("bench"), "Missing required subcommand");
        assertUsageError(run("xyzzy"), "Unmatched argument");
        assertThat(addressesUsed).isEmpty();
    }

    @Test
    void theServerOptionIsAcceptedAfterTheSubcommandToo() {
        run("topics", "list", "--server", "strata.example:1234");
        run("--server", "other.example:9", "consume", "nope");

        assertThat(addressesUsed).containsExactly(new ServerAddress("strata.example", 1234),
                new ServerAddress("other.example", 9));
    }

    @Test
    void theServerOptionTakesACommaSeparatedListAndUsesANodeThatAnswers() throws Exception {
        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        try (java.net.ServerSocket open = new java.net.ServerSocket(0)) {
            run("topics", "list", "--server", "127.0.0.1:" + closed + ",127.0.0.1:" + open.getLocalPort());

            assertThat(addressesUsed).containsExactly(new ServerAddress("127.0.0.1", open.getLocalPort()));
        }
    }

    private static void assertUsageError(Outcome outcome, String reason) {
        assertThat(outcome.exitCode()).isEqualTo(2);
        assertThat(outcome.out()).isEmpty();
        assertThat(outcome.err().lines().findFirst().orElse("")).contains(reason);
        assertThat(outcome.err()).contains("Usage: strata").containsPattern("Try 'strata[a-z ]*--help' for all its options");
        // The synopsis, not the whole help: the reason on the first line must still be on a terminal's screen.
        assertThat(outcome.err().lines().count()).isLessThanOrEqualTo(24);
    }

    @Test
    void aCommandWithSubcommandsNamesThemWhenNoneIsGiven() {
        Outcome outcome = run("topics");

        assertThat(outcome.err()).contains("Commands:").contains("create").contains("list").contains("delete");
    }

    private Outcome run(String... args) {
        return runWithInput("", args);
    }

    private Outcome runWithInput(String stdin, String... args) {
        StrataCli cli = new StrataCli(addresses -> {
            addressesUsed.add(addresses.get(0));
            return fake.client();
        }, new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
        return run(cli, args);
    }

    private static Outcome run(StrataCli cli, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exitCode = cli.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Outcome(exitCode, out.toString(), err.toString());
    }
}
