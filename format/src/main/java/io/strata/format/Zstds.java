package io.strata.format;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdException;

/**
 * zstd with one compression and one decompression context per thread, reused: a context's tables (about
 * 1 MiB at level 3) are allocated and cleared once, not per batch, which matters when many batches a
 * second are compressed by a thread that shares its caches with a busy process. Thread-safe (contexts are
 * never shared); a context lives as long as its thread.
 */
final class Zstds {
    private static final ThreadLocal<ZstdCompressCtx> COMPRESS = ThreadLocal.withInitial(ZstdCompressCtx::new);
    private static final ThreadLocal<ZstdDecompressCtx> DECOMPRESS = ThreadLocal.withInitial(ZstdDecompressCtx::new);
    /** Per thread, where frames are inflated to be read and dropped (validation, decoding into records). */
    private static final ThreadLocal<byte[][]> SCRATCH = ThreadLocal.withInitial(() -> new byte[][] {new byte[64 << 10]});
    /** Per thread, where a compressed frame without an accessible array is copied to be inflated. */
    private static final ThreadLocal<byte[][]> SOURCE = ThreadLocal.withInitial(() -> new byte[][] {new byte[64 << 10]});
    /** Scratch arrays above this are not kept, so a thread does not hold a huge one for ever. */
    private static final int MAX_KEPT_SCRATCH = 4 << 20;

    private Zstds() {
    }

    static int bound(int length) {
        return (int) Zstd.compressBound(length);
    }

    /** Compresses src[0, length) into dst from {@code dstOffset}; answers the compressed size. */
    static int compress(byte[] dst, int dstOffset, byte[] src, int length, int level) {
        ZstdCompressCtx ctx = COMPRESS.get();
        ctx.setLevel(level);
        try {
            return ctx.compressByteArray(dst, dstOffset, dst.length - dstOffset, src, 0, length);
        } catch (ZstdException e) {
            throw new IllegalStateException("zstd compression failed: " + e.getMessage(), e);
        }
    }

    /**
     * Inflates {@code length} bytes of src from {@code offset}, which must give exactly
     * {@code uncompressedLength} bytes.
     */
    static byte[] decompress(byte[] src, int offset, int length, int uncompressedLength) {
        return decompressInto(new byte[uncompressedLength], src, offset, length, uncompressedLength);
    }

    /**
     * Like {@link #decompress}, but into this thread's scratch array, which the answer wraps (from 0 to
     * {@code uncompressedLength}) and which the next call on this thread overwrites: read it, then drop it.
     */
    static java.nio.ByteBuffer decompressToScratch(byte[] src, int offset, int length, int uncompressedLength) {
        byte[] scratch = scratch(SCRATCH, uncompressedLength);
        decompressInto(scratch, src, offset, length, uncompressedLength);
        return java.nio.ByteBuffer.wrap(scratch, 0, uncompressedLength).slice();
    }

    /** Inflates a frame held by a buffer without an accessible array (a read-only view) via a scratch copy. */
    static java.nio.ByteBuffer decompressToScratch(java.nio.ByteBuffer frame, int uncompressedLength) {
        byte[] src = scratch(SOURCE, frame.remaining());
        int length = frame.remaining();
        frame.duplicate().get(src, 0, length);
        return decompressToScratch(src, 0, length, uncompressedLength);
    }

    private static byte[] scratch(ThreadLocal<byte[][]> local, int size) {
        byte[][] holder = local.get();
        byte[] scratch = holder[0];
        if (scratch.length < size) {
            scratch = new byte[Math.max(size, Math.min(scratch.length * 2, MAX_KEPT_SCRATCH))];
            if (scratch.length <= MAX_KEPT_SCRATCH) {
                holder[0] = scratch;
            }
        }
        return scratch;
    }

    private static byte[] decompressInto(byte[] out, byte[] src, int offset, int length, int uncompressedLength) {
        int written;
        try {
            written = DECOMPRESS.get().decompressByteArray(out, 0, uncompressedLength, src, offset, length);
        } catch (ZstdException | IllegalArgumentException e) {
            throw new BlockFormatException(BlockFormatException.Reason.CORRUPT, "zstd frame does not inflate", e);
        }
        if (written != uncompressedLength) {
            throw new BlockFormatException(BlockFormatException.Reason.INCONSISTENT,
                    "zstd frame inflated to " + written + " bytes, expected " + uncompressedLength);
        }
        return out;
    }
}
