package io.strata.queues.filter;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Random filters, written out as text and parsed back, decide every random record as a separate, plain
 * evaluation of the same tree does (SQL's three-valued logic spelled out with Optional), and parse back to the
 * tree they came from.
 */
class FilterPropertiesTest {
    private static final List<String> NAMES = List.of("a", "b", "level", "content-type", "AND");
    private static final List<String> VALUES = List.of("1", "2", "10", "-3.5", "x", "eu", "true", "FALSE", "", "1e1");

    @Property(tries = 2000)
    void aParsedFilterDecidesAsThePlainEvaluationOfItsTree(@ForAll("expressions") Expression tree,
                                                           @ForAll("records") Map<String, String> record) {
        Expression parsed = FilterParser.parse(tree.render());
        assertThat(parsed).as(tree.render()).isEqualTo(tree);
        Optional<Boolean> expected = reference(tree, record);
        assertThat(RecordFilter.expression(tree.render()).matches(record::get)).as("%s on %s", tree.render(), record)
                .isEqualTo(expected.orElse(false));
    }

    @Provide
    Arbitrary<Map<String, String>> records() {
        return Arbitraries.maps(Arbitraries.of(NAMES), Arbitraries.of(VALUES)).ofMaxSize(NAMES.size())
                .map(HashMap::new);
    }

    @Provide
    Arbitrary<Expression> expressions() {
        return expression(3);
    }

    private Arbitrary<Expression> expression(int depth) {
        Arbitrary<Expression> leaf = Arbitraries.oneOf(compare(), isNull(), in(), between());
        if (depth == 0) {
            return leaf;
        }
        Arbitrary<Expression> inner = expression(depth - 1);
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(3, leaf),
                net.jqwik.api.Tuple.of(1, inner.map(Expression.Not::new)),
                net.jqwik.api.Tuple.of(1, inner.list().ofMinSize(2).ofMaxSize(3).map(Expression.And::new)),
                net.jqwik.api.Tuple.of(1, inner.list().ofMinSize(2).ofMaxSize(3).map(Expression.Or::new)));
    }

    private Arbitrary<Expression.Literal> literal() {
        return Arbitraries.oneOf(
                Arbitraries.of(VALUES).map(v -> (Expression.Literal) new Expression.Text(v)),
                Arbitraries.of("1", "2", "10", "-3.5", "0.5", "1E+1").map(n -> new Expression.Number(new BigDecimal(n))),
                Arbitraries.of(true, false).map(Expression.Bool::new));
    }

    private Arbitrary<Expression.Operand> header() {
        return Arbitraries.of(NAMES).map(Expression.HeaderRef::new);
    }

    private Arbitrary<Expression> compare() {
        return Combinators.combine(header(), Arbitraries.of(Expression.Comparison.values()), literal(),
                Arbitraries.of(true, false)).as((h, op, l, headerFirst) -> {
            if (l instanceof Expression.Bool && op != Expression.Comparison.EQ && op != Expression.Comparison.NE) {
                op = Expression.Comparison.EQ;
            }
            return headerFirst ? new Expression.Compare(h, op, l) : new Expression.Compare(l, op, h);
        });
    }

    private Arbitrary<Expression> isNull() {
        return Combinators.combine(header(), Arbitraries.of(true, false)).as(Expression.IsNull::new);
    }

    private Arbitrary<Expression> in() {
        return Combinators.combine(header(), literal().list().ofMinSize(1).ofMaxSize(3), Arbitraries.of(true, false))
                .as(Expression.In::new);
    }

    private Arbitrary<Expression> between() {
        return Combinators.combine(header(), literal().filter(l -> !(l instanceof Expression.Bool)),
                literal().filter(l -> !(l instanceof Expression.Bool)), Arbitraries.of(true, false))
                .as(Expression.Between::new);
    }

    /** The tree's value on the record: empty for UNKNOWN. Written apart from Expression, on purpose plainly. */
    private static Optional<Boolean> reference(Expression e, Map<String, String> record) {
        if (e instanceof Expression.Compare c) {
            return compare(operand(c.left(), record), c.op(), operand(c.right(), record));
        }
        if (e instanceof Expression.IsNull n) {
            return Optional.of((operand(n.operand(), record) == null) != n.negated());
        }
        if (e instanceof Expression.In in) {
            boolean unknown = false;
            for (Expression.Literal l : in.values()) {
                Optional<Boolean> eq = compare(operand(in.operand(), record), Expression.Comparison.EQ, operand(l, record));
                if (eq.isPresent() && eq.get()) {
                    return Optional.of(!in.negated());
                }
                unknown |= eq.isEmpty();
            }
            return unknown ? Optional.empty() : Optional.of(in.negated());
        }
        if (e instanceof Expression.Between b) {
            Object v = operand(b.operand(), record);
            Optional<Boolean> inside = and(List.of(compare(v, Expression.Comparison.GE, operand(b.low(), record)),
                    compare(v, Expression.Comparison.LE, operand(b.high(), record))));
            return b.negated() ? inside.map(x -> !x) : inside;
        }
        if (e instanceof Expression.Not n) {
            return reference(n.inner(), record).map(x -> !x);
        }
        if (e instanceof Expression.And a) {
            List<Optional<Boolean>> parts = new ArrayList<>();
            a.parts().forEach(p -> parts.add(reference(p, record)));
            return and(parts);
        }
        if (e instanceof Expression.Or o) {
            boolean unknown = false;
            for (Expression p : o.parts()) {
                Optional<Boolean> v = reference(p, record);
                if (v.isPresent() && v.get()) {
                    return Optional.of(true);
                }
                unknown |= v.isEmpty();
            }
            return unknown ? Optional.empty() : Optional.of(false);
        }
        return Optional.of(((Expression.Constant) e).value());
    }

    private static Optional<Boolean> and(List<Optional<Boolean>> parts) {
        if (parts.stream().anyMatch(p -> p.isPresent() && !p.get())) {
            return Optional.of(false);
        }
        return parts.stream().allMatch(Optional::isPresent) ? Optional.of(true) : Optional.empty();
    }

    private static Object operand(Expression.Operand o, Map<String, String> record) {
        if (o instanceof Expression.HeaderRef h) {
            return record.get(h.name());
        }
        if (o instanceof Expression.Text t) {
            return t.value();
        }
        if (o instanceof Expression.Number n) {
            return n.value();
        }
        return ((Expression.Bool) o).value();
    }

    /** Header text meets a number as a number, a boolean as true/false, text as text; anything else is unknown. */
    private static Optional<Boolean> compare(Object l, Expression.Comparison op, Object r) {
        if (l == null || r == null) {
            return Optional.empty();
        }
        if (!(l instanceof String) && r instanceof String) {
            return compare(r, mirror(op), l);
        }
        if (!(l instanceof String) && l.getClass() != r.getClass()) {
            return Optional.empty(); // a number against a boolean
        }
        int order;
        if (l instanceof String ls && r instanceof String rs) {
            order = ls.compareTo(rs);
        } else if (r instanceof BigDecimal rn) {
            BigDecimal ln;
            if (l instanceof BigDecimal b) {
                ln = b;
            } else {
                try {
                    ln = new BigDecimal((String) l);
                } catch (NumberFormatException e) {
                    return Optional.empty();
                }
            }
            order = ln.compareTo(rn);
        } else if (r instanceof Boolean rb) {
            Boolean lb = l instanceof Boolean b ? b : "true".equalsIgnoreCase((String) l) ? Boolean.TRUE
                    : "false".equalsIgnoreCase((String) l) ? Boolean.FALSE : null;
            if (lb == null || (op != Expression.Comparison.EQ && op != Expression.Comparison.NE)) {
                return Optional.empty();
            }
            return Optional.of((lb.equals(rb)) == (op == Expression.Comparison.EQ));
        } else {
            return Optional.empty(); // a number against a boolean
        }
        return Optional.of(switch (op) {
            case EQ -> order == 0;
            case NE -> order != 0;
            case LT -> order < 0;
            case GT -> order > 0;
            case LE -> order <= 0;
            case GE -> order >= 0;
        });
    }

    private static Expression.Comparison mirror(Expression.Comparison op) {
        return switch (op) {
            case LT -> Expression.Comparison.GT;
            case GT -> Expression.Comparison.LT;
            case LE -> Expression.Comparison.GE;
            case GE -> Expression.Comparison.LE;
            default -> op;
        };
    }
}
