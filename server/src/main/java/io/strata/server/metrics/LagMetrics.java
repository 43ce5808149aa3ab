package io.strata.server.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.strata.fetch.share.ShareGroupsView;
import io.strata.group.GroupCoordinator;
import io.strata.group.GroupDescription;
import io.strata.group.LagExporter;
import io.strata.metadata.MetadataStore;
import io.strata.server.share.ShareRole;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Groups' lag as metrics, exported by one node of the cluster ({@link LagExporter}'s lock holder), so a scrape
 * of every node counts each partition once: consumer groups per partition and in total, share groups in total
 * with the records their members hold.
 */
public final class LagMetrics {
    private LagMetrics() {
    }

    /** Starts exporting every {@code interval}, at most {@code maxSeries} series per gauge; close it to stop. */
    public static LagExporter export(MetadataStore metadata, GroupCoordinator coordinator, ShareGroupsView shares,
                                     String nodeId, Duration interval, int maxSeries, MeterRegistry meters) {
        MultiGauge lag = MultiGauge.builder("strata.group.lag").description("Records of a partition not yet "
                + "committed by a group (end minus committed offset); exported by one node of the cluster")
                .register(meters);
        MultiGauge total = MultiGauge.builder("strata.group.lag.total")
                .description("A group's lag over all its partitions").register(meters);
        MultiGauge shareLag = MultiGauge.builder("strata.share.lag").description("Records of a share group not yet "
                + "accepted or archived, over its partitions; exported by one node of the cluster").register(meters);
        MultiGauge shareAcquired = MultiGauge.builder("strata.share.acquired")
                .description("Records a share group's members hold now").register(meters);
        return new LagExporter(metadata, coordinator, nodeId, interval, groups -> {
            List<MultiGauge.Row<?>> rows = new ArrayList<>();
            List<MultiGauge.Row<?>> totals = new ArrayList<>();
            for (GroupDescription d : groups) {
                totals.add(MultiGauge.Row.of(Tags.of("group", d.group()), d.totalLag()));
                for (var p : d.partitions()) {
                    if (p.lag() >= 0 && rows.size() < maxSeries) {
                        rows.add(MultiGauge.Row.of(Tags.of("group", d.group(), "topic", p.partition().topic(),
                                "partition", Integer.toString(p.partition().partition())), p.lag()));
                    }
                }
            }
            lag.register(rows, true);
            total.register(totals, true);
        }, exporting -> ShareRole.exportLag(shares, exporting, shareLag, shareAcquired, maxSeries,
                interval.multipliedBy(10))); // 5 min by default: deleted topics' share states are seldom urgent
    }
}
