package io.strata.metadata.embedded;

import com.google.protobuf.InvalidProtocolBufferException;
import io.strata.metadata.MetadataException;
import io.strata.metadata.codec.EmbeddedBatch;
import io.strata.metadata.codec.EmbeddedPut;
import io.strata.metadata.codec.EmbeddedSnapshot;
import io.strata.metadata.kv.KeyValue;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Collection;
import java.util.List;
import java.util.TreeMap;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded store's files in its directory:
 * <pre>
 * LOCK          held (an OS file lock) while a process has the store open: one process at a time
 * kv.snapshot   every durable key at one revision:   frame(EmbeddedSnapshot)
 * kv.log        transactions after the snapshot:     frame(EmbeddedBatch)*
 * frame         = length (4) + CRC32C of the payload (4) + payload          (big-endian)
 * </pre>
 * Every append is forced to disk before it is acknowledged. A frame cut short at the end of the log (a
 * crash mid-write) is dropped on recovery, as it was never acknowledged; a bad frame followed by more data
 * is corruption and stops the store from opening rather than silently losing what follows.
 *
 * <p>Not thread-safe: its owner, {@link EmbeddedKvStore}, serializes every call.
 */
final class KvFiles implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(KvFiles.class);
    static final String LOG_FILE = "kv.log";
    static final String SNAPSHOT_FILE = "kv.snapshot";

    private final Path dir;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private FileChannel log;
    private long logBytes;

    private KvFiles(Path dir, FileChannel lockChannel, FileLock lock) {
        this.dir = dir;
        this.lockChannel = lockChannel;
        this.lock = lock;
    }

    /** Locks the directory (creating it), then reads the snapshot and replays the log into {@code into}. */
    static KvFiles open(Path dir, TreeMap<String, KeyValue> into, long[] revision) {
        FileChannel lockChannel = null;
        try {
            Files.createDirectories(dir);
            lockChannel = FileChannel.open(dir.resolve("LOCK"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = lockChannel.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                throw new MetadataException("the metadata directory " + dir.toAbsolutePath()
                        + " is in use by another Strata process (or store) on this machine", false);
            }
            KvFiles files = new KvFiles(dir, lockChannel, lock);
            files.recover(into, revision);
            return files;
        } catch (IOException e) {
            closeQuietly(lockChannel);
            throw new MetadataException("cannot open the metadata directory " + dir.toAbsolutePath() + ": " + e,
                    false, e);
        } catch (RuntimeException e) {
            closeQuietly(lockChannel);
            throw e;
        }
    }

    private void recover(TreeMap<String, KeyValue> into, long[] revision) throws IOException {
        Path snapshotPath = dir.resolve(SNAPSHOT_FILE);
        if (Files.exists(snapshotPath)) {
            ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(snapshotPath));
            byte[] payload = readFrame(bytes, snapshotPath);
            if (payload == null || bytes.hasRemaining()) {
                throw new MetadataException("corrupt metadata snapshot " + snapshotPath.toAbsolutePath(), false);
            }
            EmbeddedSnapshot snapshot = parse(() -> EmbeddedSnapshot.parseFrom(payload), snapshotPath);
            for (EmbeddedPut p : snapshot.getEntriesList()) {
                into.put(p.getKey(), new KeyValue(p.getKey(), p.getValue().toByteArray(), p.getCreateRevision(),
                        p.getModRevision(), 0));
            }
            revision[0] = snapshot.getRevision();
        }
        Path logPath = dir.resolve(LOG_FILE);
        log = FileChannel.open(logPath, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(logPath));
        int replayed = 0;
        while (bytes.hasRemaining()) {
            int start = bytes.position();
            byte[] payload = readFrame(bytes, logPath);
            if (payload == null) {
                LOG.warn("dropping an incomplete last record of {} at byte {} (a write cut short by a crash)",
                        logPath, start);
                log.truncate(start);
                log.force(true);
                break;
            }
            EmbeddedBatch record = parse(() -> EmbeddedBatch.parseFrom(payload), logPath);
            for (EmbeddedBatch batch : record.getGroupCount() > 0 ? record.getGroupList() : List.of(record)) {
                if (batch.getRevision() > revision[0]) {
                    apply(into, batch);
                    revision[0] = batch.getRevision();
                    replayed++;
                }
            }
        }
        logBytes = log.size();
        log.position(logBytes);
        LOG.info("embedded metadata recovered at revision {} ({} keys, {} logged transactions replayed)",
                revision[0], into.size(), replayed);
    }

    /** Applies a logged transaction to the in-memory map (used by recovery and by the live store alike). */
    static void apply(TreeMap<String, KeyValue> data, EmbeddedBatch batch) {
        long rev = batch.getRevision();
        for (String key : batch.getDeletesList()) {
            data.remove(key);
        }
        for (EmbeddedPut p : batch.getPutsList()) {
            KeyValue old = data.get(p.getKey());
            data.put(p.getKey(), new KeyValue(p.getKey(), p.getValue().toByteArray(),
                    old == null ? rev : old.createRevision(), rev, 0));
        }
    }

    /** Appends one transaction and forces it to disk; on failure the log is cut back to where it was. */
    void append(EmbeddedBatch batch) throws IOException {
        long before = logBytes;
        try {
            write(batch);
            force();
        } catch (IOException e) {
            truncate(before);
            throw e;
        }
    }

    /**
     * Appends one transaction without forcing it (a group of them is forced once, {@link #force}); on failure the
     * log is cut back to where this one began.
     */
    void write(EmbeddedBatch batch) throws IOException {
        ByteBuffer frame = frame(batch.toByteArray());
        long before = logBytes;
        try {
            while (frame.hasRemaining()) {
                log.write(frame);
            }
            logBytes = log.position();
        } catch (IOException e) {
            truncate(before);
            throw e;
        }
    }

    /** Forces what was written to disk. */
    void force() throws IOException {
        log.force(false);
    }

    /** Cuts the log back to {@code length} bytes (what a failed group wrote goes). */
    void truncate(long length) throws IOException {
        long to = Math.min(length, log.size()); // never past the end: the next write would leave a hole
        log.truncate(to);
        log.position(to);
        logBytes = to;
    }

    long logBytes() {
        return logBytes;
    }

    /** Writes every durable key as a new snapshot (atomically replacing the old), then empties the log. */
    void snapshot(long revision, Collection<KeyValue> entries) throws IOException {
        EmbeddedSnapshot.Builder snapshot = EmbeddedSnapshot.newBuilder().setRevision(revision);
        for (KeyValue v : entries) {
            if (v.lease() == 0) {
                snapshot.addEntries(EmbeddedPut.newBuilder().setKey(v.key())
                        .setValue(com.google.protobuf.ByteString.copyFrom(v.value()))
                        .setCreateRevision(v.createRevision()).setModRevision(v.modRevision()));
            }
        }
        Path tmp = dir.resolve(SNAPSHOT_FILE + ".tmp");
        try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer frame = frame(snapshot.build().toByteArray());
            while (frame.hasRemaining()) {
                out.write(frame);
            }
            out.force(true);
        }
        Files.move(tmp, dir.resolve(SNAPSHOT_FILE), StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);
        forceDirectory();
        // A crash before this truncation is harmless: recovery skips logged revisions the snapshot holds.
        log.truncate(0);
        log.position(0);
        logBytes = 0; // before the force, which may fail: the log is empty either way
        log.force(true);
    }

    private void forceDirectory() {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException e) {
            LOG.debug("cannot fsync directory {} on this platform", dir, e);
        }
    }

    private static ByteBuffer frame(byte[] payload) {
        CRC32C crc = new CRC32C();
        crc.update(payload);
        ByteBuffer frame = ByteBuffer.allocate(8 + payload.length);
        frame.putInt(payload.length).putInt((int) crc.getValue()).put(payload).flip();
        return frame;
    }

    /**
     * The next frame's payload, or null when the frame is cut short by the end of the data (or its CRC fails
     * and nothing follows it). A bad frame with data after it throws: that is corruption, not a torn write.
     */
    private static byte[] readFrame(ByteBuffer in, Path file) {
        int start = in.position();
        if (in.remaining() < 8) {
            in.position(in.limit());
            return null;
        }
        int length = in.getInt();
        int crc = in.getInt();
        if (length < 0 || length > in.remaining()) {
            // A torn last write, or a damaged length with acknowledged records behind it: only if no intact
            // record follows is it the torn tail that may be dropped.
            if (intactFrameAfter(in, start + 1)) {
                throw new MetadataException("corrupt record length (" + length + ") in " + file.toAbsolutePath()
                        + " at byte " + start + " with intact records after it; refusing to open rather than drop "
                        + "them (restore the data directory from a copy)", false);
            }
            in.position(in.limit());
            return null;
        }
        byte[] payload = new byte[length];
        in.get(payload);
        CRC32C actual = new CRC32C();
        actual.update(payload);
        if ((int) actual.getValue() != crc) {
            if (!in.hasRemaining()) {
                return null;
            }
            throw new MetadataException("corrupt record in " + file.toAbsolutePath() + " at byte " + start
                    + " (CRC32C mismatch) with more records after it; refusing to open", false);
        }
        return payload;
    }

    /**
     * Whether an intact frame (a non-empty payload whose CRC32C matches) starts anywhere at or after {@code
     * from}. A random match is a 1 in 2^32 chance per candidate; empty frames are not counted, as a zeroed
     * tail would look like a run of them.
     */
    private static boolean intactFrameAfter(ByteBuffer in, int from) {
        int limit = in.limit();
        for (int pos = from; pos + 8 < limit; pos++) {
            int length = in.getInt(pos);
            if (length <= 0 || length > limit - pos - 8) {
                continue;
            }
            CRC32C crc = new CRC32C();
            crc.update(in.duplicate().position(pos + 8).limit(pos + 8 + length));
            if ((int) crc.getValue() == in.getInt(pos + 4)) {
                return true;
            }
        }
        return false;
    }

    @FunctionalInterface
    private interface ProtoParser<T> {
        T parse() throws InvalidProtocolBufferException;
    }

    private static <T> T parse(ProtoParser<T> parser, Path file) {
        try {
            return parser.parse();
        } catch (InvalidProtocolBufferException e) {
            throw new MetadataException("undecodable record in " + file.toAbsolutePath() + ": " + e.getMessage(),
                    false, e);
        }
    }

    @Override
    public void close() {
        closeQuietly(log);
        try {
            lock.release();
        } catch (IOException e) {
            LOG.debug("releasing the metadata lock", e);
        }
        closeQuietly(lockChannel);
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception e) {
                LOG.debug("closing", e);
            }
        }
    }
}
