package io.strata.metadata.group;

/** Told of changes to one group's coordination keys. Called from the store's watch thread: return quickly. */
public interface GroupListener {
    /** Members, owners or the target changed at {@code revision}. */
    void onChange(long revision);

    /** The watch ended (history compacted, store closed): read again and watch from there. */
    void onBroken(Throwable cause);
}
