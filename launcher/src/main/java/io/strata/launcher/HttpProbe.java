package io.strata.launcher;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.function.Predicate;

/** Asks an HTTP URL whether a server is up: how the launcher and the test fixtures learn it. */
public final class HttpProbe {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    /**
     * The answer to a GET of {@code url} (2 s at most); an http URL of the loopback that gets no HTTP answer is asked
     * again over https (a node with a certificate), trusting whatever certificate it shows.
     */
    public static HttpResponse<String> get(URI url) throws IOException, InterruptedException {
        try {
            return HTTP.send(HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (IOException notHttp) {
            if (!"http".equals(url.getScheme()) || !"127.0.0.1".equals(url.getHost())) {
                throw notHttp;
            }
            URI secure;
            try {
                secure = new URI("https", url.getUserInfo(), url.getHost(), url.getPort(), url.getPath(),
                        url.getQuery(), null);
            } catch (java.net.URISyntaxException e) {
                throw notHttp;
            }
            return LOOPBACK_TLS.send(HttpRequest.newBuilder(secure).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.ofString());
        }
    }

    /** For the loopback only: a local node's certificate, whatever CA made it. */
    private static final HttpClient LOOPBACK_TLS = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1))
            .sslContext(trustingContext()).build();

    private static javax.net.ssl.SSLContext trustingContext() {
        try {
            javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
            context.init(null, new javax.net.ssl.TrustManager[] {new javax.net.ssl.X509TrustManager() {
                @Override
                public void checkClientTrusted(java.security.cert.X509Certificate[] chain, String type) {
                }

                @Override
                public void checkServerTrusted(java.security.cert.X509Certificate[] chain, String type) {
                }

                @Override
                public java.security.cert.X509Certificate[] getAcceptedIssuers() {
                    return new java.security.cert.X509Certificate[0];
                }
            }}, null);
            return context;
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private HttpProbe() {
    }

    /** True once {@code accept} holds for an answer of {@code url}; false when {@code timeout} passes first
     *  or {@code process} (when given) exits. */
    public static boolean await(URI url, Predicate<HttpResponse<String>> accept, Duration timeout,
                                ManagedProcess process) {
        boolean[] ready = {false};
        Polls.until(timeout, 100, () -> (process != null && !process.isAlive()) || (ready[0] = once(url, accept)));
        return ready[0];
    }

    /**
     * One request (2 s at most): true when it is answered and {@code accept} holds for the answer. A node given a
     * certificate serves its HTTP port with TLS only: an http URL of the loopback that gets no HTTP answer is asked
     * again over https, trusting the node's certificate as a kubelet's probe does (the probe checks readiness, it
     * sends nothing secret).
     */
    public static boolean once(URI url, Predicate<HttpResponse<String>> accept) {
        try {
            return accept.test(get(url));
        } catch (IOException notListening) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
