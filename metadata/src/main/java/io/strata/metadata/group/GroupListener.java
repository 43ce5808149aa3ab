package io.strata.metadata.group;

/**
 * Told of changes to groups' coordination keys. Called from the store's watch thread: return quickly.
 */
public interface GroupListener {
    /** Members, owners or the target of {@code group} changed at {@code revision}. */
    void onChange(String group, long revision);

    /**
     * A member key changed at {@code revision}: put bound to {@code lease}, or deleted ({@code lease} 0). Called
     * before {@link #onChange} for the same events.
     */
    default void onMember(String group, String memberId, long lease, long revision) {
    }

    /** The watch ended (history compacted, store closed): read again and watch from there. */
    void onBroken(Throwable cause);
}
