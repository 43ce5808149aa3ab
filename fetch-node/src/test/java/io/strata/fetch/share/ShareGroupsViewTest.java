package io.strata.fetch.share;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.strata.metadata.MetadataStore;
import io.strata.metadata.MetadataStores;
import io.strata.metadata.Topic;
import io.strata.metadata.TopicConfig;
import io.strata.queues.share.SharePartition;
import io.strata.queues.share.SharePolicy;
import io.strata.queues.share.ShareStateCodec;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Share groups' removal over the embedded metadata store: by an operator, and once their topic is gone. */
class ShareGroupsViewTest {
    private static final long NOW = 1_000_000;

    @TempDir
    Path dir;
    private MetadataStore metadata;
    private ShareGroupsView view;
    private Topic jobs;

    @BeforeEach
    void open() {
        metadata = MetadataStores.embedded(dir.resolve("metadata"), 8);
        view = new ShareGroupsView(metadata, SharePolicy.DEFAULT, Clock.fixed(Instant.ofEpochMilli(NOW), ZoneOffset.UTC));
        jobs = metadata.createTopic(new TopicConfig("jobs", 2, -1, -1)).join();
    }

    @AfterEach
    void close() {
        metadata.close();
    }

    /** A state in which {@code member} holds offsets [0, held) from {@code takenAtMs} for the default lock. */
    private void stateOf(String group, Topic topic, int partition, String member, int held, long takenAtMs) {
        SharePartition p = new SharePartition(SharePolicy.DEFAULT, 0);
        if (held > 0) {
            p.acquire(member, held, held, takenAtMs);
        }
        long revision = metadata.shares().load(group, topic.topicId(), partition).join()
                .map(s -> s.revision()).orElse(0L);
        metadata.shares().save(group, topic.topicId(), partition, ShareStateCodec.encode(p), revision).join()
                .orElseThrow();
    }

    private static Status statusOf(Throwable t) {
        Throwable cause = t instanceof CompletionException ? t.getCause() : t;
        return ((StatusRuntimeException) cause).getStatus();
    }

