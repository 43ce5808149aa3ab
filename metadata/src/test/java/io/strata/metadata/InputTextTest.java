package io.strata.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class InputTextTest {
    @Test
    void escapedTextStaysOnOneLineAsAJsonString() {
        StringBuilder line = new StringBuilder();

        boolean cut = InputText.appendEscaped(line, "a\"b\\c\nd\re\tf\u0007g\u2028h\u2029", 100);

        assertThat(cut).isFalse();
        assertThat(line.toString()).isEqualTo("a\\\"b\\\\c\\nd\\re\\tf\\u0007g\\u2028h\\u2029");
    }

    @Test
    void aCutNeverSplitsASurrogatePair() {
        StringBuilder line = new StringBuilder();

        boolean cut = InputText.appendEscaped(line, "abc\uD83D\uDE00def", 4);

        assertThat(cut).isTrue();
        assertThat(line.toString()).isEqualTo("abc");
    }
}
