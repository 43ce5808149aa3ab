package io.strata.storage.object.s3;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;

/**
 * IAM roles for service accounts (EKS): the pod gets AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE, and the
 * default credentials chain, which the S3 store uses when no keys are configured, must exchange the token
 * for the role's credentials at STS. Proved in a JVM of its own started with exactly that environment, STS
 * being a local server that answers AssumeRoleWithWebIdentity as AWS does.
 */
class WebIdentityCredentialsTest {
    @TempDir
    Path dir;

    @Test
    void theDefaultChainAssumesTheRoleNamedInTheEnvironmentWithTheTokenFile() throws Exception {
        Path token = dir.resolve("token");
        Files.writeString(token, "the-projected-service-account-token");
        List<Map<String, String>> calls = new CopyOnWriteArrayList<>();
        HttpServer sts = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        sts.createContext("/", exchange -> {
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            Map<String, String> form = new java.util.HashMap<>();
            for (String pair : body.split("&")) {
                String[] kv = pair.split("=", 2);
                form.put(URLDecoder.decode(kv[0], StandardCharsets.UTF_8),
                        kv.length > 1 ? URLDecoder.decode(kv[1], StandardCharsets.UTF_8) : "");
            }
            calls.add(form);
            byte[] answer = ("<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
                    + "<AssumeRoleWithWebIdentityResult><Credentials>"
                    + "<AccessKeyId>ASIAROLEFROMTOKEN</AccessKeyId><SecretAccessKey>role-secret</SecretAccessKey>"
                    + "<SessionToken>role-session-token</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration>"
                    + "</Credentials><SubjectFromWebIdentityToken>system:serviceaccount:strata:strata"
                    + "</SubjectFromWebIdentityToken></AssumeRoleWithWebIdentityResult>"
                    + "<ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>"
                    + "</AssumeRoleWithWebIdentityResponse>").getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "text/xml");
            exchange.sendResponseHeaders(200, answer.length);
            exchange.getResponseBody().write(answer);
            exchange.close();
        });
        sts.start();
        try {
            List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                    .toString(), "-cp", System.getProperty("java.class.path"), ResolveCredentials.class.getName()));
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
            Map<String, String> env = builder.environment();
            env.keySet().removeIf(k -> k.startsWith("AWS_"));
            env.put("HOME", dir.toString()); // no ~/.aws files
            env.put("AWS_REGION", "us-east-1");
            env.put("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/strata");
            env.put("AWS_WEB_IDENTITY_TOKEN_FILE", token.toString());
            env.put("AWS_ROLE_SESSION_NAME", "strata-test");
            env.put("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:" + sts.getAddress().getPort());
            env.put("AWS_EC2_METADATA_DISABLED", "true");
            Process child = builder.start();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            child.getInputStream().transferTo(out);
            assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
            String output = out.toString(StandardCharsets.UTF_8);

            assertThat(child.exitValue()).as(output).isZero();
            assertThat(output).contains("access-key=ASIAROLEFROMTOKEN").contains("session-token=role-session-token");
            assertThat(calls).hasSize(1);
            assertThat(calls.get(0)).containsEntry("Action", "AssumeRoleWithWebIdentity")
                    .containsEntry("RoleArn", "arn:aws:iam::123456789012:role/strata")
                    .containsEntry("WebIdentityToken", "the-projected-service-account-token");
        } finally {
            sts.stop(0);
        }
    }

    /** Resolves credentials the way {@link S3ObjectStore} does without configured keys, and prints them. */
    public static final class ResolveCredentials {
        public static void main(String[] args) {
            AwsCredentials c = DefaultCredentialsProvider.builder().build().resolveCredentials();
            String token = c instanceof software.amazon.awssdk.auth.credentials.AwsSessionCredentials s
                    ? s.sessionToken() : "";
            System.out.println("access-key=" + c.accessKeyId() + " session-token=" + token);
        }
    }
}
