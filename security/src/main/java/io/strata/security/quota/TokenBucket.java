package io.strata.security.quota;

/**
 * A rate in units per second with one second of burst. What is taken beyond the tokens there are becomes debt, and
 * the debt is how long the taker must wait: a client held back by that long (its next request, or its answer)
 * keeps to the rate whatever its request sizes or pipelining. Debt is bounded ({@link #MAX_DEBT_SECONDS}) so one
 * huge request is not paid for for ever. Thread-safe; the caller gives the time (System.nanoTime()).
 */
public final class TokenBucket {
    static final double MAX_DEBT_SECONDS = 30;
    private double rate;
    private double tokens;
    private long last;

    public TokenBucket(double ratePerSecond, long now) {
        if (!(ratePerSecond > 0)) {
            throw new IllegalArgumentException("a rate is positive");
        }
        this.rate = ratePerSecond;
        this.tokens = ratePerSecond;
        this.last = now;
    }

    /** Takes {@code amount}; answers how many nanoseconds the taker should now wait (0: none). */
    public synchronized long take(double amount, long now) {
        refill(now);
        tokens = Math.max(tokens - amount, -rate * MAX_DEBT_SECONDS);
        return tokens >= 0 ? 0 : (long) (-tokens / rate * 1e9);
    }

    /** How many nanoseconds until the debt is paid (0: none), taking nothing. */
    public synchronized long owed(long now) {
        refill(now);
        return tokens >= 0 ? 0 : (long) (-tokens / rate * 1e9);
    }

    /** A new rate from now on (a node's share changed); the burst follows it, the debt stays. */
    public synchronized void rate(double ratePerSecond, long now) {
        if (!(ratePerSecond > 0)) {
            throw new IllegalArgumentException("a rate is positive");
        }
        refill(now);
        rate = ratePerSecond;
        tokens = Math.min(tokens, rate);
    }

    public synchronized double rate() {
        return rate;
    }

    private void refill(long now) {
        if (now > last) {
            tokens = Math.min(rate, tokens + (now - last) / 1e9 * rate);
            last = now;
        }
    }
}
