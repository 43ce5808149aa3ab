package io.strata.queues.filter;

/**
 * SQL's three truth values: a comparison with a header the record lacks (or one that is not a number, compared
 * with a number) is UNKNOWN, and only TRUE delivers a record, so {@code NOT (level > 3)} does not pass a record
 * without a level.
 */
public enum Truth {
    TRUE, FALSE, UNKNOWN;

    static Truth of(boolean b) {
        return b ? TRUE : FALSE;
    }

    Truth not() {
        return switch (this) {
            case TRUE -> FALSE;
            case FALSE -> TRUE;
            case UNKNOWN -> UNKNOWN;
        };
    }

    Truth and(Truth other) {
        if (this == FALSE || other == FALSE) {
            return FALSE;
        }
        return this == TRUE && other == TRUE ? TRUE : UNKNOWN;
    }

    Truth or(Truth other) {
        if (this == TRUE || other == TRUE) {
            return TRUE;
        }
        return this == FALSE && other == FALSE ? FALSE : UNKNOWN;
    }
}
