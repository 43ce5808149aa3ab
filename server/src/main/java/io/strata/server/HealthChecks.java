package io.strata.server;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready once the node's stores are open, its roles started and it is registered. */
@Readiness
@ApplicationScoped
public class HealthChecks implements HealthCheck {
    @Inject
    StrataNode node;

    @Override
    public HealthCheckResponse call() {
        return HealthCheckResponse.named("strata-node").status(node.ready()).build();
    }
}
