package io.strata.storage.object.s3;

import io.strata.storage.object.ByteRange;
import io.strata.storage.object.ListPage;
import io.strata.storage.object.ObjectExistsException;
import io.strata.storage.object.ObjectInfo;
import io.strata.storage.object.ObjectKey;
import io.strata.storage.object.ObjectNotFoundException;
import io.strata.storage.object.ObjectStore;
import io.strata.storage.object.ObjectStoreException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.http.nio.netty.SdkEventLoopGroup;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3AsyncClientBuilder;
import software.amazon.awssdk.services.s3.model.Delete;
import software.amazon.awssdk.services.s3.model.DeleteObjectsResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.utils.ThreadFactoryBuilder;

/**
 * {@link ObjectStore} on S3 or any S3-compatible server, through the AWS SDK v2 async client (Netty).
 *
 * <p>Retries: the SDK's standard strategy (exponential back-off with jitter on throttling, 5xx and
 * connection errors, at most 5 attempts), all within {@code requestTimeout}. Puts carry
 * {@code If-None-Match: *} (unless turned off for servers that reject it), so an object is never
 * overwritten even by a retried put that raced its own first attempt: the server answers 412, which is
 * {@link ObjectExistsException}.
 *
 * <p>Threads: the SDK's event loop and completion threads complete every future; it owns the client and its
 * event loop group and closes both in {@link #close()}. Thread-safe.
 */
public final class S3ObjectStore implements ObjectStore {
    private static final int DELETE_BATCH = 1000;

    /**
     * How long a closing store waits for its event loop threads to end. The SDK's own group would first wait
     * for two quiet seconds with no task: every stopping node, and every test that closes a store, paid them.
     */
    private static final long EVENT_LOOP_SHUTDOWN_SECONDS = 5;
    private static final java.util.concurrent.atomic.AtomicInteger STORES = new java.util.concurrent.atomic.AtomicInteger();

    private final AwsCredentialsProvider credentials;
    private final String threadNamePrefix = "strata-s3-" + STORES.incrementAndGet();
    private final SdkEventLoopGroup eventLoops;
    private final S3AsyncClient client;
    private final S3Settings settings;

    public S3ObjectStore(S3Settings settings) {
        this.settings = settings;
        credentials = settings.accessKey().isPresent()
                ? StaticCredentialsProvider.create(AwsBasicCredentials.create(settings.accessKey().get(),
                settings.secretKey().orElseThrow()))
                : DefaultCredentialsProvider.builder().build();
        Duration timeout = settings.requestTimeout();
        // Our own group, which the client does not close: close() ends it without a quiet period. Its threads are
        // named after the store, so a thread dump tells the stores of one JVM apart.
        eventLoops = SdkEventLoopGroup.builder().threadFactory(new ThreadFactoryBuilder()
                .threadNamePrefix(threadNamePrefix()).daemonThreads(true).build()).build();
        S3AsyncClientBuilder builder = S3AsyncClient.builder()
                .region(Region.of(settings.region()))
                .credentialsProvider(credentials)
                .forcePathStyle(settings.pathStyle())
                .httpClientBuilder(NettyNioAsyncHttpClient.builder()
                        .eventLoopGroup(eventLoops)
                        .maxConcurrency(settings.maxConcurrency())
                        .connectionTimeout(Duration.ofSeconds(5))
                        .readTimeout(timeout)
                        .writeTimeout(timeout))
                .overrideConfiguration(c -> c
                        .apiCallTimeout(timeout)
                        .retryStrategy(AwsRetryStrategy.standardRetryStrategy().toBuilder().maxAttempts(5).build()));
        settings.endpoint().ifPresent(builder::endpointOverride);
        try {
            this.client = builder.build();
        } catch (RuntimeException | Error e) {
            endEventLoops();
            throw e;
        }
    }

    /** The prefix of this store's event loop threads' names: {@code strata-s3-<n>}, n counting stores made. */
    public String threadNamePrefix() {
        return threadNamePrefix;
    }

    /** Creates the bucket when it does not exist (for local S3-compatible servers; AWS buckets are provisioned). */
    public CompletableFuture<Void> ensureBucket() {
        return client.headBucket(b -> b.bucket(settings.bucket())).thenApply(r -> (Void) null)
                .exceptionallyCompose(e -> {
                    Throwable cause = unwrap(e);
                    if (isMissingBucket(cause)) {
                        return client.createBucket(b -> b.bucket(settings.bucket())).thenApply(r -> (Void) null);
                    }
                    return CompletableFuture.failedFuture(cause);
                })
                .exceptionallyCompose(e -> CompletableFuture.failedFuture(
                        translate("ensure bucket " + settings.bucket(), null, e)));
    }

