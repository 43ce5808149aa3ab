package io.strata.kafka.admin;

import io.strata.kafka.KafkaApi;
import io.strata.kafka.KafkaBackends;
import io.strata.kafka.KafkaRequest;
import io.strata.kafka.cluster.Broker;
import io.strata.kafka.cluster.Brokers;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.common.message.DescribeClusterResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/** DescribeCluster: the cluster id and the brokers of Metadata; this node stands as the controller. */
public final class DescribeClusterApi implements KafkaApi {
    private final KafkaBackends backends;
    private final Brokers brokers;

    public DescribeClusterApi(KafkaBackends backends, Brokers brokers) {
        this.backends = backends;
        this.brokers = brokers;
    }

    @Override
    public ApiKeys key() {
        return ApiKeys.DESCRIBE_CLUSTER;
    }

    @Override
    public CompletableFuture<ApiMessage> handle(KafkaRequest request) {
        DescribeClusterResponseData response = new DescribeClusterResponseData().setErrorCode(Errors.NONE.code())
                .setClusterId(backends.metadata().cluster().clusterId()).setControllerId(brokers.self().id())
                .setEndpointType((byte) 1);
        for (Broker b : brokers.all()) {
            response.brokers().add(new DescribeClusterResponseData.DescribeClusterBroker().setBrokerId(b.id())
                    .setHost(b.host()).setPort(b.port()).setRack(b.rack()));
        }
        return CompletableFuture.completedFuture(response);
    }
}
