package io.strata.server.ingest;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.strata.ingest.IngestPipeline;
import io.strata.ingest.grpc.ProduceHandler;
import io.strata.ingest.grpc.ProducerIds;
import io.strata.metadata.TopicCache;
import io.strata.server.metrics.RoleMetrics;
import java.time.Clock;
import java.util.concurrent.TimeUnit;

/** The ingest role's produce handler on a node, and its metrics (its transactions: the node's transaction role). */
public final class IngestRole {
    private IngestRole() {
    }

    public static ProduceHandler handler(IngestPipeline pipeline, TopicCache topics, ProducerIds producerIds,
                                         Clock clock, MeterRegistry meters) {
        ProduceHandler ingest = new ProduceHandler(pipeline, topics, producerIds, clock);
        RoleMetrics.counter(meters, "strata.ingest.records.duplicate", ingest, ProduceHandler::duplicateRecords);
        RoleMetrics.counter(meters, "strata.ingest.records.refused", ingest, ProduceHandler::refusedRecords);
        RoleMetrics.counter(meters, "strata.ingest.records", ingest, ProduceHandler::storedRecords);
        Timer produced = Timer.builder("strata.ingest.produce")
                .description("Per durable produce request answered without error: from its arrival to its "
                        + "answer, queueing on its stream included")
                .publishPercentiles(0.5, 0.99, 0.999).register(meters);
        ingest.answerTimes(nanos -> produced.record(nanos, TimeUnit.NANOSECONDS));
        meters.gauge("strata.ingest.buffered.bytes", pipeline, IngestPipeline::bufferedBytes);
        RoleMetrics.counter(meters, "strata.ingest.blocks.committed", pipeline, p -> p.committer().blocksCommitted());
        meters.gauge("strata.ingest.blocks.awaiting.commit", pipeline, p -> p.committer().blocksAwaitingCommit());
        Timer seal = blockTimer(meters, "seal", "waiting for an upload slot and sealing");
        Timer upload = blockTimer(meters, "upload", "the object store PUT");
        Timer queue = blockTimer(meters, "commit.queue", "waiting behind earlier commits");
        Timer commit = blockTimer(meters, "commit", "the metadata commit");
        pipeline.committer().timings((sealNs, uploadNs, queueNs, commitNs) -> {
            seal.record(sealNs, TimeUnit.NANOSECONDS);
            upload.record(uploadNs, TimeUnit.NANOSECONDS);
            queue.record(queueNs, TimeUnit.NANOSECONDS);
            commit.record(commitNs, TimeUnit.NANOSECONDS);
        });
        RoleMetrics.counter(meters, "strata.ingest.blocks.failed", pipeline, p -> p.committer().blocksFailed());
        RoleMetrics.counter(meters, "strata.ingest.uploaded.bytes", pipeline, p -> p.committer().bytesUploaded());
        RoleMetrics.counter(meters, "strata.ingest.puts.hedged", pipeline, p -> p.committer().hedgedPuts());
        meters.gauge("strata.ingest.put.hedge.after.seconds", pipeline,
                p -> p.committer().hedgeAfter().toNanos() / 1e9);
        return ingest;
    }

    private static Timer blockTimer(MeterRegistry meters, String stage, String description) {
        return Timer.builder("strata.ingest.block." + stage).description("Per committed block: " + description)
                .publishPercentiles(0.5, 0.99).register(meters);
    }
}
