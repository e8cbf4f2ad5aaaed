package dev.verge.agent;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * The settings of one edge node, as its operator gives them ({@code verge node run}); each agent
 * takes what concerns it.
 *
 * @param stateDir device state: identity, persisted bus topics, daemon state, audit log
 * @param serial the device serial presented at onboarding
 * @param controllerTarget host:port of the controller's device service
 * @param controllerName the name on the controller's TLS certificate (empty: the target's host)
 * @param controllerCaCert the controller CA certificate installed on the device (root of trust)
 * @param localApi where the local API listens, if anywhere
 * @param localApiToken the local API's bearer token (at least 16 characters when it listens)
 * @param metricsInterval how often metrics go to the controller
 * @param flowLogInterval how often flow logs go to the controller
 * @param reconnectMin first back-off after losing the controller
 * @param reconnectMax longest back-off
 */
public record NodeSettings(
    Path stateDir,
    String serial,
    String controllerTarget,
    String controllerName,
    Path controllerCaCert,
    Optional<InetSocketAddress> localApi,
    String localApiToken,
    Duration metricsInterval,
    Duration flowLogInterval,
    Duration reconnectMin,
    Duration reconnectMax) {

  public NodeSettings {
    Objects.requireNonNull(stateDir, "stateDir");
    Objects.requireNonNull(localApi, "localApi");
    controllerName = controllerName == null ? "" : controllerName;
    localApiToken = localApiToken == null ? "" : localApiToken;
  }
}
