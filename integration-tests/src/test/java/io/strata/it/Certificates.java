package io.strata.it;

import io.strata.launcher.tls.LocalCertificates;
import java.nio.file.Path;

/** CAs and certificates for 127.0.0.1 made with the JDK's keytool, as `strata cluster up --secure` makes them. */
final class Certificates {
    private Certificates() {
    }

    /** {@code store}: the PKCS#12 key store (password "secret") of the certificate and its key. */
    record Issued(Path caPem, Path certificatePem, Path keyPem, Path store) {
    }

    /** A new CA named {@code ca} and a certificate it signs. */
    static Issued issue(Path dir, String ca, String name) {
        return issue(dir, ca, name, "ip:127.0.0.1,dns:localhost");
    }

    static Issued issue(Path dir, String ca, String name, String san) {
        new LocalCertificates(dir, 2).newCa(ca);
        return issueWith(dir, ca, name, san);
    }

    static Issued issueWith(Path dir, String ca, String name) {
        return issueWith(dir, ca, name, "ip:127.0.0.1,dns:localhost");
    }

    /** A certificate signed by the CA {@code ca} made before. */
    static Issued issueWith(Path dir, String ca, String name, String san) {
        LocalCertificates.Issued i = new LocalCertificates(dir, 2).issue(ca, name, san);
        return new Issued(i.caPem(), i.certificatePem(), i.keyPem(), i.store());
    }
}
