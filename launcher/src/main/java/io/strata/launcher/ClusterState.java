package io.strata.launcher;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/**
 * What a local cluster's folder remembers between commands: each member's definition, and the pid and start
 * time of the process last started for it. Rewritten whole (write then rename) after every change, so a
 * command interrupted half-way leaves the previous state or the new one, never a mix.
 */
final class ClusterState {
    static final String FILE = "cluster.properties";
    private static final String SEPARATOR = "\u001f"; // between the arguments of a command line

    /** A started process: its pid and start time, to find it again and never confuse it with a reused pid. */
    record Started(long pid, long startedAt) {
    }

    private final Path dir;
    private final List<Member> members;
    private final Map<String, Started> started = new LinkedHashMap<>();

    ClusterState(Path dir, List<Member> members) {
        this.dir = dir;
        this.members = List.copyOf(members);
    }

    static Optional<ClusterState> read(Path dir) {
        Path file = dir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        Properties p = new Properties();
        try (Reader in = Files.newBufferedReader(file)) {
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        List<Member> members = new ArrayList<>();
        for (String name : p.getProperty("members", "").split(",")) {
            if (name.isEmpty()) {
                continue;
            }
            String key = "member." + name + ".";
            members.add(new Member(name, Role.ofLabel(p.getProperty(key + "role")),
                    Integer.parseInt(p.getProperty(key + "port")), Integer.parseInt(p.getProperty(key + "http-port")),
                    Arrays.asList(p.getProperty(key + "command").split(SEPARATOR, -1)),
                    Path.of(p.getProperty(key + "work-dir")), Integer.parseInt(p.getProperty(key + "kafka-port", "0"))));
        }
        ClusterState state = new ClusterState(dir, members);
        for (Member m : members) {
            String pid = p.getProperty("member." + m.name() + ".pid");
            if (pid != null) {
                state.started.put(m.name(), new Started(Long.parseLong(pid),
                        Long.parseLong(p.getProperty("member." + m.name() + ".started-at", "0"))));
            }
        }
        return Optional.of(state);
    }

    List<Member> members() {
        return members;
    }

    Optional<Member> member(String name) {
        return members.stream().filter(m -> m.name().equals(name)).findFirst();
    }

    /** The running process of a member, if the one last started for it still runs. */
    Optional<ManagedProcess> process(Member member) {
        Started s = started.get(member.name());
        return s == null ? Optional.empty() : ManagedProcess.attach(member.name(), s.pid(), s.startedAt(), member.log(),
                Path.of(member.command().get(0)).getFileName().toString());
    }

    void started(Member member, ManagedProcess process) {
        started.put(member.name(), new Started(process.pid(), process.startedAt()));
        write();
    }

    void write() {
        Properties p = new Properties();
        p.setProperty("members", String.join(",", members.stream().map(Member::name).toList()));
        for (Member m : members) {
            String key = "member." + m.name() + ".";
            p.setProperty(key + "role", m.role().label());
            p.setProperty(key + "port", Integer.toString(m.port()));
            p.setProperty(key + "http-port", Integer.toString(m.httpPort()));
            p.setProperty(key + "kafka-port", Integer.toString(m.kafkaPort()));
            p.setProperty(key + "command", String.join(SEPARATOR, m.command()));
            p.setProperty(key + "work-dir", m.workDir().toString());
            Started s = started.get(m.name());
            if (s != null) {
                p.setProperty(key + "pid", Long.toString(s.pid()));
                p.setProperty(key + "started-at", Long.toString(s.startedAt()));
            }
        }
        try {
            Files.createDirectories(dir);
            Path temporary = dir.resolve(FILE + ".tmp");
            try (Writer out = Files.newBufferedWriter(temporary)) {
                p.store(out, "strata cluster: the processes of this folder (written by the strata command line)");
            }
            Files.move(temporary, dir.resolve(FILE), StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dir.resolve(FILE), e);
        }
    }
}
