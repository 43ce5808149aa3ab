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
 * @param encryption        server-side encryption asked for on every put: {@code AES256} (SSE-S3), {@code aws:kms}
 *                          or {@code aws:kms:dsse} (SSE-KMS, with {@code kmsKeyId} or the account's default key);
 *                          empty: the bucket's default
 * @param kmsKeyId          the KMS key of SSE-KMS
 */
public record S3Settings(Optional<URI> endpoint, String region, String bucket, String prefix,
                         Optional<String> accessKey, Optional<String> secretKey, boolean pathStyle,
                         Duration requestTimeout, int maxConcurrency, boolean conditionalWrites,
                         Optional<String> encryption, Optional<String> kmsKeyId) {
    public S3Settings(Optional<URI> endpoint, String region, String bucket, String prefix,
                      Optional<String> accessKey, Optional<String> secretKey, boolean pathStyle,
                      Duration requestTimeout, int maxConcurrency, boolean conditionalWrites) {
        this(endpoint, region, bucket, prefix, accessKey, secretKey, pathStyle, requestTimeout, maxConcurrency,
                conditionalWrites, Optional.empty(), Optional.empty());
    }

    public S3Settings {
        if (encryption.isPresent() && !java.util.List.of("AES256", "aws:kms", "aws:kms:dsse").contains(encryption.get())) {
            throw new IllegalArgumentException("S3 server-side encryption is AES256, aws:kms or aws:kms:dsse, not '"
                    + encryption.get() + "'");
        }
        if (kmsKeyId.isPresent() && !encryption.filter(e -> e.startsWith("aws:kms")).isPresent()) {
            throw new IllegalArgumentException("a KMS key id goes with server-side encryption aws:kms or aws:kms:dsse");
        }
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