    @Test
    void aGroupWhoseMembersHoldRecordsIsKeptUnlessForcedAndAnIdleOneIsForgottenWhole() {
        stateOf("busy", jobs, 0, "m", 3, NOW - 1_000); // the default lock (30 s) has 29 s to run
        stateOf("busy", jobs, 1, "m", 0, 0);
        assertThatThrownBy(() -> view.delete("busy", false).join()).satisfies(t -> {
            assertThat(statusOf(t).getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
            assertThat(statusOf(t).getDescription()).isEqualTo("share group busy is in use: its members hold 3 "
                    + "records (the last lock runs out in 29 s); stop its members and try again, or delete it with force");
        });
        assertThat(metadata.shares().list("busy").join()).as("nothing removed").hasSize(2);
        assertThat(view.delete("busy", true).join().getPartitions()).isEqualTo(2);
        assertThat(metadata.shares().list("busy").join()).isEmpty();

        stateOf("idle", jobs, 0, "m", 2, NOW - 31_000); // its lock ran out: the group's to hand out again
        stateOf("other", jobs, 0, "m", 2, NOW);
        assertThat(view.delete("idle", false).join().getPartitions()).isEqualTo(1);
        assertThat(metadata.shares().list("").join()).extracting(s -> s.group()).containsExactly("other");
        assertThatThrownBy(() -> view.delete("idle", false).join())
                .satisfies(t -> assertThat(statusOf(t).getCode()).isEqualTo(Status.Code.NOT_FOUND));
        assertThatThrownBy(() -> view.delete("no/such", false).join())
                .satisfies(t -> assertThat(statusOf(t).getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
    }

    /** The metadata store, with {@code beforeDelete} run once as the share states' removal is first asked for. */
    private MetadataStore deletingAfter(Runnable beforeDelete) {
        java.util.concurrent.atomic.AtomicBoolean ran = new java.util.concurrent.atomic.AtomicBoolean();
        io.strata.metadata.share.ShareStateStore real = metadata.shares();
        io.strata.metadata.share.ShareStateStore shares = (io.strata.metadata.share.ShareStateStore)
                java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
                        new Class<?>[] {io.strata.metadata.share.ShareStateStore.class}, (proxy, method, args) -> {
                            if (method.getName().equals("delete") && ran.compareAndSet(false, true)) {
                                beforeDelete.run();
                            }
                            return method.invoke(real, args);
                        });
        return (MetadataStore) java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {MetadataStore.class}, (proxy, method, args) ->
                        method.getName().equals("shares") ? shares : method.invoke(metadata, args));
    }

    @Test
    void aStateThatMovesWhileTheGroupIsDeletedIsDecidedAgainAndOneStartedSinceIsLeftAlone() {
        stateOf("g", jobs, 0, "m", 0, 0);
        stateOf("g", jobs, 1, "m", 0, 0);
        Topic later = metadata.createTopic(new TopicConfig("later", 1, -1, -1)).join();
        ShareGroupsView racing = new ShareGroupsView(deletingAfter(() -> {
            stateOf("g", jobs, 1, "m", 0, 0);        // moved: written again, still idle
            stateOf("g", later, 0, "m", 2, NOW);      // a member reading on, as a new group
        }), SharePolicy.DEFAULT, Clock.fixed(Instant.ofEpochMilli(NOW), ZoneOffset.UTC));
        assertThat(racing.delete("g", false).join().getPartitions()).isEqualTo(2);
        assertThat(metadata.shares().list("g").join()).extracting(n -> n.topicId())
                .as("what was started after the listing").containsExactly(later.topicId());

        stateOf("h", jobs, 0, "m", 0, 0);
        stateOf("h", jobs, 1, "m", 0, 0);
        ShareGroupsView busy = new ShareGroupsView(deletingAfter(() -> stateOf("h", jobs, 1, "m", 4, NOW)),
                SharePolicy.DEFAULT, Clock.fixed(Instant.ofEpochMilli(NOW), ZoneOffset.UTC));
        assertThatThrownBy(() -> busy.delete("h", false).join()).satisfies(t -> assertThat(statusOf(t).getDescription())
                .isEqualTo("share group h is in use: its members hold 4 records (the last lock runs out in 30 s) "
                        + "(found while it was deleted: 1 of its partition states are removed); stop its members "
                        + "and try again, or delete it with force"));
    }

    @Test
    void recordsHeldOfADeletedTopicDoNotKeepTheGroup() {
        Topic gone = metadata.createTopic(new TopicConfig("gone", 1, -1, -1)).join();
        stateOf("g", gone, 0, "m", 5, NOW);
        stateOf("g", jobs, 0, "m", 0, 0);
        metadata.deleteTopic("gone").join();
        assertThat(view.delete("g", false).join().getPartitions()).isEqualTo(2);
    }

    @Test
    void deletedTopicsStatesAreForgottenForEveryGroupAndNoOtherTopicsAre() {
        Topic gone = metadata.createTopic(new TopicConfig("gone", 2, -1, -1)).join();
        stateOf("a", gone, 0, "m", 1, NOW);
        stateOf("a", gone, 1, "m", 0, 0);
        stateOf("b", gone, 0, "m", 0, 0);
        stateOf("a", jobs, 0, "m", 1, NOW);
        assertThat(view.forgetDeletedTopics().join()).as("no topic deleted yet").isZero();
        metadata.deleteTopic("gone").join();
        Topic again = metadata.createTopic(new TopicConfig("gone", 1, -1, -1)).join();
        stateOf("a", again, 0, "m", 0, 0);
        // A state of an id issued after the sweep read the last one is not decided on (a topic created meanwhile).
        metadata.shares().save("a", again.topicId() + 1, 0, ShareStateCodec.encode(
                new SharePartition(SharePolicy.DEFAULT, 0)), 0).join().orElseThrow();
        assertThat(view.forgetDeletedTopics().join()).isEqualTo(3);
        assertThat(metadata.shares().list("").join()).extracting(s -> s.group() + "/" + s.topicId())
                .containsExactlyInAnyOrder("a/" + jobs.topicId(), "a/" + again.topicId(), "a/" + (again.topicId() + 1));
        assertThat(view.forgetDeletedTopicsEvery(java.time.Duration.ofMinutes(5)).join())
                .as("ran just now (by this view's clock)").isZero();
    }
}
