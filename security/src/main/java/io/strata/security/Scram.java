package io.strata.security;

import io.strata.metadata.security.ScramCredential;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * SCRAM-SHA-512 material (RFC 5802 / RFC 7677) made from a password and checked against one. The same
 * material serves a password given over gRPC (checked here) and a Kafka client's SCRAM-SHA-512 exchange.
 * PBKDF2 over {@value #ITERATIONS} iterations makes each check cost milliseconds: cheap for a sign-in,
 * expensive for guessing.
 */
public final class Scram {
    /** Kafka's minimum for SCRAM-SHA-512, and what its tools use by default. */
    public static final int ITERATIONS = 4096;
    private static final SecureRandom RANDOM = new SecureRandom();

    private Scram() {
    }

    public static ScramCredential create(String password) {
        byte[] salt = new byte[32];
        RANDOM.nextBytes(salt);
        return create(password, salt, ITERATIONS);
    }

    public static ScramCredential create(String password, byte[] salt, int iterations) {
        byte[] salted = saltedPassword(password, salt, iterations);
        return new ScramCredential(iterations, salt, storedKey(salted), hmac(salted, "Server Key"));
    }

    /**
     * The material of a password a client salted itself (Kafka's AlterUserScramCredentials sends
     * PBKDF2(password, salt, iterations), never the password).
     */
    public static ScramCredential fromSaltedPassword(byte[] saltedPassword, byte[] salt, int iterations) {
        return new ScramCredential(iterations, salt, storedKey(saltedPassword), hmac(saltedPassword, "Server Key"));
    }

    /** Whether {@code password} is the one the material was made from (compared in constant time). */
    public static boolean matches(ScramCredential credential, String password) {
        byte[] salted = saltedPassword(password, credential.salt(), credential.iterations());
        return MessageDigest.isEqual(storedKey(salted), credential.storedKey());
    }

    static byte[] saltedPassword(String password, byte[] salt, int iterations) {
        char[] chars = password.toCharArray();
        try {
            // SunJCE's PBKDF2 takes the password as UTF-8 bytes, as SCRAM does (RFC 5802's Hi()).
            PBEKeySpec spec = new PBEKeySpec(chars, salt, iterations, 512);
            return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA512").generateSecret(spec).getEncoded();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("PBKDF2WithHmacSHA512 is not available", e);
        } finally {
            java.util.Arrays.fill(chars, '\0');
        }
    }

    static byte[] storedKey(byte[] saltedPassword) {
        try {
            return MessageDigest.getInstance("SHA-512").digest(hmac(saltedPassword, "Client Key"));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] hmac(byte[] key, String text) {
        try {
            Mac mac = Mac.getInstance("HmacSHA512");
            mac.init(new SecretKeySpec(key, "HmacSHA512"));
            return mac.doFinal(text.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
