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

    /** A TLS context that trusts the CA in {@code caPem} alone, as a client given that CA does. */
    static javax.net.ssl.SSLContext trusting(Path caPem) throws Exception {
        java.security.cert.X509Certificate ca;
        try (var in = java.nio.file.Files.newInputStream(caPem)) {
            ca = (java.security.cert.X509Certificate) java.security.cert.CertificateFactory.getInstance("X.509")
                    .generateCertificate(in);
        }
        java.security.KeyStore trust = java.security.KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", ca);
        javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance("PKIX");
        tmf.init(trust);
        javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        return context;
    }
}
