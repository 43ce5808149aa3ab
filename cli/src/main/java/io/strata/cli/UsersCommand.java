package io.strata.cli;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code strata users add|remove|list}: users who sign in with a password (admin on the cluster needed). */
@Command(name = "users", mixinStandardHelpOptions = true,
        description = "Adds, removes and lists users who sign in with a password (gRPC and the Kafka listener's SCRAM).",
        subcommands = {UsersCommand.Add.class, UsersCommand.Remove.class, UsersCommand.ListUsers.class})
final class UsersCommand {

    @Command(name = "add", mixinStandardHelpOptions = true, description = "Adds a user (or, with --replace, changes "
            + "its password and groups). The password: --password, --new-password-file, env STRATA_NEW_PASSWORD, "
            + "or asked for.")
    static final class Add implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Parameters(paramLabel = "NAME", description = "1 to 128 of A-Z a-z 0-9 . _ @ -")
        String name;
        @Option(names = "--password", paramLabel = "P", description = "The password (at least 8 characters); "
                + "prefer --new-password-file or STRATA_NEW_PASSWORD, which keep it out of the shell's history.")
        String password;
        @Option(names = "--new-password-file", paramLabel = "FILE", description = "Read the password from this "
                + "file's first line.")
        Path passwordFile;
        @Option(names = "--group", paramLabel = "G", description = "An ACL group the user belongs to (repeatable): "
                + "rules for Group:G apply to it.")
        List<String> groups = new ArrayList<>();
        @Option(names = "--replace", description = "Change an existing user instead of failing.")
        boolean replace;

        @Override
        public Integer call() throws Exception {
            String secret = password;
            if (secret == null && passwordFile != null) {
                secret = Files.readAllLines(passwordFile, StandardCharsets.UTF_8).stream().findFirst().orElse("");
            }
            if (secret == null) {
                secret = System.getenv("STRATA_NEW_PASSWORD");
            }
            if (secret == null && System.console() != null) {
                char[] typed = System.console().readPassword("new password for %s: ", name);
                secret = typed == null ? null : new String(typed);
            }
            if (secret == null) {
                throw new ParameterException(spec.commandLine(), "no password: give --password, --new-password-file "
                        + "or STRATA_NEW_PASSWORD");
            }
            boolean replaced = StrataCli.client(spec).security().addUser(name, secret, groups, replace);
            spec.commandLine().getOut().printf("%s user %s%n", replaced ? "changed" : "added", name);
            return 0;
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true, description = "Removes a user: its next call is refused.")
    static final class Remove implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Parameters(paramLabel = "NAME")
        String name;

        @Override
        public Integer call() {
            StrataCli.client(spec).security().removeUser(name);
            spec.commandLine().getOut().printf("removed user %s%n", name);
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Prints every user with its groups.")
    static final class ListUsers implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            var users = StrataCli.client(spec).security().listUsers();
            int width = Math.max(4, users.stream().mapToInt(u -> u.getName().length()).max().orElse(0));
            out.printf("%-" + width + "s  %-20s  %s%n", "USER", "CREATED", "GROUPS");
            users.forEach(u -> out.printf("%-" + width + "s  %-20s  %s%n", u.getName(),
                    Instant.ofEpochMilli(u.getCreatedAtMs()).toString().replaceAll("\\.\\d+Z$", "Z"),
                    u.getGroupsList().isEmpty() ? "-" : String.join(",", u.getGroupsList())));
            return 0;
        }
    }
}