    /**
     * Answers once the bucket answers a HEAD: reachable, the credentials accepted, the bucket there. A node
     * asks before it turns ready, so that a wrong endpoint, key or bucket name shows at start, by name.
     */
    public CompletableFuture<Void> checkBucket() {
        return client.headBucket(b -> b.bucket(settings.bucket())).thenApply(r -> (Void) null)
                .exceptionallyCompose(e -> {
                    Throwable cause = unwrap(e);
                    if (isMissingBucket(cause)) {
                        return CompletableFuture.failedFuture(new IllegalStateException("bucket '" + settings.bucket()
                                + "' does not exist (create it, or set strata.object-store.s3.create-bucket=true)"));
                    }
                    if (cause instanceof S3Exception s && s.statusCode() == 403) {
                        return CompletableFuture.failedFuture(new IllegalStateException("access to bucket '"
                                + settings.bucket() + "' is denied (HTTP 403): check the credentials and the policy"));
                    }
                    return CompletableFuture.failedFuture(cause);
                });
    }

    /** What a HEAD of a bucket that does not exist answers (some servers give no error code with a 404). */
    private static boolean isMissingBucket(Throwable cause) {
        return cause instanceof NoSuchBucketException || (cause instanceof S3Exception s && s.statusCode() == 404);
    }

    /** The bucket, and where it is: for messages. */
    public String describe() {
        return "bucket '" + settings.bucket() + "' at " + settings.endpoint().map(Object::toString)
                .orElse("S3 in " + settings.region());
    }

    /**
     * Puts the object unless its key exists. A 412 may be this very put's own earlier attempt, whose answer was
     * lost and which the SDK retried: the outcome is verified, not assumed. If the object under the key has
     * our bytes (its ETag is their MD5, as S3 gives for a single-part put), the put succeeded.
     */
    @Override
    public CompletableFuture<Void> put(ObjectKey key, ByteBuffer bytes) {
        ByteBuffer body = bytes.duplicate();
        return client.putObject(b -> {
                    b.bucket(settings.bucket()).key(s3Key(key)).contentLength((long) body.remaining());
                    if (settings.conditionalWrites()) {
                        b.ifNoneMatch("*");
                    }
                    settings.encryption().ifPresent(b::serverSideEncryption);
                    settings.kmsKeyId().ifPresent(b::ssekmsKeyId);
                }, AsyncRequestBody.fromByteBufferUnsafe(body.duplicate()))
                .thenApply(r -> (Void) null)
                .exceptionallyCompose(e -> {
                    ObjectStoreException failure = translate("put", key, e);
                    if (!(failure instanceof ObjectExistsException)) {
                        return CompletableFuture.failedFuture(failure);
                    }
                    return client.headObject(h -> h.bucket(settings.bucket()).key(s3Key(key))).handle((head, he) -> {
                        if (he == null && head.eTag() != null && head.eTag().replace("\"", "")
                                .equalsIgnoreCase(md5Hex(body.duplicate()))) {
                            return CompletableFuture.<Void>completedFuture(null);
                        }
                        if (he == null && settings.encryption().filter(x -> x.startsWith("aws:kms")).isPresent()
                                && head.contentLength() != null && head.contentLength() == body.remaining()) {
                            // SSE-KMS: the ETag is not the bytes' MD5; the bytes themselves say whether they are ours.
                            return get(key, new ByteRange(0, body.remaining())).<Void>thenApply(stored -> {
                                if (stored.equals(body.duplicate())) {
                                    return null;
                                }
                                throw failure;
                            });
                        }
                        return CompletableFuture.<Void>failedFuture(failure);
                    }).thenCompose(f -> f);
                });
    }

    /** The settings this store was opened with. */
    public S3Settings settings() {
        return settings;
    }

    /** The server-side encryption the bucket reports for an object (empty: none said). */
    public CompletableFuture<java.util.Optional<String>> serverSideEncryptionOf(ObjectKey key) {
        return client.headObject(h -> h.bucket(settings.bucket()).key(s3Key(key)))
                .thenApply(head -> java.util.Optional.ofNullable(head.serverSideEncryptionAsString()))
                .exceptionallyCompose(e -> CompletableFuture.failedFuture(translate("head", key, e)));
    }

