package io.strata.queues.delay;

import io.strata.queues.codec.Varints;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * A bucket of delayed records as one object in the object store: the entries sorted by {@link DelayedEntry#ORDER},
 * cut into segments of about a given size, and a footer listing the segments (each with its first and last due
 * time, its place in the object, its entry count and CRC32C). A reader fetches the footer, then one segment at a
 * time: memory holds a segment per bucket, whatever the bucket holds. Strict: anything but a whole, known
 * encoding is an IllegalArgumentException.
 *
 * <pre>
 * segment*: per entry varlong due (the first absolute, then the difference to the previous), varlong offset,
 *           varint record length, record bytes
 * footer:   byte 'D', byte 'B', byte version (1), varint segments, per segment varlong first due, varlong last due,
 *           varlong byte offset, varint byte length, varint entry count, int CRC32C of the segment
 * trailer:  int footer length, int CRC32C of the footer, bytes "DBE1"
 * </pre>
 */
public final class DelayBucketCodec {
    private static final byte VERSION = 1;
    private static final byte[] TRAILER_MAGIC = {'D', 'B', 'E', '1'};
    /** The trailer's size: where a reader starts. */
    public static final int TRAILER_BYTES = 12;

    private DelayBucketCodec() {
    }

    /** One segment: its due-time span, where it lies in the object, and how to check it. */
    public record Segment(long firstDueMs, long lastDueMs, long byteOffset, int byteLength, int count, int crc32c) {
    }

    /** What a bucket holds, segment by segment. */
    public record Footer(List<Segment> segments) {
        public Footer {
            segments = List.copyOf(segments);
        }

        /** Entries in all. */
        public long count() {
            return segments.stream().mapToLong(Segment::count).sum();
        }

        /** The index (in {@link DelayedEntry#ORDER}) of the first entry of segment {@code i}. */
        public long firstIndex(int i) {
            long n = 0;
            for (int s = 0; s < i; s++) {
                n += segments.get(s).count();
            }
            return n;
        }

        /** The segment holding entry {@code index}, or -1 past the last. */
        public int segmentOf(long index) {
            long n = 0;
            for (int s = 0; s < segments.size(); s++) {
                n += segments.get(s).count();
                if (index < n) {
                    return s;
                }
            }
            return -1;
        }
    }

    /** Encodes entries sorted by {@link DelayedEntry#ORDER}, in segments of about {@code segmentBytes}. */
    public static byte[] encode(List<DelayedEntry> sorted, int segmentBytes) {
        if (segmentBytes < 1) {
            throw new IllegalArgumentException("segments of at least one byte");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        List<Segment> segments = new ArrayList<>();
        ByteArrayOutputStream segment = new ByteArrayOutputStream();
        long first = 0;
        long previous = 0;
        int count = 0;
        DelayedEntry before = null;
        for (DelayedEntry e : sorted) {
            if (before != null && DelayedEntry.ORDER.compare(before, e) >= 0) {
                throw new IllegalArgumentException("entries out of order at offset " + e.offset());
            }
            before = e;
            if (count == 0) {
                first = e.dueMs();
                previous = e.dueMs();
                Varints.write(segment, e.dueMs());
            } else {
                Varints.write(segment, e.dueMs() - previous);
                previous = e.dueMs();
            }
            Varints.write(segment, e.offset());
            Varints.write(segment, e.record().length);
            segment.write(e.record(), 0, e.record().length);
            count++;
            if (segment.size() >= segmentBytes) {
                segments.add(flush(out, segment, first, previous, count));
                count = 0;
            }
        }
        if (count > 0) {
            segments.add(flush(out, segment, first, previous, count));
        }
        ByteArrayOutputStream footer = new ByteArrayOutputStream();
        footer.write('D');
        footer.write('B');
        footer.write(VERSION);
        Varints.write(footer, segments.size());
        for (Segment s : segments) {
            Varints.write(footer, s.firstDueMs());
            Varints.write(footer, s.lastDueMs());
            Varints.write(footer, s.byteOffset());
            Varints.write(footer, s.byteLength());
            Varints.write(footer, s.count());
            footer.writeBytes(ByteBuffer.allocate(4).putInt(s.crc32c()).array());
        }
        byte[] footerBytes = footer.toByteArray();
        CRC32C crc = new CRC32C();
        crc.update(footerBytes);
        out.writeBytes(footerBytes);
        out.writeBytes(ByteBuffer.allocate(8).putInt(footerBytes.length).putInt((int) crc.getValue()).array());
        out.writeBytes(TRAILER_MAGIC);
        return out.toByteArray();
    }

    private static Segment flush(ByteArrayOutputStream out, ByteArrayOutputStream segment, long first, long last,
                                 int count) {
        byte[] bytes = segment.toByteArray();
        segment.reset();
        CRC32C crc = new CRC32C();
        crc.update(bytes);
        Segment s = new Segment(first, last, out.size(), bytes.length, count, (int) crc.getValue());
        out.writeBytes(bytes);
        return s;
    }

    /** What the object's last {@link #TRAILER_BYTES} bytes say of its footer. */
    public record Trailer(int footerLength, int footerCrc32c) {
    }

    /** The trailer, from the object's last {@link #TRAILER_BYTES} bytes; {@code objectSize} bounds the footer. */
    public static Trailer trailer(ByteBuffer trailer, long objectSize) {
        if (trailer.remaining() != TRAILER_BYTES) {
            throw new IllegalArgumentException("a trailer is " + TRAILER_BYTES + " bytes, not " + trailer.remaining());
        }
        int length = trailer.getInt();
        int crc = trailer.getInt();
        for (byte m : TRAILER_MAGIC) {
            if (trailer.get() != m) {
                throw new IllegalArgumentException("not a delayed-records bucket");
            }
        }
        if (length < 4 || length > objectSize - TRAILER_BYTES) {
            throw new IllegalArgumentException("a footer of " + length + " bytes in an object of " + objectSize);
        }
        return new Trailer(length, crc);
    }

    /**
     * The footer from its bytes (the {@link Trailer#footerLength} bytes before the trailer), checked against the
     * trailer's CRC32C; its segments must fill the object up to the footer, in order.
     */
    public static Footer footer(ByteBuffer in, Trailer trailer, long objectSize) {
        CRC32C check = new CRC32C();
        check.update(in.duplicate());
        if ((int) check.getValue() != trailer.footerCrc32c()) {
            throw new IllegalArgumentException("the bucket's footer fails its CRC32C");
        }
        if (in.remaining() < 4 || in.get() != 'D' || in.get() != 'B' || in.get() != VERSION) {
            throw new IllegalArgumentException("not a delayed-records bucket footer of version " + VERSION);
        }
        int n = Varints.count(in);
        List<Segment> segments = new ArrayList<>(n);
        long end = 0;
        long previousLast = -1;
        for (int i = 0; i < n; i++) {
            long first = Varints.read(in);
            long last = Varints.read(in);
            long offset = Varints.read(in);
            long length = Varints.read(in);
            long count = Varints.read(in);
            if (in.remaining() < 4) {
                throw new IllegalArgumentException("a footer cut short");
            }
            int crc = in.getInt();
            // Segments follow on in the object and in due order (within a segment, reading checks the full order).
            if (offset != end || length < 1 || length > Integer.MAX_VALUE || count < 1 || count > length
                    || last < first || first < previousLast) {
                throw new IllegalArgumentException("segment " + i + " of the footer does not follow on");
            }
            segments.add(new Segment(first, last, offset, (int) length, (int) count, crc));
            end = offset + length;
            previousLast = last;
        }
        if (in.hasRemaining()) {
            throw new IllegalArgumentException(in.remaining() + " bytes after the footer");
        }
        if (end != objectSize - TRAILER_BYTES - trailer.footerLength()) {
            throw new IllegalArgumentException("the segments end at byte " + end + ", the footer starts at "
                    + (objectSize - TRAILER_BYTES - trailer.footerLength()));
        }
        return new Footer(segments);
    }

    /** A segment's entries from its bytes, checked against what the footer says of it. */
    public static List<DelayedEntry> segment(ByteBuffer bytes, Segment s) {
        if (bytes.remaining() != s.byteLength()) {
            throw new IllegalArgumentException("segment of " + bytes.remaining() + " bytes, the footer says "
                    + s.byteLength());
        }
        CRC32C crc = new CRC32C();
        crc.update(bytes.duplicate());
        if ((int) crc.getValue() != s.crc32c()) {
            throw new IllegalArgumentException("segment at byte " + s.byteOffset() + " fails its CRC32C");
        }
        if (s.count() < 1) {
            throw new IllegalArgumentException("a segment holds at least one entry");
        }
        List<DelayedEntry> entries = new ArrayList<>(s.count());
        long due = 0;
        try {
            for (int i = 0; i < s.count(); i++) {
                due = i == 0 ? Varints.read(bytes) : Math.addExact(due, Varints.read(bytes));
                long offset = Varints.read(bytes);
                int length = Varints.count(bytes);
                if (length > bytes.remaining()) {
                    throw new IllegalArgumentException("a record cut short");
                }
                byte[] record = new byte[length];
                bytes.get(record);
                DelayedEntry e = new DelayedEntry(due, offset, record);
                if (!entries.isEmpty() && DelayedEntry.ORDER.compare(entries.get(entries.size() - 1), e) >= 0) {
                    throw new IllegalArgumentException("entries out of order at offset " + offset);
                }
                entries.add(e);
            }
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("a due time past the longest", e);
        }
        if (bytes.hasRemaining() || due != s.lastDueMs() || entries.get(0).dueMs() != s.firstDueMs()) {
            throw new IllegalArgumentException("segment at byte " + s.byteOffset() + " does not hold what its footer says");
        }
        return entries;
    }
}
