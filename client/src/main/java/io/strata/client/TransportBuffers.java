package io.strata.client;

import io.grpc.netty.shaded.io.netty.buffer.PooledByteBufAllocator;

/**
 * The pool the client's connections take their network buffers from. gRPC's own pool has 2 MiB chunks and
 * frees a chunk as soon as nothing in it is in use; a consumer's fetch answers are a megabyte or more, held
 * until each is whole, so that pool kept allocating, zeroing and freeing chunks: a fifth of a catch-up
 * consumer's CPU in a profile. Chunks of 16 MiB hold several answers at once and stay in use. The cost is
 * direct memory of a chunk or two per transport thread, as gRPC's pool with Netty's default chunk size.
 */
final class TransportBuffers {
    /** 8 KiB pages, 2^11 pages a chunk: 16 MiB. */
    private static final int MAX_ORDER = 11;

    static final PooledByteBufAllocator ALLOCATOR = new PooledByteBufAllocator(true,
            PooledByteBufAllocator.defaultNumHeapArena(), PooledByteBufAllocator.defaultNumDirectArena(),
            PooledByteBufAllocator.defaultPageSize(), MAX_ORDER, PooledByteBufAllocator.defaultSmallCacheSize(),
            PooledByteBufAllocator.defaultNormalCacheSize(), PooledByteBufAllocator.defaultUseCacheForAllThreads());

    private TransportBuffers() {
    }
}
