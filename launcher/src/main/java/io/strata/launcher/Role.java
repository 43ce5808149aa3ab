package io.strata.launcher;

import java.net.URI;
import java.net.http.HttpResponse;

/** What a process of a local cluster is, and how to ask it whether it is ready. */
public enum Role {
    ETCD, S3, LATENCY, INGEST, FETCH, COMPACTION;

    /** The role's name in tables and in the state file: {@code etcd}, {@code s3}, {@code ingest}, … */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    public static Role ofLabel(String label) {
        return valueOf(label.toUpperCase(java.util.Locale.ROOT));
    }

    /** A Strata server process (as opposed to etcd or the S3-compatible server). */
    public boolean isNode() {
        return this == INGEST || this == FETCH || this == COMPACTION;
    }

    /**
     * Where readiness is asked: etcd's {@code /health}, any answer of S3 (through the latency proxy, for it),
     * a node's {@code /q/health/ready}.
     */
    public URI readinessUrl(int httpPort) {
        return URI.create("http://127.0.0.1:" + httpPort + switch (this) {
            case ETCD -> "/health";
            case S3, LATENCY -> "/";
            default -> "/q/health/ready";
        });
    }

    /** Whether an answer of {@link #readinessUrl} means ready. S3 answers an unsigned request 403: serving. */
    public boolean isReady(HttpResponse<String> answer) {
        return switch (this) {
            case ETCD -> answer.statusCode() == 200 && answer.body().contains("true");
            case S3, LATENCY -> answer.statusCode() > 0;
            default -> answer.statusCode() == 200;
        };
    }
}
