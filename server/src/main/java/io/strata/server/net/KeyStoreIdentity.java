package io.strata.server.net;

import java.io.File;
import java.io.FileInputStream;
import java.io.InputStream;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The node's identity from a PKCS#12 or JKS key store (what Java shops and many PKIs hand out), read again like
 * the PEM pair when the file changes. The store's password opens its key too, as keytool and openssl make them.
 */
final class KeyStoreIdentity implements NodeTls.IdentitySource {
    private final File store;
    private final char[] password;
    private final String type;
    private final Optional<String> alias;

    private KeyStoreIdentity(File store, char[] password, String type, Optional<String> alias) {
        this.store = store;
        this.password = password;
        this.type = type;
        this.alias = alias;
    }

    static KeyStoreIdentity of(File store, String password, Optional<String> type, Optional<String> alias) {
        return new KeyStoreIdentity(store, password.toCharArray(), type.map(t -> t.toUpperCase(Locale.ROOT))
                .orElseGet(() -> typeOf(store.getName())), alias);
    }

    /** As Quarkus reads a store's name: .jks and .keystore are JKS, anything else (.p12, .pfx) PKCS#12. */
    static String typeOf(String fileName) {
        String name = fileName.toLowerCase(Locale.ROOT);
        return name.endsWith(".jks") || name.endsWith(".keystore") ? "JKS" : "PKCS12";
    }

    @Override
    public List<File> files() {
        return List.of(store);
    }

    @Override
    public NodeTls.Credentials read() throws Exception {
        KeyStore keyStore = KeyStore.getInstance(type);
        try (InputStream in = new FileInputStream(store)) {
            keyStore.load(in, password);
        }
        String entry = alias.orElse(null);
        if (entry == null) {
            // Quarkus's HTTP server picks a key of its own from a store of several: the ports would differ.
            List<String> keys = Collections.list(keyStore.aliases()).stream().filter(a -> {
                try {
                    return keyStore.isKeyEntry(a);
                } catch (java.security.KeyStoreException e) {
                    return false;
                }
            }).toList();
            if (keys.isEmpty()) {
                throw new GeneralSecurityException("no key in the key store " + store);
            }
            if (keys.size() > 1) {
                throw new GeneralSecurityException("the key store " + store + " holds " + keys.size() + " keys ("
                        + String.join(", ", keys) + "): name the node's with strata.tls.key-store-alias");
            }
            entry = keys.get(0);
        } else if (!keyStore.isKeyEntry(entry)) {
            throw new GeneralSecurityException("no key named '" + entry + "' in the key store " + store
                    + " (strata.tls.key-store-alias)");
        }
        Key key = keyStore.getKey(entry, password);
        if (!(key instanceof PrivateKey privateKey)) {
            throw new GeneralSecurityException("the entry '" + entry + "' of " + store + " is not a private key");
        }
        Certificate[] chain = keyStore.getCertificateChain(entry);
        if (chain == null || chain.length == 0) {
            throw new GeneralSecurityException("the key '" + entry + "' of " + store + " has no certificate");
        }
        X509Certificate[] x509 = new X509Certificate[chain.length];
        for (int i = 0; i < chain.length; i++) {
            x509[i] = (X509Certificate) chain[i];
        }
        return new NodeTls.Credentials(x509, privateKey);
    }

    @Override
    public String toString() {
        return type + " key store " + store;
    }
}
