package io.strata.queues.filter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RecordFilterTest {
    private static boolean passes(String expression, Map<String, String> headers) {
        return RecordFilter.expression(expression).matches(headers::get);
    }

    @Test
    void comparesHeadersWithNumbersAsNumbersAndWithStringsAsText() {
        Map<String, String> r = Map.of("level", "10", "region", "eu-west", "debug", "TRUE");
        assertThat(passes("level > 9", r)).isTrue(); // as text, "10" < "9"
        assertThat(passes("level >= 10.0 AND level <= 1e1", r)).isTrue();
        assertThat(passes("level = '10'", r)).isTrue();
        assertThat(passes("level > '9'", r)).as("text order").isFalse();
        assertThat(passes("region = 'eu-west'", r)).isTrue();
        assertThat(passes("region <> 'eu-west'", r)).isFalse();
        assertThat(passes("region != 'us'", r)).isTrue();
        assertThat(passes("debug = TRUE", r)).isTrue();
        assertThat(passes("debug <> FALSE", r)).isTrue();
        assertThat(passes("5 < level", r)).as("a literal on the left").isTrue();
        assertThat(passes("level BETWEEN 5 AND 10", r)).isTrue();
        assertThat(passes("level NOT BETWEEN 5 AND 10", r)).isFalse();
        assertThat(passes("region IN ('us', 'eu-west')", r)).isTrue();
        assertThat(passes("region NOT IN ('us', 'eu-west')", r)).isFalse();
        assertThat(passes("level IN (1, 10.00)", r)).isTrue();
    }

    @Test
    void aMissingHeaderIsUnknownSoNeitherAConditionNorItsNegationPassesIt() {
        Map<String, String> r = Map.of("region", "eu");
        assertThat(passes("level > 3", r)).isFalse();
        assertThat(passes("NOT (level > 3)", r)).isFalse();
        assertThat(passes("level IS NULL", r)).isTrue();
        assertThat(passes("region IS NOT NULL", r)).isTrue();
        assertThat(passes("level > 3 OR region = 'eu'", r)).as("UNKNOWN or TRUE").isTrue();
        assertThat(passes("level > 3 AND region = 'eu'", r)).isFalse();
        assertThat(passes("level NOT IN (1, 2)", r)).isFalse();
        assertThat(passes("region > 3", r)).as("text that is not a number, compared with one").isFalse();
        assertThat(passes("NOT (region > 3)", r)).isFalse();
    }

    @Test
    void keywordsTakeAnyCaseAndQuotedNamesTakeAnyHeader() {
        Map<String, String> r = Map.of("content-type", "json", "it's", "x", "AND", "y");
        assertThat(passes("\"content-type\" = 'json' and \"AND\" = 'y'", r)).isTrue();
        assertThat(passes("\"it's\" in ('x')", r)).isTrue();
        assertThat(passes("true", r)).isTrue();
        assertThat(passes("FALSE or NOT false", r)).isTrue();
    }

    @Test
    void tagsPassRecordsCarryingOneOfThemAndCombineWithTheExpression() {
        RecordFilter tags = RecordFilter.of(List.of("a", "b"), "");
        assertThat(tags.matches(Map.of("tag", "a")::get)).isTrue();
        assertThat(tags.matches(Map.of("tag", "c")::get)).isFalse();
        assertThat(tags.matches(Map.<String, String>of()::get)).isFalse();
        RecordFilter both = RecordFilter.of(List.of("a"), "n > 1");
        assertThat(both.matches(Map.of("tag", "a", "n", "2")::get)).isTrue();
        assertThat(both.matches(Map.of("tag", "a", "n", "1")::get)).isFalse();
        assertThat(RecordFilter.of(List.of(), " ").all()).isTrue();
    }

    @Test
    void aFilterThatDoesNotParseNamesItsColumn() {
        assertColumn("level >", 8, "expected a header name or a value after '>', found the end");
        assertColumn("level 3", 7, "expected a comparison");
        assertColumn("a = 1 AND", 10, "expected a header name or a value");
        assertColumn("(a = 1", 7, "')' closing the '(' at column 1");
        assertColumn("a = 'x", 5, "string not closed");
        assertColumn("a IN (1, 2", 11, "closing the IN list opened at column 6");
        assertColumn("a = 1 b = 2", 7, "unexpected 'b' (AND or OR expected)");
        assertColumn("a ! 1", 3, "'!' is not an operator");
        assertColumn("a = 1 ; DROP", 7, "unexpected character ';'");
        assertColumn("a < TRUE", 3, "TRUE and FALSE compare with = and <> only");
        assertColumn("a IS 3", 6, "NULL after IS");
        assertColumn("a BETWEEN 1 OR 2", 13, "AND between BETWEEN's two ends");
        assertColumn("1.2.3 = a", 1, "'1.2.3' is not a number");
        assertColumn("AND = 1", 1, "expected a header name or a value, found 'AND'");
    }

    @Test
    void hostileFiltersAreRefusedNotFollowedIntoTheStack() {
        String deep = "(".repeat(10_000) + "a = 1" + ")".repeat(10_000);
        assertThatThrownBy(() -> RecordFilter.expression(deep)).isInstanceOf(FilterSyntaxException.class)
                .hasMessageContaining("characters long");
        String nested = "(".repeat(100) + "a = 1" + ")".repeat(100);
        assertThatThrownBy(() -> RecordFilter.expression(nested)).isInstanceOf(FilterSyntaxException.class)
                .hasMessageContaining("nested more than 64 deep");
        String nots = "NOT ".repeat(200) + "a = 1";
        assertThatThrownBy(() -> RecordFilter.expression(nots)).isInstanceOf(FilterSyntaxException.class)
                .hasMessageContaining("nested more than 64 deep");
        assertThatThrownBy(() -> RecordFilter.of(List.of(""), null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> RecordFilter.expression("x = 1e999999999")).isInstanceOf(FilterSyntaxException.class);
    }

    @Test
    void aParsedFilterWrittenOutParsesBackWithinTheNestingBound() {
        for (String source : List.of("NOT ".repeat(60) + "a = 1", "(".repeat(60) + "a = 1 OR b = 2" + ")".repeat(60),
                "TRUE NOT IN ('x') AND FALSE NOT BETWEEN 1 AND 2 OR NOT TRUE")) {
            Expression tree = FilterParser.parse(source);
            assertThat(FilterParser.parse(tree.render())).as(source).isEqualTo(tree);
        }
        assertColumn("a BETWEEN TRUE AND 2", 11, "BETWEEN takes numbers or strings, not 'TRUE'");
    }

    private static void assertColumn(String expression, int column, String message) {
        assertThatThrownBy(() -> RecordFilter.expression(expression)).isInstanceOf(FilterSyntaxException.class)
                .hasMessageContaining(message).hasMessageEndingWith("at column " + column)
                .satisfies(e -> assertThat(((FilterSyntaxException) e).column()).isEqualTo(column));
    }
}
