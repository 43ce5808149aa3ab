package io.strata.kafka;

import java.net.InetSocketAddress;
import org.apache.kafka.common.requests.AbstractRequest;
import org.apache.kafka.common.requests.RequestHeader;

/** One parsed request of a connection, with where it came from. */
public record KafkaRequest(RequestHeader header, AbstractRequest body, InetSocketAddress client) {
    public short version() {
        return header.apiVersion();
    }
}
