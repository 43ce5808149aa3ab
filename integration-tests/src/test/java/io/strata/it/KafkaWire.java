package io.strata.it;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.apache.kafka.common.message.RequestHeaderData;
import org.apache.kafka.common.message.SaslAuthenticateRequestData;
import org.apache.kafka.common.message.SaslAuthenticateResponseData;
import org.apache.kafka.common.message.SaslHandshakeRequestData;
import org.apache.kafka.common.message.SaslHandshakeResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.apache.kafka.common.requests.AbstractResponse;
import org.apache.kafka.common.requests.ResponseHeader;

/**
 * One Kafka connection over TLS, speaking the wire protocol request by request as any client does, built on
 * Kafka's own message classes: so a test can send each API exactly once, at the version it chooses, and see the
 * answer (or the closed connection) the listener gives it, which Kafka's clients hide behind retries.
 */
final class KafkaWire implements AutoCloseable {
    private final SSLSocket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private int correlationId;

    private KafkaWire(SSLSocket socket) throws IOException {
        this.socket = socket;
        this.in = new DataInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
    }

    /** A connection to {@code address} (host:port) trusting the node certificates {@code caPem} signed. */
    static KafkaWire open(String address, Path caPem) throws Exception {
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        try (InputStream pem = Files.newInputStream(caPem)) {
            trust.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(pem));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        int colon = address.lastIndexOf(':');
        SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(address.substring(0, colon),
                Integer.parseInt(address.substring(colon + 1)));
        socket.setSoTimeout(20_000);
        socket.startHandshake();
        return new KafkaWire(socket);
    }

    /** Signs in with SASL PLAIN; answers SaslAuthenticate's error (NONE when signed in). */
    Errors signInPlain(String user, String password) throws IOException {
        var handshake = (SaslHandshakeResponseData) call(new SaslHandshakeRequestData().setMechanism("PLAIN"),
                (short) 1).orElseThrow().data();
        if (handshake.errorCode() != Errors.NONE.code()) {
            return Errors.forCode(handshake.errorCode());
        }
        byte[] token = ("\0" + user + "\0" + password).getBytes(StandardCharsets.UTF_8);
        var answer = (SaslAuthenticateResponseData) call(new SaslAuthenticateRequestData().setAuthBytes(token),
                (short) 2).orElseThrow().data();
        return Errors.forCode(answer.errorCode());
    }

    /** The API's answer, or empty when the listener closed the connection instead of answering. */
    Optional<AbstractResponse> call(ApiMessage request, short version) throws IOException {
        ApiKeys key = ApiKeys.forId(request.apiKey());
        RequestHeaderData header = new RequestHeaderData().setRequestApiKey(key.id).setRequestApiVersion(version)
                .setClientId("strata-matrix").setCorrelationId(++correlationId);
        short headerVersion = key.requestHeaderVersion(version);
        ObjectSerializationCache cache = new ObjectSerializationCache();
        int size = header.size(cache, headerVersion) + request.size(cache, version);
        ByteBuffer frame = ByteBuffer.allocate(4 + size);
        frame.putInt(size);
        ByteBufferAccessor writer = new ByteBufferAccessor(frame);
        header.write(writer, cache, headerVersion);
        request.write(writer, cache, version);
        try {
            out.write(frame.array());
            out.flush();
            int length = in.readInt();
            byte[] body = new byte[length];
            in.readFully(body);
            ByteBuffer answer = ByteBuffer.wrap(body);
            ResponseHeader responseHeader = ResponseHeader.parse(answer, key.responseHeaderVersion(version));
            if (responseHeader.correlationId() != correlationId) {
                throw new IOException("answer to request " + responseHeader.correlationId() + ", expected "
                        + correlationId);
            }
            return Optional.of(AbstractResponse.parseResponse(key, new ByteBufferAccessor(answer), version));
        } catch (EOFException | SocketException | SSLException closed) {
            return Optional.empty();
        }
    }

    /** The errors an answer carries, as Kafka's clients count them (top level and per resource). */
    static Map<Errors, Integer> errors(AbstractResponse answer) {
        return answer.errorCounts();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
