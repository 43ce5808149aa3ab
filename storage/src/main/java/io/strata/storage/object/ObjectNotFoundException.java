package io.strata.storage.object;

/** There is no object under the key. */
public class ObjectNotFoundException extends ObjectStoreException {
    public ObjectNotFoundException(ObjectKey key) {
        super("no such object: " + key, false);
    }
}
