package io.strata.queues.delay;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

/**
 * Which delayed records one delivery round hands to their target, decided from the buckets' loaded segments
 * alone, so that the same decision is taken again, record for record, after a crash: the round is written down
 * as its {@link Take}s (per bucket, the entries from..to in the bucket's order) before anything is delivered,
 * and a node that finds such an intent replays exactly those entries, in {@link DelayedEntry#ORDER}, under the
 * same sequence numbers. Pure.
 */
public final class DeliveryRound {
    private DeliveryRound() {
    }

    /**
     * A bucket as the worker holds it: the entries of its current segment (the one holding its first undelivered
     * entry), which start at index {@code segmentStart} of the bucket, how many of the bucket's entries are
     * delivered, and whether the segment is the bucket's last (a round may run past the end of the last segment,
     * the bucket is then done, but not past the end of another: what the next one holds may come first).
     */
    public record Head(String bucket, long segmentStart, List<DelayedEntry> segment, long delivered,
                       boolean lastSegment) {
        public Head {
            segment = List.copyOf(segment);
            if (bucket == null || segmentStart < 0 || delivered < segmentStart
                    || delivered > segmentStart + segment.size()) {
                throw new IllegalArgumentException("bucket " + bucket + ": delivered " + delivered
                        + " lies outside its loaded segment [" + segmentStart + ", "
                        + (segmentStart + segment.size()) + ")");
            }
        }

        /** The entries of the loaded segment not yet delivered. */
        List<DelayedEntry> pending() {
            return segment.subList((int) (delivered - segmentStart), segment.size());
        }
    }

    /** Entries [from, to) of a bucket, in the bucket's order. */
    public record Take(String bucket, long from, long to) {
        public Take {
            if (bucket == null || from < 0 || to <= from) {
                throw new IllegalArgumentException("an empty or negative take of " + bucket);
            }
        }
    }

    /** A round: what it takes of each bucket, and the entries in the order they are delivered. */
    public record Round(List<Take> takes, List<DelayedEntry> entries) {
        public Round {
            takes = List.copyOf(takes);
            entries = List.copyOf(entries);
        }

        public boolean isEmpty() {
            return entries.isEmpty();
        }
    }

    private record Cursor(int head, int index, DelayedEntry entry) {
    }

    /**
     * The entries due by {@code nowMs}, in {@link DelayedEntry#ORDER}, across the heads, at most {@code maxEntries}
     * and about {@code maxBytes} of records (at least one). The round stops where a bucket's loaded segment ends
     * (its next segment must be loaded first: what lies in it may come before the others' next entries), so it never
     * reaches past what the heads hold.
     */
    public static Round plan(List<Head> heads, long nowMs, int maxEntries, long maxBytes) {
        if (maxEntries < 1 || maxBytes < 1) {
            throw new IllegalArgumentException("a round takes at least one entry");
        }
        if (heads.stream().map(Head::bucket).distinct().count() != heads.size()) {
            throw new IllegalArgumentException("a bucket among the heads twice");
        }
        // Entries are unique by staging offset (the order's tie-break), so the merge has one answer.
        PriorityQueue<Cursor> next = new PriorityQueue<>(Comparator.comparing(Cursor::entry, DelayedEntry.ORDER));
        for (int h = 0; h < heads.size(); h++) {
            List<DelayedEntry> pending = heads.get(h).pending();
            if (pending.isEmpty() && !heads.get(h).lastSegment()) {
                throw new IllegalArgumentException("bucket " + heads.get(h).bucket() + ": its loaded segment is "
                        + "delivered; load the next one first");
            }
            if (!pending.isEmpty()) {
                next.add(new Cursor(h, 0, pending.get(0)));
            }
        }
        long[] taken = new long[heads.size()];
        List<DelayedEntry> entries = new ArrayList<>();
        long bytes = 0;
        while (!next.isEmpty() && entries.size() < maxEntries) {
            Cursor c = next.poll();
            if (c.entry().dueMs() > nowMs || (!entries.isEmpty() && bytes + c.entry().record().length > maxBytes)) {
                break;
            }
            entries.add(c.entry());
            bytes += c.entry().record().length;
            taken[c.head()]++;
            List<DelayedEntry> pending = heads.get(c.head()).pending();
            if (c.index() + 1 < pending.size()) {
                next.add(new Cursor(c.head(), c.index() + 1, pending.get(c.index() + 1)));
            } else if (!heads.get(c.head()).lastSegment()) {
                break; // this bucket's next segment is not loaded: the round ends here
            }
        }
        List<Take> takes = new ArrayList<>();
        for (int h = 0; h < heads.size(); h++) {
            if (taken[h] > 0) {
                Head head = heads.get(h);
                takes.add(new Take(head.bucket(), head.delivered(), head.delivered() + taken[h]));
            }
        }
        takes.sort(Comparator.comparing(Take::bucket)); // one way to write a round down, whatever the heads' order
        return new Round(takes, entries);
    }

    /**
     * The entries of a round written down as its takes, as {@link #plan} ordered them: {@code slices} holds, per
     * take (in the takes' order), the bucket's entries [from, to) read again from the bucket.
     */
    public static List<DelayedEntry> replay(List<Take> takes, List<List<DelayedEntry>> slices) {
        if (takes.size() != slices.size()) {
            throw new IllegalArgumentException(takes.size() + " takes, " + slices.size() + " slices");
        }
        List<DelayedEntry> all = new ArrayList<>();
        for (int i = 0; i < takes.size(); i++) {
            if (slices.get(i).size() != takes.get(i).to() - takes.get(i).from()) {
                throw new IllegalArgumentException("the slice of " + takes.get(i) + " holds " + slices.get(i).size());
            }
            all.addAll(slices.get(i));
        }
        all.sort(DelayedEntry.ORDER);
        return all;
    }
}
