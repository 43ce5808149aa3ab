package io.strata.kafka;

import java.time.Duration;

/**
 * How a node's Kafka listener runs.
 *
 * @param host                where it listens (the node's listen host)
 * @param port                its port; 0 picks a free one (the node answers the bound port)
 * @param advertisedHost      the host clients are told to connect to (Metadata's brokers)
 * @param maxRequestBytes     a request's size (its length prefix) at most: a larger one closes its connection
 *                            before any of it is buffered
 * @param maxInflightRequests requests of one connection being answered at once; the connection is not read
 *                            further until one is answered (Kafka producers pipeline up to 5)
 * @param maxFetchWait        the longest a Fetch is held, whatever {@code max_wait_ms} asks
 * @param rack                the zone this node is in, told to clients as its rack (null: none)
 * @param maxMessageBytes     the node's limit of a record's size, shown as topics' {@code max.message.bytes}
 * @param compressionLevel    the zstd level of the record batches produced records become
 * @param maxProduceBytes     the most a produce request's records may inflate to on the node (its ingest
 *                            handler's limit), so the door refuses what the node would
 * @param tls                 the server side of TLS (clients connect with {@code security.protocol=SSL}), or
 *                            null for plaintext
 * @param maxConnectionsPerAddress   connections one client address may have open (Kafka's
 *                            {@code max.connections.per.ip}); past it a new one is closed at once. 0: no bound
 * @param maxConnectionsPerPrincipal connections one signed-in principal may have open; past it a connection is
 *                            closed once it has signed in. 0: no bound
 */
public record KafkaSettings(String host, int port, String advertisedHost, int maxRequestBytes,
                            int maxInflightRequests, Duration maxFetchWait, String rack, int maxMessageBytes,
                            int compressionLevel, int maxProduceBytes, io.netty.handler.ssl.SslContext tls,
                            int maxConnectionsPerAddress, int maxConnectionsPerPrincipal) {
    public KafkaSettings {
        if (port < 0 || port > 65_535 || maxRequestBytes < 1024 || maxInflightRequests < 1
                || maxFetchWait.isNegative() || compressionLevel < -7 || compressionLevel > 22 || maxProduceBytes < 1) {
            throw new IllegalArgumentException("invalid Kafka listener settings: port " + port + ", max request "
                    + maxRequestBytes + " bytes, " + maxInflightRequests + " requests in flight, compression level "
                    + compressionLevel + " (zstd: -7 to 22)");
        }
    }
}
