package io.strata.security;

import static org.assertj.core.api.Assertions.assertThat;

import io.strata.metadata.security.User;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

class PasswordCheckTest {
    private final Map<String, User> users = new ConcurrentHashMap<>();
    private final PasswordCheck check = new PasswordCheck(n -> Optional.ofNullable(users.get(n)), 2);

    @Test
    void theRightPasswordGivesTheUsersIdentityWithItsGroups() {
        users.put("alice", new User("alice", Scram.create("s3cret"), List.of("ops"), 0));
        PasswordCheck.Result r = check.check("alice", "s3cret");
        assertThat(r.outcome()).isEqualTo(PasswordCheck.Outcome.ACCEPTED);
        assertThat(r.identity().orElseThrow().principal()).isEqualTo("User:alice");
        assertThat(r.identity().orElseThrow().groups()).containsExactly("ops");
        assertThat(check.slowChecks()).isEqualTo(1);
        assertThat(check.checkCached("alice", "s3cret")).isPresent();
        assertThat(check.check("alice", "s3cret").outcome()).isEqualTo(PasswordCheck.Outcome.ACCEPTED);
        assertThat(check.slowChecks()).as("answered from the cache").isEqualTo(1);
        assertThat(check.checkCached("alice", "other")).isEmpty();
    }

    @Test
    void aWrongPasswordAnUnknownUserAndAChangedPasswordAreRejected() {
        users.put("bob", new User("bob", Scram.create("one"), List.of(), 0));
        assertThat(check.check("bob", "two").outcome()).isEqualTo(PasswordCheck.Outcome.REJECTED);
        assertThat(check.check("carol", "one").outcome()).isEqualTo(PasswordCheck.Outcome.REJECTED);
        assertThat(check.check("bob", "one").outcome()).isEqualTo(PasswordCheck.Outcome.ACCEPTED);

        users.put("bob", new User("bob", Scram.create("two"), List.of(), 0));
        assertThat(check.check("bob", "one").outcome()).isEqualTo(PasswordCheck.Outcome.REJECTED);
        assertThat(check.check("bob", "two").outcome()).isEqualTo(PasswordCheck.Outcome.ACCEPTED);
        users.remove("bob");
        assertThat(check.checkCached("bob", "two")).isEmpty();
        assertThat(check.check("bob", "two").outcome()).isEqualTo(PasswordCheck.Outcome.REJECTED);
        long before = check.slowChecks();
        check.check("nobody-at-all", "x");
        assertThat(check.slowChecks()).as("an unknown user costs a check too").isEqualTo(before + 1);
    }
}
