package io.strata.security;

import io.strata.metadata.security.ScramCredential;
import io.strata.metadata.security.User;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.function.Function;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Checks a user's password against its SCRAM material. A client sends its password with every call; the slow
 * PBKDF2 runs once per user and password, and later calls with the same pair and the same stored material are
 * answered from a bounded cache of keyed digests (never of passwords). A changed password or a removed user no
 * longer matches at once. Checks that miss the cache run at most {@code maxConcurrent} at a time: more fail
 * as {@link Outcome#BUSY} instead of queueing, so a flood of guesses costs a bounded share of the node.
 */
public final class PasswordCheck {
    public enum Outcome { ACCEPTED, REJECTED, BUSY }

    public record Result(Outcome outcome, Optional<Identity> identity) {
    }

    private static final int MAX_CACHED = 10_000;
    /** Checked against when the user does not exist, so that an unknown name costs what a known one does. */
    private static final ScramCredential UNKNOWN = Scram.create("no such user");
    private final java.util.concurrent.atomic.LongAdder slowChecks = new java.util.concurrent.atomic.LongAdder();
    private final Function<String, Optional<User>> users;
    private final Semaphore slow;
    /** A key of this process only: a digest in the cache says nothing about a password elsewhere. */
    private final byte[] key = new byte[32];
    private final Map<String, byte[]> accepted = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, byte[]> eldest) {
            return size() > MAX_CACHED;
        }
    };

    public PasswordCheck(Function<String, Optional<User>> users, int maxConcurrent) {
        this.users = users;
        this.slow = new Semaphore(maxConcurrent);
        new SecureRandom().nextBytes(key);
    }

    /**
     * The answer when it needs no slow check (the pair was accepted before and the user is unchanged); empty
     * when {@link #check} must run PBKDF2, which a caller on an event loop hands to a worker.
     */
    public Optional<Result> checkCached(String name, String password) {
        Optional<User> found = name == null ? Optional.empty() : users.apply(name);
        if (found.isEmpty() || password == null) {
            return Optional.empty(); // as slow as a known user's check: timing does not tell who exists
        }
        byte[] digest = digest(name, password, found.get().credential());
        synchronized (accepted) {
            byte[] known = accepted.get(name);
            if (known != null && MessageDigest.isEqual(known, digest)) {
                return Optional.of(accepted(found.get()));
            }
        }
        return Optional.empty();
    }

    public Result check(String name, String password) {
        Optional<Result> cached = checkCached(name, password);
        if (cached.isPresent()) {
            return cached.get();
        }
        Optional<User> found = name == null ? Optional.empty() : users.apply(name);
        if (!slow.tryAcquire()) {
            return new Result(Outcome.BUSY, Optional.empty());
        }
        slowChecks.increment();
        try {
            if (found.isEmpty() || password == null) {
                Scram.matches(UNKNOWN, password == null ? "" : password); // the same work as for a known user
                return new Result(Outcome.REJECTED, Optional.empty());
            }
            if (!Scram.matches(found.get().credential(), password)) {
                return new Result(Outcome.REJECTED, Optional.empty());
            }
        } finally {
            slow.release();
        }
        User user = found.get();
        byte[] digest = digest(name, password, user.credential());
        synchronized (accepted) {
            accepted.put(name, digest);
        }
        return accepted(user);
    }

    /** How many checks ran PBKDF2 (the others were answered from the cache). */
    public long slowChecks() {
        return slowChecks.sum();
    }

    private static Result accepted(User user) {
        return new Result(Outcome.ACCEPTED, Optional.of(Identity.user(user.name(), user.groups(), "password")));
    }

    /** Binds the password to the material it was checked against: a new password or salt gives another digest. */
    private byte[] digest(String name, String password, ScramCredential c) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            mac.update(name.getBytes(StandardCharsets.UTF_8));
            mac.update((byte) 0);
            mac.update(c.salt());
            mac.update(c.storedKey());
            mac.update((byte) 0);
            return mac.doFinal(password.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
