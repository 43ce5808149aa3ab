package io.strata.queues.filter;

/** A filter that does not parse: what was expected, and the column (from 1) where it was not found. */
public final class FilterSyntaxException extends IllegalArgumentException {
    private final int column;

    public FilterSyntaxException(String message, int column) {
        super("filter: " + message + " at column " + column);
        this.column = column;
    }

    /** Where the filter went wrong, counting characters from 1. */
    public int column() {
        return column;
    }
}
