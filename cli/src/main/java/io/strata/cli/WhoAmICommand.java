package io.strata.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code strata whoami}: the principal the nodes take this command line for. */
@Command(name = "whoami", mixinStandardHelpOptions = true,
        description = "Prints who the nodes take you for: principal, groups, how you signed in, super-user or not.")
final class WhoAmICommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        var me = StrataCli.client(spec).security().whoAmI();
        spec.commandLine().getOut().printf("%s  via %s%s%s%s%n", me.getPrincipal(), me.getAuthenticatedBy(),
                me.getGroupsList().isEmpty() ? "" : "  groups " + String.join(",", me.getGroupsList()),
                me.getSuperUser() ? "  super-user" : "",
                me.getAuthRequired() ? "" : "  (the node does not require credentials)");
        return 0;
    }
}
