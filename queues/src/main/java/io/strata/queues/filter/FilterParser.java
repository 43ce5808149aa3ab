package io.strata.queues.filter;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Reads the filter grammar (RocketMQ's SQL92 subset) by recursive descent:
 *
 * <pre>
 * expression := and ( OR and )*
 * and        := not ( AND not )*
 * not        := NOT not | primary
 * primary    := '(' expression ')' | TRUE | FALSE
 *             | operand ( comparison operand | IS [NOT] NULL | [NOT] IN '(' literal (',' literal)* ')'
 *                       | [NOT] BETWEEN literal AND literal )
 * comparison := '=' | '&lt;&gt;' | '!=' | '&lt;' | '&gt;' | '&lt;=' | '&gt;='
 * operand    := header | literal
 * header     := [A-Za-z_][A-Za-z0-9_.]* | '"' any, "" for " '"'
 * literal    := '\'' any, '' for ' '\'' | [-+]digits[.digits][e[-+]digits] | TRUE | FALSE
 * </pre>
 *
 * Keywords in any case. Bounded against hostile input: {@link RecordFilter#MAX_LENGTH} characters, nesting at
 * most {@link #MAX_DEPTH} deep, so a parse never exhausts the stack.
 */
final class FilterParser {
    static final int MAX_DEPTH = 64;
    static final int MAX_IN_VALUES = 1000;
    static final Set<String> KEYWORDS = Set.of("AND", "OR", "NOT", "IN", "IS", "NULL", "BETWEEN", "TRUE", "FALSE");

    private enum Kind { WORD, HEADER, TEXT, NUMBER, SYMBOL, END }

    private record Token(Kind kind, String text, int column) {
        boolean is(String keywordOrSymbol) {
            return (kind == Kind.WORD || kind == Kind.SYMBOL) && text.equalsIgnoreCase(keywordOrSymbol);
        }

        String shown() {
            return kind == Kind.END ? "the end" : "'" + (text.length() > 40 ? text.substring(0, 40) + "..." : text) + "'";
        }
    }

    private final List<Token> tokens;
    private int next;
    private int depth;

    private FilterParser(List<Token> tokens) {
        this.tokens = tokens;
    }

    static Expression parse(String source) {
        FilterParser parser = new FilterParser(tokenize(source));
        Expression e = parser.expression();
        Token end = parser.peek();
        if (end.kind != Kind.END) {
            throw new FilterSyntaxException("unexpected " + end.shown() + " (AND or OR expected)", end.column);
        }
        return e;
    }

    private Expression expression() {
        if (++depth > MAX_DEPTH) {
            throw new FilterSyntaxException("nested more than " + MAX_DEPTH + " deep", peek().column);
        }
        List<Expression> parts = new ArrayList<>(List.of(and()));
        while (peek().is("OR")) {
            next++;
            parts.add(and());
        }
        depth--;
        return parts.size() == 1 ? parts.get(0) : new Expression.Or(parts);
    }

    private Expression and() {
        List<Expression> parts = new ArrayList<>(List.of(not()));
        while (peek().is("AND")) {
            next++;
            parts.add(not());
        }
        return parts.size() == 1 ? parts.get(0) : new Expression.And(parts);
    }

    private Expression not() {
        if (peek().is("NOT")) {
            next++;
            if (++depth > MAX_DEPTH) {
                throw new FilterSyntaxException("nested more than " + MAX_DEPTH + " deep", peek().column);
            }
            Expression inner = not();
            depth--;
            return new Expression.Not(inner);
        }
        return primary();
    }

    private Expression primary() {
        Token t = peek();
        if (t.is("(")) {
            next++;
            Expression inner = expression();
            expect(")", "')' closing the '(' at column " + t.column);
            return inner;
        }
        if ((t.is("TRUE") || t.is("FALSE")) && !startsComparison(next + 1)) {
            next++;
            return new Expression.Constant(t.is("TRUE"));
        }
        Expression.Operand left = operand("a header name or a value");
        Token op = peek();
        if (op.kind == Kind.SYMBOL && comparison(op.text) != null) {
            next++;
            Expression.Operand right = operand("a header name or a value after " + op.shown());
            checkBooleanComparison(left, comparison(op.text), right, op);
            return new Expression.Compare(left, comparison(op.text), right);
        }
        if (op.is("IS")) {
            next++;
            boolean negated = accept("NOT");
            expect("NULL", "NULL after IS" + (negated ? " NOT" : ""));
            return new Expression.IsNull(left, negated);
        }
        boolean negated = accept("NOT");
        if (peek().is("IN")) {
            next++;
            Token open = expect("(", "'(' opening IN's list");
            List<Expression.Literal> values = new ArrayList<>();
            do {
                if (values.size() == MAX_IN_VALUES) {
                    throw new FilterSyntaxException("more than " + MAX_IN_VALUES + " values in IN's list", peek().column);
                }
                values.add(literal("a value in IN's list"));
            } while (accept(","));
            expect(")", "',' or ')' closing the IN list opened at column " + open.column);
            return new Expression.In(left, values, negated);
        }
        if (peek().is("BETWEEN")) {
            next++;
            Token lowAt = peek();
            Expression.Literal low = literal("the low end of BETWEEN");
            expect("AND", "AND between BETWEEN's two ends");
            Token highAt = peek();
            Expression.Literal high = literal("the high end of BETWEEN");
            if (low instanceof Expression.Bool || high instanceof Expression.Bool) {
                Token at = low instanceof Expression.Bool ? lowAt : highAt;
                throw new FilterSyntaxException("BETWEEN takes numbers or strings, not " + at.shown(), at.column);
            }
            return new Expression.Between(left, low, high, negated);
        }
        Token found = peek();
        throw new FilterSyntaxException("expected a comparison (=, <>, <, >, <=, >=, IS NULL, IN or BETWEEN) after "
                + t.shown() + (negated ? " NOT" : "") + ", found " + found.shown(), found.column);
    }

    /** Whether the token at {@code at} goes on an operand: a comparison, IS, [NOT] IN, [NOT] BETWEEN. */
    private boolean startsComparison(int at) {
        Token t = tokens.get(Math.min(at, tokens.size() - 1));
        if (t.is("NOT")) {
            Token after = tokens.get(Math.min(at + 1, tokens.size() - 1));
            return after.is("IN") || after.is("BETWEEN");
        }
        return (t.kind == Kind.SYMBOL && comparison(t.text) != null) || t.is("IS") || t.is("IN") || t.is("BETWEEN");
    }

    /** Booleans are equal or not; {@code TRUE < x} means nothing and is refused as written. */
    private static void checkBooleanComparison(Expression.Operand l, Expression.Comparison op, Expression.Operand r,
                                               Token at) {
        if ((l instanceof Expression.Bool || r instanceof Expression.Bool) && op != Expression.Comparison.EQ
                && op != Expression.Comparison.NE) {
            throw new FilterSyntaxException("TRUE and FALSE compare with = and <> only, not " + at.shown(), at.column);
        }
    }

    private static Expression.Comparison comparison(String symbol) {
        return switch (symbol) {
            case "=" -> Expression.Comparison.EQ;
            case "<>", "!=" -> Expression.Comparison.NE;
            case "<" -> Expression.Comparison.LT;
            case ">" -> Expression.Comparison.GT;
            case "<=" -> Expression.Comparison.LE;
            case ">=" -> Expression.Comparison.GE;
            default -> null;
        };
    }

    private Expression.Operand operand(String what) {
        Token t = peek();
        if (t.kind == Kind.WORD && !KEYWORDS.contains(t.text.toUpperCase(Locale.ROOT))) {
            next++;
            return new Expression.HeaderRef(t.text);
        }
        if (t.kind == Kind.HEADER) {
            next++;
            return new Expression.HeaderRef(t.text);
        }
        return literal(what);
    }

    private Expression.Literal literal(String what) {
        Token t = peek();
        switch (t.kind) {
            case TEXT -> {
                next++;
                return new Expression.Text(t.text);
            }
            case NUMBER -> {
                next++;
                return new Expression.Number(new BigDecimal(t.text));
            }
            default -> {
                if (t.is("TRUE") || t.is("FALSE")) {
                    next++;
                    return new Expression.Bool(t.is("TRUE"));
                }
                throw new FilterSyntaxException("expected " + what + ", found " + t.shown(), t.column);
            }
        }
    }

    private Token peek() {
        return tokens.get(next);
    }

    private boolean accept(String keywordOrSymbol) {
        if (peek().is(keywordOrSymbol)) {
            next++;
            return true;
        }
        return false;
    }

    private Token expect(String keywordOrSymbol, String what) {
        Token t = peek();
        if (!t.is(keywordOrSymbol)) {
            throw new FilterSyntaxException("expected " + what + ", found " + t.shown(), t.column);
        }
        next++;
        return t;
    }

    private static List<Token> tokenize(String s) {
        List<Token> out = new ArrayList<>();
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            int column = i + 1;
            if (Character.isWhitespace(c)) {
                i++;
            } else if (Character.isLetter(c) || c == '_') {
                int start = i;
                while (i < s.length() && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_'
                        || s.charAt(i) == '.')) {
                    i++;
                }
                out.add(new Token(Kind.WORD, s.substring(start, i), column));
            } else if (c == '\'' || c == '"') {
                StringBuilder text = new StringBuilder();
                i++;
                while (true) {
                    if (i >= s.length()) {
                        throw new FilterSyntaxException((c == '\'' ? "string" : "quoted header name")
                                + " not closed", column);
                    }
                    char d = s.charAt(i++);
                    if (d == c) {
                        if (i < s.length() && s.charAt(i) == c) {
                            text.append(c);
                            i++;
                        } else {
                            break;
                        }
                    } else {
                        text.append(d);
                    }
                }
                if (c == '"' && text.isEmpty()) {
                    throw new FilterSyntaxException("empty header name", column);
                }
                out.add(new Token(c == '\'' ? Kind.TEXT : Kind.HEADER, text.toString(), column));
            } else if (Character.isDigit(c) || c == '.' || ((c == '-' || c == '+') && i + 1 < s.length()
                    && (Character.isDigit(s.charAt(i + 1)) || s.charAt(i + 1) == '.'))) {
                int start = i;
                i++;
                while (i < s.length() && (Character.isDigit(s.charAt(i)) || s.charAt(i) == '.')) {
                    i++;
                }
                if (i < s.length() && (s.charAt(i) == 'e' || s.charAt(i) == 'E')) {
                    i++;
                    if (i < s.length() && (s.charAt(i) == '-' || s.charAt(i) == '+')) {
                        i++;
                    }
                    while (i < s.length() && Character.isDigit(s.charAt(i))) {
                        i++;
                    }
                }
                String number = s.substring(start, i);
                try {
                    BigDecimal parsed = new BigDecimal(number);
                    if (Math.abs((long) parsed.scale()) > 1000) {
                        throw new NumberFormatException();
                    }
                } catch (NumberFormatException | ArithmeticException e) {
                    throw new FilterSyntaxException("'" + number + "' is not a number", column);
                }
                out.add(new Token(Kind.NUMBER, number, column));
            } else if (c == '<' || c == '>' || c == '!') {
                String two = i + 1 < s.length() ? s.substring(i, i + 2) : "";
                if (two.equals("<=") || two.equals(">=") || two.equals("<>") || two.equals("!=")) {
                    out.add(new Token(Kind.SYMBOL, two, column));
                    i += 2;
                } else if (c == '!') {
                    throw new FilterSyntaxException("'!' is not an operator (NOT, or != and <> for 'not equal')", column);
                } else {
                    out.add(new Token(Kind.SYMBOL, String.valueOf(c), column));
                    i++;
                }
            } else if (c == '=' || c == '(' || c == ')' || c == ',') {
                out.add(new Token(Kind.SYMBOL, String.valueOf(c), column));
                i++;
            } else {
                throw new FilterSyntaxException("unexpected character '" + c + "'", column);
            }
        }
        out.add(new Token(Kind.END, "", s.length() + 1));
        return out;
    }
}
