package io.strata.launcher;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A process Strata's tooling started: its output goes to a log file (so a failure can quote it), and it is
 * stopped with signals. Two kinds:
 * <ul>
 *   <li>{@linkplain #start owned}: killed at the latest when this JVM exits (test fixtures);</li>
 *   <li>{@linkplain #startDetached detached}: in a session of its own, so it outlives this JVM and a Ctrl-C in
 *   the terminal that started it ({@code strata cluster up}); a later command finds it again with
 *   {@link #attach}, which checks the start time so that a reused pid is never mistaken for it.</li>
 * </ul>
 */
public final class ManagedProcess implements AutoCloseable {
    private final String name;
    private final ProcessHandle handle;
    /** The child itself when this JVM started it (its exit code is known only then), else null. */
    private final Process process;
    private final Path log;
    /** SIGTERM was sent ({@link #terminate}): a stop that follows only waits. */
    private volatile boolean terminated;

    private ManagedProcess(String name, ProcessHandle handle, Process process, Path log) {
        this.name = name;
        this.handle = handle;
        this.process = process;
        this.log = log;
    }

    /** Starts a process that this JVM owns: it is killed when the JVM exits, if not before. */
    public static ManagedProcess start(String name, List<String> command, Map<String, String> env, Path workDir) {
        ManagedProcess managed = launch(name, command, env, workDir);
        Runtime.getRuntime().addShutdownHook(new Thread(managed::kill, "kill-" + name));
        return managed;
    }

    /** Starts a process in a session of its own (setsid) that outlives this JVM. */
    public static ManagedProcess startDetached(String name, List<String> command, Map<String, String> env,
                                               Path workDir) {
        List<String> detached = new ArrayList<>();
        // setsid execs the command in place (a child of a JVM is never a group leader): same pid.
        if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
            detached.add("/usr/bin/setsid");
        }
        detached.addAll(command);
        ManagedProcess process = launch(name, detached, env, workDir);
        // Returns once setsid has exec'd the command, so that what the process runs is the command's program.
        Polls.until(java.time.Duration.ofSeconds(2), 5, () -> !process.isAlive() || !process.handle.info().command()
                .map(c -> c.endsWith("/setsid")).orElse(false));
        return process;
    }

    /**
     * The process started earlier under {@code pid} at {@code startedAt} (millisecond precision), if it is
     * still running; empty when it exited or the pid now belongs to another process.
     */
    public static Optional<ManagedProcess> attach(String name, long pid, long startedAt, Path log) {
        return attach(name, pid, startedAt, log, null);
    }

    /**
     * As {@link #attach(String, long, long, Path)}, and the process runs {@code program} (a file name, such as
     * {@code java} or {@code etcd}; null: any). Start times are compared within {@link #START_TOLERANCE_MS}:
     * the JDK derives them from the boot time, which moves when the wall clock is stepped.
     */
    public static Optional<ManagedProcess> attach(String name, long pid, long startedAt, Path log, String program) {
        return ProcessHandle.of(pid)
                .filter(ManagedProcess::running)
                .filter(h -> startedAt == 0 || startMillis(h) == 0
                        || Math.abs(startMillis(h) - startedAt) <= START_TOLERANCE_MS)
                .filter(h -> program == null || h.info().command()
                        .map(c -> Path.of(c).getFileName().toString().equals(program)).orElse(true))
                .map(h -> new ManagedProcess(name, h, null, log));
    }

    /** How far a start time read later may be from the one recorded (a pid is reused far less often). */
    static final long START_TOLERANCE_MS = 2_000;

    /**
     * Starts a process for a short job of this package's own ({@link StartupArchive}'s training run): no shutdown hook
     * (in a build tool's JVM a hook outlives the job's thread group and class loader), and without the environment
     * variables {@code drop} names (a developer's {@code STRATA_*} settings must not point the job at their cluster).
     * The caller kills it.
     */
    static ManagedProcess startForJob(String name, List<String> command, java.util.function.Predicate<String> drop,
                                      Path workDir) {
        return launch(name, command, Map.of(), workDir, drop);
    }

    private static ManagedProcess launch(String name, List<String> command, Map<String, String> env, Path workDir) {
        return launch(name, command, env, workDir, variable -> false);
    }

    private static ManagedProcess launch(String name, List<String> command, Map<String, String> env, Path workDir,
                                         java.util.function.Predicate<String> drop) {
        try {
            Files.createDirectories(workDir);
            Path log = workDir.resolve(name + ".log");
            ProcessBuilder builder = new ProcessBuilder(command)
                    .directory(workDir.toFile())
                    .redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            builder.environment().keySet().removeIf(drop);
            builder.environment().putAll(env);
            Process child = builder.start();
            return new ManagedProcess(name, child.toHandle(), child, log);
        } catch (IOException e) {
            throw new UncheckedIOException("could not start " + name + ": " + command, e);
        }
    }

    private static long startMillis(ProcessHandle handle) {
        return handle.info().startInstant().map(Instant::toEpochMilli).orElse(0L);
    }

    public String name() {
        return name;
    }

    /** Whether it runs: a process that exited and waits only to be reaped by its parent (a zombie) does not. */
    public boolean isAlive() {
        // This JVM reaps its own children at once, and their exit code is known only then.
        return process != null ? process.isAlive() : running(handle);
    }

    /**
     * Alive and not a zombie. A detached process's parent is the system's init, which may reap late (seconds
     * in some sandboxes) or never (a container whose first process is not an init): the JDK counts such a
     * process as alive, so a stop would wait out its whole grace period for a process that has exited.
     */
    private static boolean running(ProcessHandle handle) {
        return handle.isAlive() && !zombie(handle.pid());
    }

    /**
     * Exited and not yet reaped: Linux's process state in /proc is Z (zombie) or X (dead) with one thread left (a
     * process whose main thread ended while others run shows Z too). False where there is no /proc.
     */
    static boolean zombie(long pid) {
        try {
            String status = new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "status")),
                    java.nio.charset.StandardCharsets.ISO_8859_1);
            String state = field(status, "State:");
            return (state.startsWith("Z") || state.startsWith("X")) && field(status, "Threads:").equals("1");
        } catch (IOException | UncheckedIOException e) {
            return false; // gone (then isAlive says so), or not Linux
        }
    }

    private static String field(String status, String name) {
        for (String line : status.split("\n")) {
            if (line.startsWith(name)) {
                return line.substring(name.length()).trim();
            }
        }
        return "";
    }

    /** The exit code once a process this JVM started has exited; empty while it runs, or for an attached one. */
    public java.util.OptionalInt exitCode() {
        return process == null || process.isAlive() ? java.util.OptionalInt.empty()
                : java.util.OptionalInt.of(process.exitValue());
    }

    public long pid() {
        return handle.pid();
    }

    /** When the process started, in epoch milliseconds (0 where the platform does not say): see {@link #attach}. */
    public long startedAt() {
        return startMillis(handle);
    }

    public Path log() {
        return log;
    }

    /** The last lines of the process's output, for failure messages. */
    public String tail(int lines) {
        try {
            List<String> all = Files.readAllLines(log);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(no log: " + e + ")";
        }
    }

    /** SIGKILL: the process gets no chance to clean up, as in a crash. */
    public void kill() {
        handle.destroyForcibly();
        waitFor(java.time.Duration.ofSeconds(10));
    }

    /** SIGSTOP: the process stops where it is, its sockets open, as in a long GC pause or a frozen VM. */
    public void pause() {
        signal("STOP");
    }

    /** SIGCONT: a paused process goes on where it stopped. */
    public void resume() {
        signal("CONT");
    }

    private void signal(String signal) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(handle.pid())).inheritIO().start();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IllegalStateException("kill -" + signal + " " + handle.pid() + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * SIGTERM without waiting (a paused process is resumed first: it would not act on it), so that the shutdowns
     * of several processes overlap; {@link #stop} then waits for each.
     */
    public void terminate() {
        terminated = true;
        if (handle.isAlive()) {
            try {
                resume();
            } catch (IllegalStateException e) {
                // it exited meanwhile
            }
        }
        handle.destroy();
    }

    /** Waits for the process to exit on its own, at most {@code timeout}; true when it did. */
    public boolean awaitExit(java.time.Duration timeout) {
        return waitFor(timeout);
    }

    /** SIGTERM, then SIGKILL after the grace period; true when it exited within the grace period. */
    public boolean stop(long graceSeconds) {
        if (!terminated) {
            terminate();
        }
        if (waitFor(java.time.Duration.ofSeconds(graceSeconds))) {
            return true;
        }
        kill();
        return false;
    }

    private boolean waitFor(java.time.Duration timeout) {
        if (process == null) {
            // Not this JVM's child: its exit is seen here, not when its parent reaps it (onExit waits for that).
            return Polls.until(timeout, 20, () -> !isAlive());
        }
        try {
            handle.onExit().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            return !handle.isAlive();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Override
    public void close() {
        stop(10);
    }

    @Override
    public String toString() {
        return name + "(pid " + handle.pid() + ")";
    }
}
