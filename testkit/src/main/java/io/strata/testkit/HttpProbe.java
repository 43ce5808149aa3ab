package io.strata.testkit;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.function.Predicate;

/** Polls an HTTP URL until an answer satisfies a check: how fixtures learn that a server is up. */
public final class HttpProbe {
    private HttpProbe() {
    }

    /** True once {@code accept} holds for an answer of {@code url}; false when {@code timeout} passes first. */
    public static boolean await(URI url, Predicate<HttpResponse<String>> accept, Duration timeout,
                                ManagedProcess process) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (process != null && !process.isAlive()) {
                return false;
            }
            try {
                HttpResponse<String> response = http.send(HttpRequest.newBuilder(url)
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
                if (accept.test(response)) {
                    return true;
                }
            } catch (IOException notYet) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
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
}
