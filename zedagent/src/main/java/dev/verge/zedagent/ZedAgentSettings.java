package dev.verge.zedagent;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * How zedagent reaches its controller and serves the local API.
 *
 * @param serial the device serial presented at onboarding
 * @param controllerTarget host:port of the controller's device service
 * @param controllerAuthority the name the controller's TLS certificate is checked against (empty:
 *     the host of {@code controllerTarget})
 * @param controllerCaPem the controller CA certificate installed on the device (root of trust)
 * @param stateDir device state: identity, persisted bus topics, audit log
 * @param localApi where the local override API listens (empty: no local API)
 * @param localApiToken the bearer token the local API requires
 * @param metricsInterval how often metrics are uploaded
 * @param flowLogInterval how often flow log batches are uploaded
 * @param reconnectMin first back-off after losing the controller
 * @param reconnectMax longest back-off
 * @param rpcDeadline deadline of every unary call
 */
public record ZedAgentSettings(
    String serial,
    String controllerTarget,
    String controllerAuthority,
    Path controllerCaPem,
    Path stateDir,
    Optional<InetSocketAddress> localApi,
    String localApiToken,
    Duration metricsInterval,
    Duration flowLogInterval,
    Duration reconnectMin,
    Duration reconnectMax,
    Duration rpcDeadline) {

  public ZedAgentSettings {
    Objects.requireNonNull(serial, "serial");
    if (serial.isBlank()) {
      throw new IllegalArgumentException("serial must not be blank");
    }
    Objects.requireNonNull(controllerTarget, "controllerTarget");
    Objects.requireNonNull(controllerCaPem, "controllerCaPem");
    Objects.requireNonNull(stateDir, "stateDir");
    Objects.requireNonNull(localApi, "localApi");
    controllerAuthority = controllerAuthority == null ? "" : controllerAuthority;
    localApiToken = localApiToken == null ? "" : localApiToken;
    if (localApi.isPresent() && localApiToken.length() < 16) {
      throw new IllegalArgumentException("the local API needs a token of at least 16 characters");
    }
  }

  /** Settings with EVE-like defaults scaled for a responsive device (60 s metrics, 2 min flow logs). */
  public static ZedAgentSettings of(String serial, String controllerTarget, Path controllerCaPem, Path stateDir) {
    return new ZedAgentSettings(
        serial, controllerTarget, "", controllerCaPem, stateDir, Optional.empty(), "",
        Duration.ofSeconds(60), Duration.ofMinutes(2),
        Duration.ofMillis(500), Duration.ofSeconds(30), Duration.ofSeconds(10));
  }

  public ZedAgentSettings withLocalApi(InetSocketAddress address, String token) {
    return new ZedAgentSettings(
        serial, controllerTarget, controllerAuthority, controllerCaPem, stateDir, Optional.of(address), token,
        metricsInterval, flowLogInterval, reconnectMin, reconnectMax, rpcDeadline);
  }

  public ZedAgentSettings withControllerAuthority(String authority) {
    return new ZedAgentSettings(
        serial, controllerTarget, authority, controllerCaPem, stateDir, localApi, localApiToken,
        metricsInterval, flowLogInterval, reconnectMin, reconnectMax, rpcDeadline);
  }

  public ZedAgentSettings withIntervals(Duration metrics, Duration flowLogs) {
    return new ZedAgentSettings(
        serial, controllerTarget, controllerAuthority, controllerCaPem, stateDir, localApi, localApiToken,
        metrics, flowLogs, reconnectMin, reconnectMax, rpcDeadline);
  }

  public ZedAgentSettings withReconnectBackoff(Duration min, Duration max) {
    return new ZedAgentSettings(
        serial, controllerTarget, controllerAuthority, controllerCaPem, stateDir, localApi, localApiToken,
        metricsInterval, flowLogInterval, min, max, rpcDeadline);
  }
}
