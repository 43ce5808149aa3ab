package io.strata.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ManagedProcessTest {
    @TempDir
    Path dir;

    private ManagedProcess process;
    private ManagedProcess child;

    @AfterEach
    void killIt() {
        if (child != null) {
            child.kill();
        }
        if (process != null) {
            process.kill();
        }
    }

    @Test
    void aDetachedProcessIsFoundAgainByItsPidAndStartTime() {
        process = ManagedProcess.startDetached("sleeper", List.of("sleep", "60"), Map.of(), dir);

        assertThat(ManagedProcess.attach("sleeper", process.pid(), process.startedAt(), process.log()))
                .get().extracting(ManagedProcess::pid).isEqualTo(process.pid());
    }

    @Test
    void aPidWithAnotherStartTimeIsAnotherProcess() {
        process = ManagedProcess.startDetached("sleeper", List.of("sleep", "60"), Map.of(), dir);
        assertThat(process.startedAt()).isPositive(); // Linux reports start times

        // As after the pid was reused by an unrelated process: it must not be signalled as if it were ours.
        assertThat(ManagedProcess.attach("sleeper", process.pid(), process.startedAt() - 60_000, process.log()))
                .isEmpty();
    }

    @Test
    void aProcessRunningAnotherProgramUnderTheRecordedPidIsAnotherProcess() {
        process = ManagedProcess.startDetached("sleeper", List.of("sleep", "60"), Map.of(), dir);

        assertThat(ManagedProcess.attach("sleeper", process.pid(), process.startedAt(), process.log(), "sleep"))
                .isPresent();
        assertThat(ManagedProcess.attach("sleeper", process.pid(), process.startedAt(), process.log(), "etcd"))
                .isEmpty();
        // A start time read again after the wall clock was stepped by a second still finds it.
        assertThat(ManagedProcess.attach("sleeper", process.pid(), process.startedAt() + 1_000, process.log(), null))
                .isPresent();
    }

    @Test
    void aDetachedProcessLeadsASessionOfItsOwn() throws Exception {
        process = ManagedProcess.startDetached("sleeper", List.of("sleep", "60"), Map.of(), dir);

        // Once setsid has exec'd the command, field 6 of /proc/PID/stat, the session id, is the process's own
        // pid: a Ctrl-C in the starting terminal does not reach it.
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!java.nio.file.Files.readString(Path.of("/proc/" + process.pid() + "/comm")).strip().equals("sleep")) {
            assertThat(System.nanoTime()).as("setsid execs sleep").isLessThan(deadline);
            Thread.sleep(10);
        }
        String stat = java.nio.file.Files.readString(Path.of("/proc/" + process.pid() + "/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        assertThat(Long.parseLong(fields[3])).isEqualTo(process.pid());
    }

    @Test
    void stopEndsAProcessThatHonoursSigtermWithinTheGrace() {
        process = ManagedProcess.start("sleeper", List.of("sleep", "60"), Map.of(), dir);

        assertThat(process.stop(10)).isTrue();
        assertThat(process.isAlive()).isFalse();
    }

    @Test
    void stopKillsAProcessThatIgnoresSigterm() {
        // An ignored signal stays ignored across exec: sleep itself ignores SIGTERM.
        process = ManagedProcess.start("stubborn", List.of("sh", "-c", "trap '' TERM; echo trapped; exec sleep 60"),
                Map.of(), dir);
        awaitLogLine(process, "trapped");

        assertThat(process.stop(1)).isFalse();
        assertThat(process.isAlive()).isFalse();
    }

    @Test
    void aProcessThatExitedButIsNotReapedByItsParentHasStoppedAndIsNotFoundAgain() {
        // Its parent never reaps it, as a container's first process that is not an init: sh starts the child, prints
        // its pid and becomes `sleep 60`, which never waits for children.
        process = ManagedProcess.start("parent", List.of("sh", "-c", "sleep 60 & echo child $!; exec sleep 60"),
                Map.of(), dir);
        awaitLogLine(process, "child ");
        long pid = Long.parseLong(process.tail(1).replace("child", "").trim());
        child = ManagedProcess.attach("child", pid, 0, dir.resolve("child.log")).orElseThrow();
        assertThat(child.isAlive()).isTrue();

        assertThat(child.stop(10)).as("it exited on SIGTERM, within the grace period").isTrue();
        assertThat(ManagedProcess.zombie(pid)).as("exited, not reaped: a zombie").isTrue();
        assertThat(child.isAlive()).isFalse();
        assertThat(ManagedProcess.attach("child", pid, 0, dir.resolve("child.log"))).isEmpty();
    }

    @Test
    void theOutputGoesToTheLogAndItsTailIsQuoted() {
        process = ManagedProcess.start("talker", List.of("sh", "-c", "for i in 1 2 3 4; do echo line $i; done"),
                Map.of(), dir);
        awaitLogLine(process, "line 4");

        assertThat(process.tail(2)).isEqualTo("line 3\nline 4");
        assertThat(process.log()).isEqualTo(dir.resolve("talker.log"));
    }

    /** Waits (at most 10 s) until a line appears in a process's log. */
    private static void awaitLogLine(ManagedProcess p, String line) {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!p.tail(100).contains(line)) {
            assertThat(System.nanoTime()).as("'%s' in %s", line, p.log()).isLessThan(deadline);
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }
}
