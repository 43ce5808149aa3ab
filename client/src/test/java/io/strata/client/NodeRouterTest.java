package io.strata.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The router's choice of home node: where calls any node answers go. */
class NodeRouterTest {
    private static final List<String> NODES = List.of("127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3");

    /** A router that dials nodes itself (no channel is ever made: the tests make no calls). */
    private static NodeRouter router() {
        return new NodeRouter(null, NODES, address -> null, Duration.ofSeconds(5), Duration.ofMinutes(1));
    }

    @Test
    void aHomeThatRefusedAJoinForNowHandsHomeToTheNextNodeRound() {
        NodeRouter router = router();
        assertThat(router.home()).isEqualTo(NODES.get(0));

        router.passHomeOver();
        assertThat(router.home()).isEqualTo(NODES.get(1));
        router.passHomeOver();
        assertThat(router.home()).isEqualTo(NODES.get(2));
        router.passHomeOver();
        assertThat(router.home()).isEqualTo(NODES.get(0));
    }

    @Test
    void passingHomeOverSkipsNodesMarkedDownAndKeepsTheRefusingNodeLive() {
        NodeRouter router = router();
        router.markDown(NODES.get(1));

        router.passHomeOver();

        assertThat(router.home()).isEqualTo(NODES.get(2));
        assertThat(router.isDown(NODES.get(0))).as("the node that refused still serves its role").isFalse();
    }
}
