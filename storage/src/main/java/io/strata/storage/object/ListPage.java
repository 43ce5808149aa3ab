package io.strata.storage.object;

import java.util.List;

/**
 * One page of a listing, in key order. {@code nextStartAfter} is the key to continue after, or null when
 * the listing is complete: a caller that walks a whole bucket holds one page at a time.
 */
public record ListPage(List<ObjectInfo> objects, String nextStartAfter) {
    public ListPage {
        objects = List.copyOf(objects);
    }
}
