package io.strata.queues.filter;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Which records a subscription wants: those whose {@value #TAG_HEADER} header is one of a set of tags (RocketMQ's
 * {@code TagA || TagB}), and that an expression over their headers holds TRUE for ({@link FilterParser} has the
 * grammar); either may be absent, both must hold when given. Immutable and thread-safe; evaluating touches only
 * the headers it names.
 */
public final class RecordFilter {
    /** The header a record's tag travels in (`strata produce --tag`). */
    public static final String TAG_HEADER = "tag";
    /** Longest expression taken, in characters. */
    public static final int MAX_LENGTH = 4096;
    /** Most tags one filter lists, and the longest tag. */
    public static final int MAX_TAGS = 1000;
    public static final int MAX_TAG_LENGTH = 256;

    /** Every record. */
    public static final RecordFilter ALL = new RecordFilter(Set.of(), null);

    /** A record's headers as the filter reads them: the UTF-8 text of the last header named {@code key}, or null. */
    @FunctionalInterface
    public interface Headers {
        String value(String key);
    }

    private final Set<String> tags;
    private final Expression expression;

    private RecordFilter(Set<String> tags, Expression expression) {
        this.tags = tags;
        this.expression = expression;
    }

    /**
     * The filter of these tags (none: any record) and this expression (empty: any record). Throws
     * {@link FilterSyntaxException}, naming the column, when the expression does not parse, and
     * IllegalArgumentException for tags past the bounds.
     */
    public static RecordFilter of(Collection<String> tags, String expression) {
        if (tags.size() > MAX_TAGS) {
            throw new IllegalArgumentException("filter: " + tags.size() + " tags, at most " + MAX_TAGS);
        }
        Set<String> kept = new LinkedHashSet<>();
        for (String t : tags) {
            if (t.isEmpty() || t.length() > MAX_TAG_LENGTH) {
                throw new IllegalArgumentException("filter: a tag is 1 to " + MAX_TAG_LENGTH + " characters, not "
                        + t.length());
            }
            kept.add(t);
        }
        Expression parsed = null;
        if (expression != null && !expression.isBlank()) {
            if (expression.length() > MAX_LENGTH) {
                throw new FilterSyntaxException("the expression is " + expression.length() + " characters long, at most "
                        + MAX_LENGTH, MAX_LENGTH + 1);
            }
            parsed = FilterParser.parse(expression);
        }
        return kept.isEmpty() && parsed == null ? ALL : new RecordFilter(Set.copyOf(kept), parsed);
    }

    /** The filter of an expression alone. */
    public static RecordFilter expression(String expression) {
        return of(List.of(), expression);
    }

    /** Whether this filter passes every record (nothing to evaluate). */
    public boolean all() {
        return this == ALL;
    }

    public boolean matches(Headers headers) {
        if (!tags.isEmpty()) {
            String tag = headers.value(TAG_HEADER);
            if (tag == null || !tags.contains(tag)) {
                return false;
            }
        }
        return expression == null || expression.evaluate(headers) == Truth.TRUE;
    }

    /**
     * The tags a record must carry one of to pass, or empty when the filter does not require a tag: what a chunk's
     * tag summary is checked against.
     */
    public Set<String> requiredTags() {
        return tags;
    }

    /** The parsed expression, or null. */
    public Expression expressionTree() {
        return expression;
    }

    @Override
    public String toString() {
        List<String> parts = new ArrayList<>();
        if (!tags.isEmpty()) {
            parts.add("tags " + tags);
        }
        if (expression != null) {
            parts.add(expression.render());
        }
        return parts.isEmpty() ? "all records" : String.join(" and ", parts);
    }
}
