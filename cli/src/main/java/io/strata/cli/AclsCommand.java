package io.strata.cli;

import io.strata.api.v1.AclEntry;
import io.strata.api.v1.AclOperation;
import io.strata.api.v1.AclResourceType;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code strata acls add|remove|list}: who may do what (admin on the cluster needed). */
@Command(name = "acls", mixinStandardHelpOptions = true,
        description = "Adds, removes and lists access rules. A deny wins over any allow; without an allow, no.",
        subcommands = {AclsCommand.Add.class, AclsCommand.Remove.class, AclsCommand.ListAcls.class})
final class AclsCommand {

    /** The resource a rule is about: exactly one of these. */
    static final class Resource {
        @Option(names = "--topic", paramLabel = "T", description = "One topic.")
        String topic;
        @Option(names = "--topic-prefix", paramLabel = "P", description = "Every topic whose name starts with P.")
        String topicPrefix;
        @Option(names = "--group", paramLabel = "G", description = "One consumer group.")
        String group;
        @Option(names = "--group-prefix", paramLabel = "P", description = "Every group whose name starts with P.")
        String groupPrefix;
        @Option(names = "--cluster", description = "The cluster (admin: users and ACLs, and everything; create: any topic).")
        boolean cluster;
        @Option(names = "--transactional-id", paramLabel = "ID", description = "One transactional producer's id "
                + "(produce: use it; describe: see its transaction).")
        String transactionalId;
        @Option(names = "--transactional-id-prefix", paramLabel = "P",
                description = "Every transactional id that starts with P.")
        String transactionalIdPrefix;
    }

    /** What add and remove share: one rule, as options. */
    abstract static class RuleCommand implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Option(names = "--principal", required = true, paramLabel = "P",
                description = "User:NAME, Group:NAME, or User:* (everyone signed in).")
        String principal;
        @Option(names = "--operation", required = true, paramLabel = "OP",
                description = "produce, consume, describe, create, alter, delete, alter-group or admin.")
        String operation;
        @ArgGroup(exclusive = true, multiplicity = "1")
        Resource resource;
        @Option(names = "--deny", description = "A deny rule (wins over every allow).")
        boolean deny;

        AclEntry rule() {
            AclEntry.Builder b = AclEntry.newBuilder().setPrincipal(principal).setDeny(deny);
            try {
                b.setOperation(AclOperation.valueOf("ACL_OPERATION_" + operation.trim().toUpperCase(Locale.ROOT)
                        .replace('-', '_')));
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), "unknown --operation '" + operation + "': one of "
                        + "produce, consume, describe, create, alter, delete, alter-group, admin");
            }
            if (resource.cluster) {
                b.setResourceType(AclResourceType.ACL_RESOURCE_CLUSTER);
            } else if (resource.topic != null || resource.topicPrefix != null) {
                b.setResourceType(AclResourceType.ACL_RESOURCE_TOPIC).setPrefixed(resource.topicPrefix != null)
                        .setResourceName(resource.topic != null ? resource.topic : resource.topicPrefix);
            } else if (resource.transactionalId != null || resource.transactionalIdPrefix != null) {
                b.setResourceType(AclResourceType.ACL_RESOURCE_TRANSACTIONAL_ID)
                        .setPrefixed(resource.transactionalIdPrefix != null).setResourceName(
                                resource.transactionalId != null ? resource.transactionalId : resource.transactionalIdPrefix);
            } else {
                b.setResourceType(AclResourceType.ACL_RESOURCE_GROUP).setPrefixed(resource.groupPrefix != null)
                        .setResourceName(resource.group != null ? resource.group : resource.groupPrefix);
            }
            return b.build();
        }
    }

    @Command(name = "add", mixinStandardHelpOptions = true, description = "Adds a rule; in force on every node within a second.")
    static final class Add extends RuleCommand {
        @Override
        public Integer call() {
            AclEntry rule = rule();
            StrataCli.client(spec).security().addAcl(rule);
            spec.commandLine().getOut().println("added: " + describe(rule));
            return 0;
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true, description = "Removes a rule, given as it was added.")
    static final class Remove extends RuleCommand {
        @Override
        public Integer call() {
            AclEntry rule = rule();
            StrataCli.client(spec).security().removeAcl(rule);
            spec.commandLine().getOut().println("removed: " + describe(rule));
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Prints every rule, or one principal's.")
    static final class ListAcls implements Callable<Integer> {
        @Spec
        CommandSpec spec;
        @Option(names = "--principal", paramLabel = "P", description = "Only this principal's rules.")
        String principal = "";

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            var rules = StrataCli.client(spec).security().listAcls(principal);
            int width = Math.max(9, rules.stream().mapToInt(r -> r.getPrincipal().length()).max().orElse(0));
            String row = "%-" + width + "s  %-10s  %-11s  %-7s  %-8s  %s%n";
            out.printf(row, "PRINCIPAL", "PERMISSION", "OPERATION", "TYPE", "PATTERN", "RESOURCE");
            for (AclEntry r : rules) {
                out.printf(row, r.getPrincipal(), r.getDeny() ? "deny" : "allow", label(r.getOperation()),
                        type(r.getResourceType()), r.getResourceType() == AclResourceType.ACL_RESOURCE_CLUSTER ? "-"
                                : r.getPrefixed() ? "prefix" : "literal",
                        r.getResourceType() == AclResourceType.ACL_RESOURCE_CLUSTER ? "-" : r.getResourceName());
            }
            return 0;
        }
    }

    static String label(AclOperation op) {
        return op.name().substring("ACL_OPERATION_".length()).toLowerCase(Locale.ROOT).replace('_', '-');
    }

    static String type(AclResourceType t) {
        return t.name().substring("ACL_RESOURCE_".length()).toLowerCase(Locale.ROOT).replace('_', '-');
    }

    static String describe(AclEntry r) {
        String resource = r.getResourceType() == AclResourceType.ACL_RESOURCE_CLUSTER ? "the cluster"
                : type(r.getResourceType()) + (r.getPrefixed() ? "s starting with " : " ") + r.getResourceName();
        return (r.getDeny() ? "deny " : "allow ") + r.getPrincipal() + " " + label(r.getOperation()) + " on " + resource;
    }
}
