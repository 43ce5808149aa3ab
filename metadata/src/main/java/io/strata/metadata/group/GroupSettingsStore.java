package io.strata.metadata.group;

import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** Groups' settings as operators set them ({@link GroupSettings}); a group never altered has none stored. */
public interface GroupSettingsStore {
    /** The group's settings, {@link GroupSettings#DEFAULTS} when none were set. */
    CompletableFuture<GroupSettings> load(String group);

    /** Replaces the group's settings ({@link GroupSettings#DEFAULTS} removes them). */
    CompletableFuture<Void> save(String group, GroupSettings settings);

    /** Every group with settings of its own, by name. */
    CompletableFuture<Map<String, GroupSettings>> all();
}
