package io.strata.queues.share;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.queues.share.SharePartition.Acquired;
import io.strata.queues.share.SharePartition.Answer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Random histories of members taking, answering and dropping records while time passes and the log grows,
 * checked against a plain per-offset model: no record is held by two members at once, none is handed out
 * again once accepted, before its back-off, or past its last delivery; the window stays bounded; and the
 * stored state reads back as it was after every step.
 */
class SharePartitionPropertiesTest {
    private static final SharePolicy POLICY = new SharePolicy(1_000, 3, 100, 2.0, 400, 20, true);
    private static final List<String> MEMBERS = List.of("a", "b", "c");

    /** One step: what a member does, how much time passes first. */
    record Step(int kind, String member, int count, int offsetPick, long delayMs, int advanceMs, int grow) {
    }

    /** What the model knows of one offset. */
    static final class Model {
        DeliveryState state = DeliveryState.AVAILABLE;
        int deliveries;
        String member;
        long until;
    }

    @Provide
    Arbitrary<List<Step>> histories() {
        Arbitrary<Step> step = Combinators.combine(Arbitraries.integers().between(0, 4), Arbitraries.of(MEMBERS),
                Arbitraries.integers().between(1, 8), Arbitraries.integers().between(0, 40),
                Arbitraries.of(-1L, 0L, 50L, 300L, 600L), Arbitraries.of(0, 10, 150, 600, 1_200),
                Arbitraries.integers().between(0, 5)).as(Step::new);
        return step.list().ofMinSize(1).ofMaxSize(80);
    }

    @Property(tries = 400)
    void everyHistoryKeepsTheRulesOfAShareGroup(@ForAll("histories") List<Step> history) {
        SharePartition p = new SharePartition(POLICY, 0);
        Map<Long, Model> model = new HashMap<>();
        long now = 0;
        long logEnd = 0;
        for (Step s : history) {
            now += s.advanceMs();
            logEnd += s.grow();
            // Every operation first releases whatever lock ran out by now, everywhere.
            for (Model m : model.values()) {
                expireIfDue(m, now);
            }
            switch (s.kind()) {
                case 0, 1 -> {
                    List<Acquired> got = p.acquire(s.member(), s.count(), logEnd, now);
                    long total = 0;
                    for (Acquired a : got) {
                        for (long o = a.first(); o <= a.last(); o++) {
                            Model m = model.computeIfAbsent(o, x -> new Model());
                            expireIfDue(m, now);
                            assertThat(o).as("below the log end").isLessThan(logEnd);
                            assertThat(m.state).as("offset %d handed to %s at %d", o, s.member(), now)
                                    .isEqualTo(DeliveryState.AVAILABLE);
                            assertThat(m.until).as("offset %d before its back-off", o).isLessThanOrEqualTo(now);
                            assertThat(m.deliveries).as("offset %d past its last delivery", o)
                                    .isLessThan(POLICY.maxDeliveries());
                            m.state = DeliveryState.ACQUIRED;
                            m.member = s.member();
                            m.deliveries++;
                            m.until = now + POLICY.lockMs();
                            assertThat(a.deliveries()).isEqualTo(m.deliveries);
                            total++;
                        }
                    }
                    assertThat(total).isLessThanOrEqualTo(s.count());
                }
                case 2, 3 -> {
                    long first = s.offsetPick();
                    long last = first + s.count() - 1;
                    Answer answer = s.kind() == 2 ? (s.delayMs() == 50 ? Answer.GIVE_BACK : Answer.ACCEPT)
                            : s.delayMs() == 300 ? Answer.REJECT : Answer.RELEASE;
                    var outcome = p.answer(s.member(), first, last, answer, s.delayMs(), "why", now);
                    long held = 0;
                    for (long o = first; o <= last; o++) {
                        Model m = model.get(o);
                        if (m == null) {
                            continue;
                        }
                        expireIfDue(m, now);
                        if (m.state == DeliveryState.ACQUIRED && m.member.equals(s.member())) {
                            held++;
                            switch (answer) {
                                case ACCEPT -> m.state = DeliveryState.ACKNOWLEDGED;
                                case REJECT -> m.state = DeliveryState.DEAD_LETTERING;
                                case RELEASE -> fail(m, now, s.delayMs());
                                case GIVE_BACK -> {
                                    m.state = DeliveryState.AVAILABLE;
                                    m.deliveries--;
                                    m.until = 0;
                                }
                            }
                            m.member = null;
                        }
                    }
                    assertThat(outcome.applied()).as("offsets %d-%d held by %s", first, last, s.member()).isEqualTo(held);
                }
                default -> {
                    p.releaseMember(s.member(), now);
                    for (Model m : model.values()) {
                        expireIfDue(m, now);
                        if (m.state == DeliveryState.ACQUIRED && m.member.equals(s.member())) {
                            fail(m, now, -1);
                        }
                    }
                }
            }
            // Dead-letter copies are written now and then.
            if (s.grow() == 0) {
                for (StateRun r : p.deadLettering()) {
                    p.deadLettered(r.first(), r.last());
                    for (long o = r.first(); o <= r.last(); o++) {
                        model.get(o).state = DeliveryState.ARCHIVED;
                    }
                }
            }
            assertThat(p.end() - p.start()).isLessThanOrEqualTo(POLICY.maxInFlight());
            for (StateRun r : p.runs()) {
                for (long o = r.first(); o <= r.last(); o++) {
                    Model m = model.get(o);
                    if (m.state == DeliveryState.ACQUIRED && m.until <= now) {
                        continue; // the partition releases it at its next step, as the model does
                    }
                    assertThat(r.state()).as("offset %d at %d", o, now).isEqualTo(m.state);
                    assertThat(r.deliveries()).isEqualTo(m.deliveries);
                }
            }
            for (long o = 0; o < p.start(); o++) {
                Model m = model.get(o);
                assertThat(m.state == DeliveryState.ACKNOWLEDGED || m.state == DeliveryState.ARCHIVED)
                        .as("offset %d before the start is done", o).isTrue();
            }
            SharePartition read = ShareStateCodec.decode(ShareStateCodec.encode(p), POLICY);
            assertThat(read.runs()).isEqualTo(p.runs());
            assertThat(read.start()).isEqualTo(p.start());
        }
    }

    private static void expireIfDue(Model m, long now) {
        if (m.state == DeliveryState.ACQUIRED && m.until <= now) {
            fail(m, now, -1);
            m.member = null;
        }
    }

    private static void fail(Model m, long now, long delayMs) {
        m.member = null;
        if (m.deliveries >= POLICY.maxDeliveries()) {
            m.state = DeliveryState.DEAD_LETTERING;
            m.until = 0;
        } else {
            m.state = DeliveryState.AVAILABLE;
            m.until = now + (delayMs >= 0 ? Math.min(delayMs, POLICY.backoffMaxMs()) : POLICY.backoffMs(m.deliveries));
        }
    }
}
