package io.strata.storage.object.s3;

import java.net.URI;
import java.time.Duration;
import java.util.Optional;

/**
 * How to reach a bucket.
 *
 * @param endpoint          an S3-compatible server (MinIO, LocalStack, S3Proxy); empty for AWS itself
 * @param prefix            key prefix inside the bucket ("" or ending in "/"; a missing "/" is added)
 * @param accessKey         static credentials with {@code secretKey}; empty: the AWS default chain
 * @param pathStyle         path-style URLs (bucket in the path), which most S3-compatible servers need
 * @param requestTimeout    the most one API call may take, retries included
 * @param maxConcurrency    HTTP connections at most
 * @param conditionalWrites send {@code If-None-Match: *} on puts, so the server refuses to overwrite
 */
public record S3Settings(Optional<URI> endpoint, String region, String bucket, String prefix,
                         Optional<String> accessKey, Optional<String> secretKey, boolean pathStyle,
                         Duration requestTimeout, int maxConcurrency, boolean conditionalWrites) {
    public S3Settings {
        if (bucket == null || bucket.isBlank() || region == null || region.isBlank()) {
            throw new IllegalArgumentException("S3 needs a bucket and a region");
        }
        if (accessKey.isPresent() != secretKey.isPresent()) {
            throw new IllegalArgumentException("S3 access key and secret key go together");
        }
        if (requestTimeout.isNegative() || requestTimeout.isZero() || maxConcurrency < 1) {
            throw new IllegalArgumentException("S3 request timeout and concurrency must be positive");
        }
        prefix = prefix == null || prefix.isEmpty() || prefix.endsWith("/") ? (prefix == null ? "" : prefix)
                : prefix + "/";
    }

    /** Settings for an S3-compatible server at {@code endpoint} with static credentials and defaults. */
    public static S3Settings forEndpoint(URI endpoint, String region, String bucket, String accessKey,
                                         String secretKey) {
        return new S3Settings(Optional.of(endpoint), region, bucket, "", Optional.of(accessKey),
                Optional.of(secretKey), true, Duration.ofSeconds(30), 64, true);
    }
}
