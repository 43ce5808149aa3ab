package io.strata.metadata.etcd;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * How a node proves itself to etcd and checks etcd: TLS trusting {@code ca} (etcd's {@code --trusted-ca-file}
 * side), a client certificate and key for etcd's {@code --client-cert-auth}, and etcd's own user and password
 * authentication. Every part is optional; {@link #NONE} is plaintext without credentials.
 */
public record EtcdSecurity(Optional<Path> ca, Optional<Path> certificate, Optional<Path> key, Optional<String> user,
                           Optional<String> password) {
    public static final EtcdSecurity NONE = new EtcdSecurity(Optional.empty(), Optional.empty(), Optional.empty(),
            Optional.empty(), Optional.empty());

    public EtcdSecurity {
        if (certificate.isPresent() != key.isPresent()) {
            throw new IllegalArgumentException("an etcd client certificate and its key go together");
        }
        if (user.isPresent() != password.isPresent()) {
            throw new IllegalArgumentException("an etcd user and its password go together");
        }
        for (Optional<Path> file : java.util.List.of(ca, certificate, key)) {
            if (file.isPresent() && !Files.isReadable(file.get())) {
                throw new IllegalArgumentException("cannot read " + file.get());
            }
        }
    }

    /** Whether the connection speaks TLS. */
    public boolean tls() {
        return ca.isPresent() || certificate.isPresent();
    }
}
