package io.strata.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.strata.client.StrataException;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class ConsumeLoopsTest {
    @Test
    void aReadingCommandGoesOnAfterAFailureNoNodeCouldHelpNowAndSaysSoOnOneLine() {
        for (Status.Code code : new Status.Code[] {Status.Code.UNAVAILABLE, Status.Code.DEADLINE_EXCEEDED,
                Status.Code.RESOURCE_EXHAUSTED, Status.Code.CANCELLED}) {
            StringWriter err = new StringWriter();
            assertThat(ConsumeLoops.goesOnAfter(new StrataException(code, "store did not answer\nin time"),
                    new PrintWriter(err))).as(code.name()).isTrue();
            assertThat(err.toString()).as(code.name()).hasLineCount(1)
                    .startsWith("strata: store did not answer in time").contains("reading on");
        }
    }

    @Test
    void aFailureAnyNodeWouldGiveOrNobodyForesawEndsTheCommand() {
        for (Status.Code code : new Status.Code[] {Status.Code.NOT_FOUND, Status.Code.PERMISSION_DENIED,
                Status.Code.INVALID_ARGUMENT, Status.Code.OUT_OF_RANGE, Status.Code.INTERNAL, Status.Code.UNKNOWN,
                Status.Code.ABORTED}) {
            StringWriter err = new StringWriter();
            assertThat(ConsumeLoops.goesOnAfter(new StrataException(code, "no"), new PrintWriter(err)))
                    .as(code.name()).isFalse();
            assertThat(err.toString()).as("said once, by the command's own error line").isEmpty();
        }
    }
}
