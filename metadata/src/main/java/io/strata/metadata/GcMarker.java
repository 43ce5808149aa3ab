package io.strata.metadata;

/**
 * The garbage collector's note on an object it found unreferenced: since when, the object's last-modified
 * time, and whether it has been deleted. While a marker exists no commit and no compaction may reference
 * its object (their transactions guard that the marker is absent), so an object is deleted only once it
 * can never be referenced again.
 */
public record GcMarker(String objectKey, long firstUnreferencedMs, long lastModifiedMs, boolean deleted) {
    public GcMarker {
        if (objectKey == null || objectKey.isEmpty()) {
            throw new IllegalArgumentException("marker of no object");
        }
    }
}
