package io.strata.queues.share;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class StateRunTest {
    @Test
    void aDeadLetteringRunsNoteIsCutToItsBoundInBytesAtACharactersEdge() {
        String reason = "rejected\n";
        StateRun ascii = new StateRun(0, 0, DeliveryState.DEAD_LETTERING, 5, null, 0, reason + "e".repeat(5_000));
        assertThat(ascii.note().getBytes(StandardCharsets.UTF_8)).hasSize(StateRun.MAX_NOTE_BYTES);
        assertThat(ascii.reason()).isEqualTo("rejected");
        // Three bytes a character: cut before the character that would not fit whole.
        StateRun wide = new StateRun(0, 0, DeliveryState.DEAD_LETTERING, 5, null, 0, reason + "錯".repeat(1_000));
        byte[] bytes = wide.note().getBytes(StandardCharsets.UTF_8);
        assertThat(bytes.length).isLessThanOrEqualTo(StateRun.MAX_NOTE_BYTES).isGreaterThan(StateRun.MAX_NOTE_BYTES - 3);
        assertThat(wide.note()).endsWith("錯").doesNotContain("\uFFFD");
        StateRun shortNote = new StateRun(0, 0, DeliveryState.DEAD_LETTERING, 5, null, 0, reason + "timeout");
        assertThat(shortNote.note()).isEqualTo("rejected\ntimeout");
    }
}
