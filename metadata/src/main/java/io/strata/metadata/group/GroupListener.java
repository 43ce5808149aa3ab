package io.strata.metadata.group;

/**
 * Told of changes to groups' coordination keys. Called from the store's watch thread: return quickly.
 */
public interface GroupListener {
    /** Members, owners or the target of {@code group} changed at {@code revision}. */
    void onChange(String group, long revision);

    /** The watch ended (history compacted, store closed): read again and watch from there. */
    void onBroken(Throwable cause);
}
