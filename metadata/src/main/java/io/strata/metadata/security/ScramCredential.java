package io.strata.metadata.security;

/**
 * SCRAM-SHA-512 material of a password (RFC 5802): {@code storedKey} = H(HMAC(SaltedPassword, "Client Key")) and
 * {@code serverKey} = HMAC(SaltedPassword, "Server Key"), SaltedPassword being PBKDF2-HMAC-SHA-512 of the password
 * over {@code salt} and {@code iterations}. Enough to check a password (or a SCRAM exchange) and to prove the
 * server's side, never enough to recover the password or to sign in with it.
 */
public record ScramCredential(int iterations, byte[] salt, byte[] storedKey, byte[] serverKey) {
    public ScramCredential {
        if (iterations < 4096 || salt == null || salt.length < 16 || storedKey == null || serverKey == null) {
            throw new IllegalArgumentException("SCRAM material needs at least 4096 iterations and 16 bytes of salt");
        }
        salt = salt.clone();
        storedKey = storedKey.clone();
        serverKey = serverKey.clone();
    }

    @Override
    public byte[] salt() {
        return salt.clone();
    }

    @Override
    public byte[] storedKey() {
        return storedKey.clone();
    }

    @Override
    public byte[] serverKey() {
        return serverKey.clone();
    }
}
