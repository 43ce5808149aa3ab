package io.strata.fetch.share;

import io.strata.api.v1.ProduceRequest;
import io.strata.api.v1.ProduceResponse;
import java.util.concurrent.CompletableFuture;

/**
 * How a fetch node writes records of its own (dead-letter copies) into the log: through the ingest path, as an
 * idempotent producer, so that a copy written twice is stored once. The node's own ingest handler when it runs
 * the ingest role, else an ingest node over the node-to-node port. Thread-safe.
 */
public interface RecordAppender {
    /** A new idempotent producer id. */
    CompletableFuture<Long> newProducerId();

    /** Writes the request (durable before it completes); per entry, its outcome in the response. */
    CompletableFuture<ProduceResponse> append(ProduceRequest request);
}
