package io.strata.server.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StoppingGuardTest {
    /** A call that records how it was closed. */
    private static final class RecordedCall extends ServerCall<String, String> {
        final List<Status> closed = new ArrayList<>();

        @Override
        public void request(int numMessages) {
        }

        @Override
        public void sendHeaders(Metadata headers) {
        }

        @Override
        public void sendMessage(String message) {
        }

        @Override
        public void close(Status status, Metadata trailers) {
            closed.add(status);
        }

        @Override
        public boolean isCancelled() {
            return false;
        }

        @Override
        public MethodDescriptor<String, String> getMethodDescriptor() {
            return null;
        }
    }

    @Test
    void itIsTheOutermostInterceptorAndTheGrpcServerHoldsItWithoutAContainerProxy() {
        assertThat(new StoppingGuard().getPriority()).isGreaterThan(new StatusBounds().getPriority())
                .isGreaterThan(new io.strata.server.security.CallGuard().getPriority())
                .isGreaterThan(new io.strata.server.quota.QuotaGuard().getPriority());
        assertThat(StoppingGuard.class).hasAnnotation(jakarta.inject.Singleton.class)
                .hasAnnotation(io.quarkus.grpc.GlobalInterceptor.class);
    }

    @Test
    void callsGoOnToTheServiceUntilTheNodeStopsAndAreRefusedUnavailableFromThenOnWithoutReachingIt() {
        StoppingGuard guard = new StoppingGuard();
        List<ServerCall<String, String>> started = new ArrayList<>();
        RecordedCall before = new RecordedCall();
        guard.interceptCall(before, new Metadata(), (call, headers) -> {
            started.add(call);
            return new ServerCall.Listener<>() {
            };
        });
        assertThat(started).containsExactly(before);
        assertThat(before.closed).isEmpty();

        guard.stop(null);
        RecordedCall after = new RecordedCall();
        guard.interceptCall(after, new Metadata(), (call, headers) -> {
            started.add(call);
            return new ServerCall.Listener<>() {
            };
        });

        assertThat(started).containsExactly(before);
        assertThat(after.closed).singleElement().satisfies(status -> {
            assertThat(status.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
            assertThat(status.getDescription()).contains("stopping");
        });
    }
}
