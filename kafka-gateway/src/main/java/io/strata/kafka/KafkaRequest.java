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
}
