package io.strata.storage.object;

/** A put found an object under its key already; the existing object is left as it was. */
public class ObjectExistsException extends ObjectStoreException {
    public ObjectExistsException(ObjectKey key) {
        super("object exists: " + key, false);
    }
}
