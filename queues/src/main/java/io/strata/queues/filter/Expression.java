package io.strata.queues.filter;

import java.math.BigDecimal;
import java.util.List;
import java.util.Objects;

/**
 * A parsed filter expression: a tree of immutable nodes, evaluated over one record's headers. Values are the
 * headers' UTF-8 text; a number literal compares a header as a decimal number, a string literal as text (Java's
 * string order, by UTF-16 code unit, for {@code <} and {@code >}), a boolean literal as {@code true}/{@code false}
 * in any case.
 */
public sealed interface Expression {
    Truth evaluate(RecordFilter.Headers headers);

    /** The expression as text that parses back to an equal expression. */
    String render();

    /** A record's header by name, or a literal. */
    sealed interface Operand {
        String render();
    }

    record HeaderRef(String name) implements Operand {
        public HeaderRef {
            Objects.requireNonNull(name);
        }

        @Override
        public String render() {
            return name.matches("[A-Za-z_][A-Za-z0-9_.]*") && !FilterParser.KEYWORDS.contains(name.toUpperCase(
                    java.util.Locale.ROOT)) ? name : "\"" + name.replace("\"", "\"\"") + "\"";
        }
    }

    /** A string, number or boolean constant. */
    sealed interface Literal extends Operand {
    }

    record Text(String value) implements Literal {
        public Text {
            Objects.requireNonNull(value);
        }

        @Override
        public String render() {
            return "'" + value.replace("'", "''") + "'";
        }
    }

    record Number(BigDecimal value) implements Literal {
        public Number {
            Objects.requireNonNull(value);
        }

        @Override
        public String render() {
            return value.toString();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Number n && n.value.compareTo(value) == 0;
        }

        @Override
        public int hashCode() {
            return value.stripTrailingZeros().hashCode();
        }
    }

    record Bool(boolean value) implements Literal {
        @Override
        public String render() {
            return value ? "TRUE" : "FALSE";
        }
    }

    enum Comparison {
        EQ("="), NE("<>"), LT("<"), GT(">"), LE("<="), GE(">=");

        final String symbol;

        Comparison(String symbol) {
            this.symbol = symbol;
        }

        boolean holds(int order) {
            return switch (this) {
                case EQ -> order == 0;
                case NE -> order != 0;
                case LT -> order < 0;
                case GT -> order > 0;
                case LE -> order <= 0;
                case GE -> order >= 0;
            };
        }

        /** The comparison with its sides swapped: {@code 3 < x} is {@code x > 3}. */
        Comparison flipped() {
            return switch (this) {
                case LT -> GT;
                case GT -> LT;
                case LE -> GE;
                case GE -> LE;
                default -> this;
            };
        }
    }

    record Compare(Operand left, Comparison op, Operand right) implements Expression, Leaf {
        @Override
        public Truth evaluate(RecordFilter.Headers headers) {
            return compare(value(left, headers), op, value(right, headers));
        }

        @Override
        public String render() {
            return left.render() + " " + op.symbol + " " + right.render();
        }
    }

    record IsNull(Operand operand, boolean negated) implements Expression, Leaf {
        @Override
        public Truth evaluate(RecordFilter.Headers headers) {
            return Truth.of((value(operand, headers) == null) != negated);
        }

        @Override
        public String render() {
            return operand.render() + (negated ? " IS NOT NULL" : " IS NULL");
        }
    }

    record In(Operand operand, List<Literal> values, boolean negated) implements Expression, Leaf {
        public In {
            values = List.copyOf(values);
        }

        @Override
        public Truth evaluate(RecordFilter.Headers headers) {
            Object v = value(operand, headers);
            Truth any = Truth.FALSE;
            for (Literal l : values) {
                any = any.or(compare(v, Comparison.EQ, value(l, headers)));
                if (any == Truth.TRUE) {
                    break;
                }
            }
            return negated ? any.not() : any;
        }

        @Override
        public String render() {
            StringBuilder b = new StringBuilder(operand.render()).append(negated ? " NOT IN (" : " IN (");
            for (int i = 0; i < values.size(); i++) {
                b.append(i == 0 ? "" : ", ").append(values.get(i).render());
            }
            return b.append(')').toString();
        }
    }

    record Between(Operand operand, Literal low, Literal high, boolean negated) implements Expression, Leaf {
        @Override
        public Truth evaluate(RecordFilter.Headers headers) {
            Object v = value(operand, headers);
            Truth in = compare(v, Comparison.GE, value(low, headers)).and(compare(v, Comparison.LE, value(high, headers)));
            return negated ? in.not() : in;
        }

