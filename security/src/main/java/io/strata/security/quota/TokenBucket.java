package io.strata.security.quota;

/**
 * A rate in units per second with one second of burst. What is taken beyond the tokens there are becomes debt, and
 * the debt is how long the taker must wait: a client held back by that long (its next request, or its answer)
 * keeps to the rate whatever its request sizes, pipelining or number of connections (each new request waits
 * behind all the debt, so concurrency gains nothing). Debt is bounded ({@link #MAX_DEBT_SECONDS}, far beyond any
 * call's deadline: a call that gives up waiting is {@linkplain #refund refunded}, so forgiving debt never lets
 * work through) only so that one huge request is not paid for for ever. Thread-safe; the caller gives the time
 * (System.nanoTime()).
 */
public final class TokenBucket {
    static final double MAX_DEBT_SECONDS = 300;
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

    /** Gives back what a taker took and then did not use (it gave up before its turn). */
    public synchronized void refund(double amount, long now) {
        refill(now);
        tokens = Math.min(rate, tokens + amount);
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
        tokens = Math.max(Math.min(tokens, rate), -rate * MAX_DEBT_SECONDS);
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
