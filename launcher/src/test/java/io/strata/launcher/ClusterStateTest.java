package io.strata.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClusterStateTest {
    @TempDir
    Path dir;

    private ManagedProcess sleeper;

    @AfterEach
    void stopSleeper() {
        if (sleeper != null) {
            sleeper.kill();
        }
    }

    @Test
    void membersAndTheirProcessesSurviveAWriteAndARead() {
        Member etcd = new Member("etcd", Role.ETCD, 2379, 2379,
                List.of("/usr/bin/etcd", "--name", "with space", "--empty", ""), dir.resolve("etcd"));
        // Its process runs the member's program (checked when it is found again): here, sleep.
        Member ingest = new Member("ingest-1", Role.INGEST, 9400, 9401,
                List.of("/bin/sleep", "-Dstrata.roles=ingest", "with space", ""), dir.resolve("ingest-1"));
        ClusterState state = new ClusterState(dir, List.of(etcd, ingest));
        sleeper = ManagedProcess.startDetached("ingest-1", List.of("sleep", "60"), Map.of(), dir.resolve("ingest-1"));
        state.started(ingest, sleeper);

        ClusterState read = ClusterState.read(dir).orElseThrow();

        assertThat(read.members()).containsExactly(etcd, ingest);
        assertThat(read.process(ingest)).get().extracting(ManagedProcess::pid).isEqualTo(sleeper.pid());
        assertThat(read.process(etcd)).isEmpty(); // never started
    }

    @Test
    void aMemberWhoseProcessExitedHasNoProcess() {
        Member fetch = new Member("fetch-1", Role.FETCH, 9402, 9403, List.of("sleep"), dir.resolve("fetch-1"));
        ClusterState state = new ClusterState(dir, List.of(fetch));
        sleeper = ManagedProcess.startDetached("fetch-1", List.of("sleep", "60"), Map.of(), dir.resolve("fetch-1"));
        state.started(fetch, sleeper);
        sleeper.kill();

        assertThat(ClusterState.read(dir).orElseThrow().process(fetch)).isEmpty();
    }

    @Test
    void aFolderWithoutStateHoldsNoCluster() {
        assertThat(ClusterState.read(dir)).isEmpty();
    }
}