    private static String md5Hex(ByteBuffer bytes) {
        try {
            java.security.MessageDigest md5 = java.security.MessageDigest.getInstance("MD5");
            md5.update(bytes);
            return java.util.HexFormat.of().formatHex(md5.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public CompletableFuture<ByteBuffer> get(ObjectKey key, ByteRange range) {
        return client.getObject(b -> b.bucket(settings.bucket()).key(s3Key(key))
                                .range("bytes=" + range.offset() + "-" + (range.end() - 1)),
                        new ExactBytes())
                .exceptionallyCompose(e -> CompletableFuture.failedFuture(translate("get", key, e)));
    }

    @Override
    public CompletableFuture<ByteBuffer> get(ObjectKey key) {
        return client.getObject(b -> b.bucket(settings.bucket()).key(s3Key(key)), new ExactBytes())
                .exceptionallyCompose(e -> CompletableFuture.failedFuture(translate("get", key, e)));
    }

    @Override
    public CompletableFuture<List<ObjectInfo>> list(String prefix) {
        return listPage(prefix, null, new ArrayList<>())
                .exceptionallyCompose(e -> CompletableFuture.failedFuture(translate("list " + prefix, null, e)));
    }

    private CompletableFuture<List<ObjectInfo>> listPage(String prefix, String token, List<ObjectInfo> acc) {
        ListObjectsV2Request.Builder request = ListObjectsV2Request.builder().bucket(settings.bucket())
                .prefix(settings.prefix() + prefix);
        if (token != null) {
            request.continuationToken(token);
        }
        return client.listObjectsV2(request.build()).thenCompose((ListObjectsV2Response page) -> {
            for (S3Object o : page.contents()) {
                String key = o.key().substring(settings.prefix().length());
                acc.add(new ObjectInfo(ObjectKey.of(key), o.size(), o.lastModified()));
            }
            if (Boolean.TRUE.equals(page.isTruncated()) && page.nextContinuationToken() != null) {
                return listPage(prefix, page.nextContinuationToken(), acc);
            }
            acc.sort(java.util.Comparator.comparing(ObjectInfo::key));
            return CompletableFuture.completedFuture(acc);
        });
    }

    @Override
    public CompletableFuture<ListPage> listPage(String prefix, String startAfter, int maxKeys) {
        if (maxKeys < 1) {
            throw new IllegalArgumentException("maxKeys must be positive");
        }
        ListObjectsV2Request.Builder request = ListObjectsV2Request.builder().bucket(settings.bucket())
                .prefix(settings.prefix() + prefix).maxKeys(Math.min(maxKeys, 1000));
        if (startAfter != null) {
            request.startAfter(settings.prefix() + startAfter);
        }
        return client.listObjectsV2(request.build()).thenApply((ListObjectsV2Response page) -> {
            List<ObjectInfo> objects = new ArrayList<>(page.contents().size());
            for (S3Object o : page.contents()) {
                objects.add(new ObjectInfo(ObjectKey.of(o.key().substring(settings.prefix().length())), o.size(),
                        o.lastModified()));
            }
            boolean more = Boolean.TRUE.equals(page.isTruncated()) && !objects.isEmpty();
            return new ListPage(objects, more ? objects.get(objects.size() - 1).key().value() : null);
        }).exceptionallyCompose(e -> CompletableFuture.failedFuture(translate("list " + prefix, null, e)));
    }

    /**
     * Aborts multipart uploads under the prefix that were started before the time and never completed (S3
     * keeps, and bills, their parts until then). Strata's own puts are single requests, so these are left by
     * other writers of the prefix; a server that does not implement the listing (HTTP 501) has none.
     */
    @Override
    public CompletableFuture<Integer> deleteIncomplete(java.time.Instant startedBefore) {
        return client.listMultipartUploads(b -> b.bucket(settings.bucket()).prefix(settings.prefix()))
                .thenCompose(listing -> {
                    List<CompletableFuture<?>> aborts = new ArrayList<>();
                    listing.uploads().stream()
                            .filter(u -> u.initiated() != null && u.initiated().isBefore(startedBefore))
                            .forEach(u -> aborts.add(client.abortMultipartUpload(a -> a.bucket(settings.bucket())
                                    .key(u.key()).uploadId(u.uploadId()))));
                    return CompletableFuture.allOf(aborts.toArray(CompletableFuture[]::new))
                            .thenApply(v -> aborts.size());
                })
                .exceptionallyCompose(e -> {
                    Throwable cause = unwrap(e);
                    if (cause instanceof S3Exception s && s.statusCode() == 501) {
                        return CompletableFuture.completedFuture(0);
                    }
                    return CompletableFuture.failedFuture(translate("abort incomplete uploads", null, e));
                });
    }

    @Override
    public CompletableFuture<Set<ObjectKey>> delete(Set<ObjectKey> keys) {
        List<ObjectKey> all = new ArrayList<>(keys);
        List<CompletableFuture<Set<ObjectKey>>> batches = new ArrayList<>();
        for (int from = 0; from < all.size(); from += DELETE_BATCH) {
            batches.add(deleteBatch(all.subList(from, Math.min(all.size(), from + DELETE_BATCH))));
        }
        return CompletableFuture.allOf(batches.toArray(CompletableFuture[]::new)).thenApply(v -> {
            Set<ObjectKey> deleted = new HashSet<>();
            batches.forEach(b -> deleted.addAll(b.join()));
            return deleted;
        });
    }

    private CompletableFuture<Set<ObjectKey>> deleteBatch(List<ObjectKey> keys) {
        List<ObjectIdentifier> ids = keys.stream().map(k -> ObjectIdentifier.builder().key(s3Key(k)).build()).toList();
        return client.deleteObjects(b -> b.bucket(settings.bucket()).delete(Delete.builder().objects(ids).build()))
                .thenApply((DeleteObjectsResponse r) -> {
                    Set<String> failed = new HashSet<>();
                    r.errors().forEach(e -> failed.add(e.key()));
                    Set<ObjectKey> deleted = new HashSet<>();
                    for (ObjectKey k : keys) {
                        if (!failed.contains(s3Key(k))) {
                            deleted.add(k);
                        }
                    }
                    return deleted;
                })
                .exceptionallyCompose(e -> CompletableFuture.failedFuture(
                        translate("delete " + keys.size() + " objects", null, e)));
    }

    private String s3Key(ObjectKey key) {
        return settings.prefix() + key.value();
    }

    private ObjectStoreException translate(String what, ObjectKey key, Throwable failure) {
        Throwable cause = unwrap(failure);
        if (cause instanceof ObjectStoreException o) {
            return o;
        }
        String subject = what + (key == null ? "" : " " + key) + " in bucket " + settings.bucket();
        if (cause instanceof NoSuchKeyException && key != null) {
            return new ObjectNotFoundException(key);
        }
        if (cause instanceof S3Exception s) {
            int status = s.statusCode();
            if (status == 404 && key != null) {
                return new ObjectNotFoundException(key);
            }
            if (status == 412 && key != null) {
                return new ObjectExistsException(key);
            }
            if (status == 416) {
                return new ObjectStoreException(subject + ": the range starts at or past the end of the object",
                        false, s);
            }
            boolean retryable = status >= 500 || status == 429 || status == 409;
            return new ObjectStoreException(subject + " failed with HTTP " + status + ": "
                    + s.awsErrorDetails().errorMessage(), retryable, s);
        }
        if (cause instanceof SdkClientException) {
            return new ObjectStoreException(subject + " failed: " + cause.getMessage(), true, cause);
        }
        return new ObjectStoreException(subject + " failed: " + cause, true, cause);
    }

    private static Throwable unwrap(Throwable t) {
        while (t instanceof CompletionException && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** Ends the event loop threads at once (no quiet period), waiting for them a few seconds at most. */
    private void endEventLoops() {
        try {
            if (!eventLoops.eventLoopGroup().shutdownGracefully(0, EVENT_LOOP_SHUTDOWN_SECONDS, TimeUnit.SECONDS)
                    .await(EVENT_LOOP_SHUTDOWN_SECONDS + 1, TimeUnit.SECONDS)) {
                System.getLogger(S3ObjectStore.class.getName()).log(System.Logger.Level.WARNING,
                        "the S3 client's threads (" + threadNamePrefix + ") did not end within "
                                + EVENT_LOOP_SHUTDOWN_SECONDS + " s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        client.close();
        endEventLoops(); // requests still running end now with their channels (closing a node drained them before)
        // The client does not close a provider it was given: the default chain's holds an STS client (web identity).
        if (credentials instanceof AutoCloseable closeable) {
            try {
                closeable.close();
            } catch (Exception e) {
                // closing: nothing left to do with it
            }
        }
    }
}
