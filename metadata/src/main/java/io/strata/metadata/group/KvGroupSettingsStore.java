package io.strata.metadata.group;

import io.strata.metadata.KeyLayout;
import io.strata.metadata.codec.GroupCodec;
import io.strata.metadata.kv.KvOp;
import io.strata.metadata.kv.KvStore;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/** {@link GroupSettingsStore} over the key-value seam: {@code {root}/group-settings/{group}}. */
public final class KvGroupSettingsStore implements GroupSettingsStore {
    private final KvStore kv;
    private final KeyLayout keys;

    public KvGroupSettingsStore(KvStore kv, KeyLayout keys) {
        this.kv = kv;
        this.keys = keys;
    }

    @Override
    public CompletableFuture<GroupSettings> load(String group) {
        String key = keys.groupSettings(group);
        return kv.get(key).thenApply(found -> found.map(v -> GroupCodec.decodeSettings(key, v.value())).orElse(GroupSettings.DEFAULTS));
    }

    @Override
    public CompletableFuture<Void> save(String group, GroupSettings settings) {
        String key = keys.groupSettings(group);
        KvOp op = settings.equals(GroupSettings.DEFAULTS) ? new KvOp.Delete(key) : new KvOp.Put(key, GroupCodec.encode(settings), 0);
        return kv.txn(List.of(), List.of(op)).thenApply(r -> null);
    }

    @Override
    public CompletableFuture<Map<String, GroupSettings>> all() {
        String prefix = keys.groupSettingsPrefix();
        return kv.range(prefix).thenApply(range -> {
            Map<String, GroupSettings> byGroup = new TreeMap<>();
            range.entries().forEach(e -> byGroup.put(e.key().substring(prefix.length()), GroupCodec.decodeSettings(e.key(), e.value())));
            return byGroup;
        });
    }
}