        @Override
        public String render() {
            return operand.render() + (negated ? " NOT BETWEEN " : " BETWEEN ") + low.render() + " AND " + high.render();
        }
    }

    record Not(Expression inner) implements Expression {
        @Override
        public Truth evaluate(RecordFilter.Headers headers) {
            return inner.evaluate(headers).not();
        }

        @Override
        public String render() {
            // NOT binds to what follows it, a condition or another NOT: no parentheses needed, none spent.
            return inner instanceof Leaf || inner instanceof Not ? "NOT " + inner.render()
                    : "NOT (" + inner.render() + ")";
        }
    }

    record And(List<Expression> parts) implements Expression {
        public And {
            parts = List.copyOf(parts);
        }

        @Override
        public Truth evaluate(RecordFilter.Headers headers) {
            Truth t = Truth.TRUE;
            for (Expression e : parts) {
                t = t.and(e.evaluate(headers));
                if (t == Truth.FALSE) {
                    break;
                }
            }
            return t;
        }

        @Override
        public String render() {
            return joined(parts, " AND ");
        }
    }

    record Or(List<Expression> parts) implements Expression {
        public Or {
            parts = List.copyOf(parts);
        }

        @Override
        public Truth evaluate(RecordFilter.Headers headers) {
            Truth t = Truth.FALSE;
            for (Expression e : parts) {
                t = t.or(e.evaluate(headers));
                if (t == Truth.TRUE) {
                    break;
                }
            }
            return t;
        }

        @Override
        public String render() {
            return joined(parts, " OR ");
        }
    }

    /** TRUE or FALSE itself, as a whole condition. */
    record Constant(boolean value) implements Expression, Leaf {
        @Override
        public Truth evaluate(RecordFilter.Headers headers) {
            return Truth.of(value);
        }

        @Override
        public String render() {
            return value ? "TRUE" : "FALSE";
        }
    }

    /** A condition that binds tighter than NOT, AND and OR: written without parentheses around it. */
    sealed interface Leaf {
    }

    private static String joined(List<Expression> parts, String operator) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < parts.size(); i++) {
            Expression part = parts.get(i);
            b.append(i == 0 ? "" : operator);
            if (part instanceof Leaf) {
                b.append(part.render());
            } else {
                b.append('(').append(part.render()).append(')');
            }
        }
        return b.toString();
    }

    /** A header's text (null when absent) or a literal's value (String, BigDecimal or Boolean). */
    private static Object value(Operand operand, RecordFilter.Headers headers) {
        if (operand instanceof HeaderRef h) {
            return headers.value(h.name());
        }
        if (operand instanceof Text t) {
            return t.value();
        }
        return operand instanceof Number n ? n.value() : (Object) ((Bool) operand).value();
    }

    /**
     * Compares two values. A header's text meets a literal on the literal's terms (a number, a boolean, text);
     * two texts compare as text. Absent values, and text that is not the number or boolean it is compared with,
     * are UNKNOWN.
     */
    static Truth compare(Object left, Comparison op, Object right) {
        if (left == null || right == null) {
            return Truth.UNKNOWN;
        }
        if (left instanceof String l && right instanceof String r) {
            return Truth.of(op.holds(Integer.signum(l.compareTo(r))));
        }
        if (left instanceof String) {
            return compare(right, op.flipped(), left);
        }
        if (left instanceof BigDecimal l) {
            BigDecimal r = right instanceof BigDecimal b ? b : right instanceof String s ? number(s) : null;
            return r == null ? Truth.UNKNOWN : Truth.of(op.holds(l.compareTo(r)));
        }
        if (left instanceof Boolean l) {
            Boolean r = right instanceof Boolean b ? b : right instanceof String s ? bool(s) : null;
            if (r == null || (op != Comparison.EQ && op != Comparison.NE)) {
                return Truth.UNKNOWN;
            }
            return Truth.of(op.holds(l.equals(r) ? 0 : 1));
        }
        return Truth.UNKNOWN;
    }

    private static BigDecimal number(String s) {
        if (s.isEmpty() || s.length() > 100) {
            return null;
        }
        char c = s.charAt(0);
        if (!(c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9'))) {
            return null;
        }
        try {
            return new BigDecimal(s.trim());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static Boolean bool(String s) {
        if (s.equalsIgnoreCase("true")) {
            return true;
        }
        return s.equalsIgnoreCase("false") ? false : null;
    }
}
