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

    private HttpProbe() {
    }

    /** True once {@code accept} holds for an answer of {@code url}; false when {@code timeout} passes first
     *  or {@code process} (when given) exits. */
    public static boolean await(URI url, Predicate<HttpResponse<String>> accept, Duration timeout,
                                ManagedProcess process) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (process != null && !process.isAlive()) {
                return false;
            }
            if (once(url, accept)) {
                return true;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return false;
    }

    /** One request (2 s at most): true when it is answered and {@code accept} holds for the answer. */
    public static boolean once(URI url, Predicate<HttpResponse<String>> accept) {
        try {
            return accept.test(HTTP.send(HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.ofString()));
        } catch (IOException notListening) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
