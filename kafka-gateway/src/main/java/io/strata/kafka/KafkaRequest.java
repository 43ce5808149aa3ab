package io.strata.kafka;

import java.net.InetSocketAddress;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.RequestHeader;

/** One parsed request of a connection, with where it came from and the connection's state. */
public record KafkaRequest(RequestHeader header, AbstractRequest body, KafkaSession session) {
    public InetSocketAddress client() {
        return session.client();
    }

    public short version() {
        return header.apiVersion();
    }

    /** The request's message, as its API's own type (an API knows what it was sent). */
    @SuppressWarnings("unchecked")
    public <T extends org.apache.kafka.common.protocol.ApiMessage> T data() {
        return (T) body.data();
    }
}
