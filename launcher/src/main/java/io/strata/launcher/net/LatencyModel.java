package io.strata.launcher.net;

import java.util.Locale;

/**
 * How long an object store takes to answer, per kind of request: log-normal latencies fitted to a median and a
 * 99th percentile, for writes (PUT, POST) and for reads (GET, HEAD, DELETE). The network proxy's counterpart of
 * the nodes' own {@code strata.object-store.simulated-latency} (which takes the same text), for a store that
 * is reached across a real connection. It is a copy of the storage module's {@code
 * SimulatedLatencyObjectStore.Model} rather than a use of it: the launcher (and the proxy process it runs
 * from its own classes) depends on nothing of Strata's, and storage would bring the AWS SDK along; both read
 * the same text, as their tests check.
 */
public record LatencyModel(double putP50, double putP99, double getP50, double getP99) {
    /** S3 Standard in one region, as issue 15 measures it: PUT p50 100 / p99 350, GET p50 30 / p99 80 ms. */
    public static final LatencyModel S3_STANDARD = new LatencyModel(100, 350, 30, 80);
    private static final double Z99 = 2.3263478740408408;

    public LatencyModel {
        if (putP50 <= 0 || putP99 < putP50 || getP50 <= 0 || getP99 < getP50) {
            throw new IllegalArgumentException("need 0 < p50 <= p99 for PUT and GET");
        }
    }

    /** {@code s3-standard}, or {@code put=P50/P99,get=P50/P99} in milliseconds (e.g. {@code put=100/350,get=30/80}). */
    public static LatencyModel parse(String text) {
        if ("s3-standard".equals(text.trim())) {
            return S3_STANDARD;
        }
        double[] put = null;
        double[] get = null;
        for (String part : text.split(",")) {
            String[] kv = part.trim().split("=");
            String[] p = kv.length == 2 ? kv[1].split("/") : new String[0];
            if (p.length != 2) {
                throw new IllegalArgumentException("'" + part + "' is not put=P50/P99 or get=P50/P99 (ms)");
            }
            double[] value = {Double.parseDouble(p[0]), Double.parseDouble(p[1])};
            switch (kv[0].trim()) {
                case "put" -> put = value;
                case "get" -> get = value;
                default -> throw new IllegalArgumentException("unknown request kind '" + kv[0] + "'");
            }
        }
        if (put == null || get == null) {
            throw new IllegalArgumentException("'" + text + "' needs both put=P50/P99 and get=P50/P99");
        }
        return new LatencyModel(put[0], put[1], get[0], get[1]);
    }

    /** A latency in milliseconds for a request of {@code method}, from a standard normal draw {@code z}. */
    public double latencyMillis(String method, double z) {
        boolean write = "PUT".equals(method) || "POST".equals(method);
        double p50 = write ? putP50 : getP50;
        double p99 = write ? putP99 : getP99;
        return p50 * Math.exp(Math.log(p99 / p50) / Z99 * z);
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "put=%.0f/%.0f,get=%.0f/%.0f", putP50, putP99, getP50, getP99);
    }
}
