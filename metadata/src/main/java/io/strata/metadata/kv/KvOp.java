package io.strata.metadata.kv;

/** One write of a transaction. */
public sealed interface KvOp {
    String key();

    /** Puts {@code value}; bound to {@code lease} (deleted when the lease ends) unless it is 0. */
    record Put(String key, byte[] value, long lease) implements KvOp {
        public Put {
            if (key == null || value == null || lease < 0) {
                throw new IllegalArgumentException("invalid put of " + key);
            }
        }

        public Put(String key, byte[] value) {
            this(key, value, 0);
        }
    }

    /** Deletes the key; deleting an absent key is not an error. */
    record Delete(String key) implements KvOp {
        public Delete {
            if (key == null) {
                throw new IllegalArgumentException("delete of no key");
            }
        }
    }
}
