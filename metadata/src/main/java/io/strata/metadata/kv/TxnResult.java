package io.strata.metadata.kv;

/**
 * What a transaction did: with {@code succeeded} every guard held and every op was applied at
 * {@code revision}; otherwise nothing was written and {@code revision} is the store's revision when the
 * guards were checked.
 */
public record TxnResult(boolean succeeded, long revision) {
}
