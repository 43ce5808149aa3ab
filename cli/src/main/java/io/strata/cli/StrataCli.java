package io.strata.cli;

import io.strata.client.ServerAddress;
import io.strata.client.StrataClient;
import java.io.BufferedWriter;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The {@code strata} command line. Each subcommand is a class of this package that takes its client from
 * {@link #client(CommandSpec)}; a new subcommand only needs listing in {@code subcommands} below.
 *
 * <p>Exit codes: 0 success, 1 a failed call (one line on stderr: the server's description, or why the
 * server could not be reached), 2 bad arguments (picocli's message and usage).
 */
@Command(name = "strata", mixinStandardHelpOptions = true, version = "strata 0.1.0",
        description = "Administers topics and consumer groups of a Strata cluster, and produces and consumes records.",
        subcommands = {TopicsCommand.class, ProduceCommand.class, ConsumeCommand.class, OffsetsCommand.class,
                GroupsCommand.class, ShareGroupsCommand.class, DlqCommand.class, ClusterCommand.class, TransactionsCommand.class, UsersCommand.class, AclsCommand.class, QuotasCommand.class, WhoAmICommand.class,
                BenchCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success", "1:the call failed (server error, or the server is unreachable)",
                "2:bad arguments"})
public final class StrataCli {
    /**
     * How the CLI gets a client for the nodes it was pointed at (the first to try first); tests put an
     * in-process transport here.
     */
    @FunctionalInterface
    public interface ClientFactory extends Function<List<ServerAddress>, StrataClient> {
    }

    @Option(names = "--server", paramLabel = "HOST:PORT[,HOST:PORT...]", scope = ScopeType.INHERIT, split = ",",
            converter = ServerAddressConverter.class,
            description = "The Strata nodes to talk to: of several, the first that accepts a connection, and the others "
                    + "when it goes away (default: env STRATA_SERVER, else the cluster of 'strata cluster up' while it "
                    + "is up, else 127.0.0.1:9400).")
    List<ServerAddress> servers;

    @Option(names = "--tls-ca", paramLabel = "FILE", scope = ScopeType.INHERIT,
            description = "Talk TLS to the nodes, trusting the CA certificates of this PEM file (default: env "
                    + "STRATA_TLS_CA; without either, plaintext).")
    java.nio.file.Path tlsCa;

    @Option(names = "--tls-server-name", paramLabel = "NAME", scope = ScopeType.INHERIT,
            description = "Check the nodes' TLS certificates against this name rather than the addresses dialled "
                    + "(default: env STRATA_TLS_SERVER_NAME).")
    String tlsServerName;

    @Option(names = "--plaintext", scope = ScopeType.INHERIT,
            description = "Talk plaintext even with credentials (a node with strata.auth.allow-plaintext, for trials).")
    boolean plaintext;

    @Option(names = "--user", paramLabel = "NAME", scope = ScopeType.INHERIT,
            description = "Sign in as this user; the password comes from env STRATA_PASSWORD, --password-file, or "
                    + "is asked for (default: env STRATA_USER).")
    String user;

    @Option(names = "--password-file", paramLabel = "FILE", scope = ScopeType.INHERIT,
            description = "Read the --user's password from the first line of this file.")
    java.nio.file.Path passwordFile;

    @Option(names = "--token-file", paramLabel = "FILE", scope = ScopeType.INHERIT,
            description = "Sign in with the bearer token (JWT) in this file (default: env STRATA_TOKEN_FILE or "
                    + "STRATA_TOKEN).")
    java.nio.file.Path tokenFile;

    @Option(names = "--tls-cert", paramLabel = "FILE", scope = ScopeType.INHERIT,
            description = "Present this client certificate (PEM) over TLS, with --tls-key (default: env STRATA_TLS_CERT).")
    java.nio.file.Path certificate;

    @Option(names = "--tls-key", paramLabel = "FILE", scope = ScopeType.INHERIT,
            description = "The client certificate's key (PEM, PKCS#8) (default: env STRATA_TLS_KEY).")
    java.nio.file.Path key;

    /** The nodes chosen for this command line, the first to try first, once a command needs a client. */
    List<ServerAddress> chosen;

    /**
     * gRPC logs to java.util.logging, whose default handler writes INFO lines to stderr; the command line
     * keeps stderr for its own one-line errors. Held here because loggers are only weakly referenced.
     */
    private static final Logger GRPC_LOGGER = Logger.getLogger("io.grpc");

    private final ClientFactory clients;
    private final InputStream stdin;
    private StrataClient client;

    public StrataCli(ClientFactory clients, InputStream stdin) {
        this.clients = clients;
        this.stdin = stdin;
    }

    public static void main(String[] args) {
        GRPC_LOGGER.setLevel(Level.WARNING);
        PrintWriter out = new PrintWriter(new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8)));
        PrintWriter err = new PrintWriter(new OutputStreamWriter(System.err, StandardCharsets.UTF_8), true);
        StrataCli[] cli = new StrataCli[1];
        cli[0] = new StrataCli(addresses -> connect(addresses, cli[0]), System.in);
        int exitCode = cli[0].run(out, err, args);
        out.flush();
        err.flush();
        System.exit(exitCode);
    }

    /**
     * A client of these nodes as the command line's options say: over TLS trusting {@code --tls-ca} and checking
     * {@code --tls-server-name} when given, signed in as {@code --user} or with {@code --tls-cert}, else as the
     * STRATA_* environment variables say.
     */
    static StrataClient connect(List<ServerAddress> servers, StrataCli cli) {
        StrataClient.Builder b = StrataClient.builder().servers(servers);
        if (cli.tlsCa != null) {
            b.tlsCa(cli.tlsCa);
        }
        // A local cluster made with --secure: its CA, and its super-user unless the command line signs in otherwise.
        var local = ServerChoice.localSecurity(cli.servers);
        if (local.isPresent()) {
            if (cli.tlsCa == null && blank(System.getenv("STRATA_TLS_CA"))) {
                b.tlsCa(local.get().caPem());
            }
            if (cli.user == null && cli.certificate == null && cli.tokenFile == null && blank(System.getenv("STRATA_USER"))
                    && blank(System.getenv("STRATA_TLS_CERT")) && blank(System.getenv("STRATA_TOKEN"))
                    && blank(System.getenv("STRATA_TOKEN_FILE"))) {
                b.credentials(local.get().user(), local.get().password());
            }
        }
        if (cli.tlsServerName != null) {
            b.tlsServerName(cli.tlsServerName);
        }
        if ((cli.certificate == null) != (cli.key == null)) {
            throw new CommandLine.ParameterException(new CommandLine(cli), "--tls-cert and --tls-key go together");
        }
        if (cli.certificate != null) {
            b.tlsCertificate(cli.certificate, cli.key);
        }
        if (cli.user != null) {
            b.credentials(cli.user, password(cli));
        } else if (cli.tokenFile != null) {
            b.tokenFile(cli.tokenFile);
        }
        if (cli.plaintext) {
            b.plaintext(true);
        }
        return b.build();
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }

    /** The --user's password: from --password-file, env STRATA_PASSWORD, or asked for on the terminal. */
    private static String password(StrataCli cli) {
        if (cli.passwordFile != null) {
            try {
                return java.nio.file.Files.readAllLines(cli.passwordFile, StandardCharsets.UTF_8).stream().findFirst()
                        .orElse("");
            } catch (java.io.IOException e) {
                throw new IllegalArgumentException("cannot read the password file " + cli.passwordFile + ": " + e);
            }
        }
        String fromEnvironment = System.getenv("STRATA_PASSWORD");
        if (fromEnvironment != null) {
            return fromEnvironment;
        }
        java.io.Console console = System.console();
        if (console == null) {
            throw new IllegalArgumentException("--user " + cli.user + " needs a password: set STRATA_PASSWORD or give "
                    + "--password-file");
        }
        char[] typed = console.readPassword("password for %s: ", cli.user);
        return typed == null ? "" : new String(typed);
    }

    /** A client as the command line {@code spec} belongs to connects. */
    static StrataClient connect(CommandSpec spec, List<ServerAddress> servers) {
        return connect(servers, (StrataCli) spec.root().userObject());
    }

    /** Runs one command line and answers its exit code; closes the client it opened. */
    public int run(PrintWriter out, PrintWriter err, String... args) {
        CommandLine commandLine = new CommandLine(this)
                .setOut(out)
                .setErr(err)
                .setParameterExceptionHandler(StrataCli::usageError)
                .setExecutionExceptionHandler((failure, cmd, parseResult) -> {
                    cmd.getErr().println(CliErrors.oneLine(failure, chosen));
                    return 1;
                });
        try {
            return commandLine.execute(args);
        } finally {
            out.flush();
            if (client != null) {
                client.close();
                client = null;
            }
        }
    }

    /**
     * A command line that does not parse: the reason first, then suggestions for a mistyped option or command,
     * the command's synopsis (and the names of its subcommands, where it has some), and where its whole help is.
     * Short, so the reason stays on the screen: the whole help, which picocli prints by default, is up to 84
     * lines ({@code strata produce}) and scrolled the reason away.
     */
    static int usageError(CommandLine.ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        PrintWriter err = cmd.getErr();
        err.println(e.getMessage());
        CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
        err.print(cmd.getHelp().fullSynopsis());
        List<String> commands = cmd.getSubcommands().values().stream()
                .filter(c -> !c.getCommandSpec().usageMessage().hidden()).map(CommandLine::getCommandName)
                .distinct().toList();
        if (!commands.isEmpty()) {
            err.println("Commands: " + String.join(", ", commands));
        }
        err.printf("Try '%s --help' for all its options.%n", cmd.getCommandSpec().qualifiedName());
        err.flush();
        return cmd.getCommandSpec().exitCodeOnInvalidInput();
    }

    /** The client of the command line that {@code spec} belongs to, connected on first use. */
    static StrataClient client(CommandSpec spec) {
        StrataCli cli = (StrataCli) spec.root().userObject();
        if (cli.client == null) {
            cli.chosen = ServerChoice.choose(cli.servers);
            cli.client = cli.clients.apply(cli.chosen);
        }
        return cli.client;
    }

    /**
     * A client of its own to the command line's nodes, for a check that must not warm the command's client (a
     * benchmark's clock counts that client's first calls); the caller closes it.
     */
    static StrataClient separateClient(CommandSpec spec) {
        client(spec); // chooses the nodes; the command's client makes no call until asked
        StrataCli cli = (StrataCli) spec.root().userObject();
        return cli.clients.apply(cli.chosen);
    }

    static InputStream stdin(CommandSpec spec) {
        return ((StrataCli) spec.root().userObject()).stdin;
    }

    static final class ServerAddressConverter implements CommandLine.ITypeConverter<ServerAddress> {
        @Override
        public ServerAddress convert(String value) {
            try {
                return ServerAddress.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
