package io.strata.storage.object;

import java.nio.ByteBuffer;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * Answers PUTs and GETs no sooner than a latency drawn from a model of a remote object store, so that a local
 * S3-compatible server (or a directory) behaves, for latency, like S3 across a network: for benchmarks and
 * for trying an application's behaviour under S3's tails before deploying. Each call goes to the real store at
 * once; its answer is released once both the store has answered and the drawn latency has passed. Latencies
 * are log-normal, fitted to a median and a 99th percentile per kind of request. Opt-in
 * ({@code strata.object-store.simulated-latency}), never on by default. Thread-safe.
 */
public final class SimulatedLatencyObjectStore extends ForwardingObjectStore {
    /** Median and 99th percentile, in milliseconds, of PUT and of GET latencies. */
    public record Model(double putP50, double putP99, double getP50, double getP99) {
        /** S3 Standard in one region, as the issue measures it: PUT p50 100 / p99 350, GET p50 30 / p99 80 ms. */
        public static final Model S3_STANDARD = new Model(100, 350, 30, 80);
        private static final double Z99 = 2.3263478740408408;

        public Model {
            if (putP50 <= 0 || putP99 < putP50 || getP50 <= 0 || getP99 < getP50) {
                throw new IllegalArgumentException("need 0 < p50 <= p99 for PUT and GET");
            }
        }

        /**
         * {@code s3-standard}, or {@code put=P50/P99,get=P50/P99} in milliseconds (e.g. {@code put=100/350,get=30/80}).
         */
        public static Model parse(String text) {
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
            return new Model(put[0], put[1], get[0], get[1]);
        }

        /** A latency in milliseconds for a PUT ({@code put}) or a GET, from a standard normal draw {@code z}. */
        double latencyMillis(boolean put, double z) {
            double p50 = put ? putP50 : getP50;
            double p99 = put ? putP99 : getP99;
            double sigma = Math.log(p99 / p50) / Z99;
            return p50 * Math.exp(sigma * z);
        }
    }

    private final Model model;
    private final Random random;

    public SimulatedLatencyObjectStore(ObjectStore delegate, Model model, long seed) {
        super(delegate);
        this.model = model;
        this.random = new Random(seed);
    }

    /** The store the latency is added to. */
    public ObjectStore delegate() {
        return delegate;
    }

    long drawMillis(boolean put) {
        double z;
        synchronized (random) {
            z = random.nextGaussian();
        }
        return Math.round(model.latencyMillis(put, z));
    }

    private <T> CompletableFuture<T> noSooner(CompletableFuture<T> call, boolean put) {
        Executor release = CompletableFuture.delayedExecutor(drawMillis(put), TimeUnit.MILLISECONDS);
        CompletableFuture<Void> elapsed = CompletableFuture.runAsync(() -> { }, release);
        return call.thenCombine(elapsed, (answer, v) -> answer);
    }

    @Override
    public CompletableFuture<Void> put(ObjectKey key, ByteBuffer bytes) {
        return noSooner(delegate.put(key, bytes), true);
    }

    @Override
    public CompletableFuture<ByteBuffer> get(ObjectKey key, ByteRange range) {
        return noSooner(delegate.get(key, range), false);
    }

    @Override
    public CompletableFuture<ByteBuffer> get(ObjectKey key) {
        return noSooner(delegate.get(key), false);
    }
}
