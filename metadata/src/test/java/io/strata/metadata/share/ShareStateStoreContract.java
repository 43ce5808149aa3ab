package io.strata.metadata.share;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.metadata.MetadataStore;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Every metadata adapter keeps share states alike; subclasses say how to open a fresh store. */
public abstract class ShareStateStoreContract {
    protected MetadataStore store;
    protected ShareStateStore shares;

    protected abstract MetadataStore newStore();

    @BeforeEach
    void open() {
        store = newStore();
        shares = store.shares();
    }

    @AfterEach
    void close() {
        store.close();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aStateIsWrittenOnlyOverTheRevisionItWasDecidedOn() {
        assertThat(shares.load("g", 7, 0).join()).isEmpty();
        long first = shares.save("g", 7, 0, bytes("one"), 0).join().orElseThrow();
        assertThat(shares.save("g", 7, 0, bytes("again"), 0).join()).as("it exists now").isEmpty();
        long second = shares.save("g", 7, 0, bytes("two"), first).join().orElseThrow();
        assertThat(shares.save("g", 7, 0, bytes("stale"), first).join()).as("decided on an old revision").isEmpty();
        ShareStateStore.Stored read = shares.load("g", 7, 0).join().orElseThrow();
        assertThat(new String(read.state(), StandardCharsets.UTF_8)).isEqualTo("two");
        assertThat(read.revision()).isEqualTo(second);
    }

    @Test
    void writersRacingOnOnePartitionEachWinOnlyOnTheLatestRevision() {
        shares.save("race", 1, 3, bytes("0"), 0).join();
        List<CompletableFuture<OptionalLong>> attempts = new ArrayList<>();
        long revision = shares.load("race", 1, 3).join().orElseThrow().revision();
        for (int i = 0; i < 8; i++) {
            attempts.add(shares.save("race", 1, 3, bytes("w" + i), revision));
        }
        assertThat(attempts.stream().filter(a -> a.join().isPresent()).count()).isEqualTo(1);
    }

    @Test
    void aGroupsStatesAreReadByTopicAndRemovedOnlyAtTheRevisionTheyWereReadAt() {
        shares.save("g", 7, 0, bytes("a"), 0).join();
        shares.save("g", 7, 2, bytes("b"), 0).join();
        shares.save("g", 8, 0, bytes("other topic"), 0).join();
        shares.save("g2", 7, 0, bytes("other group"), 0).join();
        assertThat(shares.loadTopic("g", 7).join()).containsOnlyKeys(0, 2);
        assertThat(shares.list("g").join()).extracting(n -> n.group() + "/" + n.topicId() + "/" + n.partition())
                .containsExactlyInAnyOrder("g/7/0", "g/7/2", "g/8/0");
        assertThat(shares.list("").join()).extracting(ShareStateStore.Named::group)
                .containsExactlyInAnyOrder("g", "g", "g", "g2");
        List<ShareStateStore.Named> read = shares.list("g").join();
        ShareStateStore.Named moved = read.stream().filter(n -> n.topicId() == 8).findFirst().orElseThrow();
        shares.save("g", 8, 0, bytes("decided after the read"), moved.stored().revision()).join().orElseThrow();
        assertThat(shares.delete(read).join()).as("the one that moved is kept")
                .extracting(n -> n.group() + "/" + n.topicId() + "/" + n.partition())
                .containsExactlyInAnyOrder("g/7/0", "g/7/2");
        assertThat(shares.loadTopic("g", 7).join()).isEmpty();
        assertThat(shares.load("g", 8, 0).join()).isPresent();
        assertThat(shares.load("g2", 7, 0).join()).isPresent();
        assertThat(shares.delete(shares.list("g").join()).join()).hasSize(1);
        assertThat(shares.list("g").join()).isEmpty();
    }

    @Test
    void moreStatesThanATransactionTakesAreRemovedInSteps() {
        int count = 300; // over two transactions of 128
        for (int p = 0; p < count; p++) {
            shares.save("wide", 3, p, bytes("s" + p), 0).join().orElseThrow();
        }
        assertThat(shares.delete(shares.list("wide").join()).join()).hasSize(count);
        assertThat(shares.list("wide").join()).isEmpty();
    }

    @Test
    void aGroupsSettingsReadBackAsSavedAndDefaultsRemoveThem() {
        var settings = store.groupSettings();
        assertThat(settings.load("w").join()).isEqualTo(io.strata.metadata.group.GroupSettings.DEFAULTS);
        var set = new io.strata.metadata.group.GroupSettings("w-dlq", 3, 10_000, java.util.Optional.of(
                new io.strata.metadata.group.GroupSettings.Backoff(100, 2.5, 60_000)), "User:ops", List.of("team-a"));
        settings.save("w", set).join();
        settings.save("other", new io.strata.metadata.group.GroupSettings("", 7, 0, java.util.Optional.empty())).join();
        assertThat(settings.load("w").join()).isEqualTo(set);
        assertThat(settings.all().join()).containsOnlyKeys("other", "w");
        settings.save("w", io.strata.metadata.group.GroupSettings.DEFAULTS).join();
        assertThat(settings.load("w").join()).isEqualTo(io.strata.metadata.group.GroupSettings.DEFAULTS);
        assertThat(settings.all().join()).containsOnlyKeys("other");
    }
}
