package io.strata.metadata.security;

/** Per second: produce bytes, fetch bytes and requests (a quota's three measures). */
public record QuotaRates(double produceBytes, double fetchBytes, double requests) {
    public static final QuotaRates ZERO = new QuotaRates(0, 0, 0);

    public boolean zero() {
        return produceBytes == 0 && fetchBytes == 0 && requests == 0;
    }

    public QuotaRates plus(QuotaRates o) {
        return new QuotaRates(produceBytes + o.produceBytes, fetchBytes + o.fetchBytes, requests + o.requests);
    }
}
