package dev.verge.pubsub;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Settings of a bus instance.
 *
 * @param stateDir where persistent topics live ({@code <stateDir>/<agent>/<Type>/}); empty means
 *     persistent publications are refused
 * @param socketDir where the socket driver puts {@code <agent>/<Type>.sock}
 * @param maxMessageBytes largest serialized value accepted by {@code publish}; the same on both
 *     drivers so that code tested in one JVM behaves the same across processes
 * @param slowHandlerThreshold a handler call longer than this is logged and counted
 * @param reconnectMin first back-off of a subscriber whose publisher is unreachable
 * @param reconnectMax longest back-off (doubling from {@code reconnectMin})
 */
public record PubSubConfig(
    Optional<Path> stateDir,
    Path socketDir,
    int maxMessageBytes,
    Duration slowHandlerThreshold,
    Duration reconnectMin,
    Duration reconnectMax) {

  /**
   * 16 MiB: far above any config or status message (EVE's 64 KiB socket limit was too small,
   * lf-edge/eve#1994), yet small enough that a runaway value cannot exhaust the heap.
   */
  public static final int DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

  public static final Path DEFAULT_SOCKET_DIR = Path.of("/run/verge/bus");

  public PubSubConfig {
    Objects.requireNonNull(stateDir, "stateDir");
    Objects.requireNonNull(socketDir, "socketDir");
    if (maxMessageBytes <= 0) {
      throw new IllegalArgumentException("maxMessageBytes must be positive: " + maxMessageBytes);
    }
    requirePositive(slowHandlerThreshold, "slowHandlerThreshold");
    requirePositive(reconnectMin, "reconnectMin");
    requirePositive(reconnectMax, "reconnectMax");
  }

  /** No state directory, the default socket directory, 16 MiB, 500 ms, 50 ms..2 s back-off. */
  public static PubSubConfig defaults() {
    return new PubSubConfig(
        Optional.empty(),
        DEFAULT_SOCKET_DIR,
        DEFAULT_MAX_MESSAGE_BYTES,
        Duration.ofMillis(500),
        Duration.ofMillis(50),
        Duration.ofSeconds(2));
  }

  public PubSubConfig withStateDir(Path dir) {
    return new PubSubConfig(
        Optional.of(dir),
        socketDir,
        maxMessageBytes,
        slowHandlerThreshold,
        reconnectMin,
        reconnectMax);
  }

  public PubSubConfig withSocketDir(Path dir) {
    return new PubSubConfig(
        stateDir, dir, maxMessageBytes, slowHandlerThreshold, reconnectMin, reconnectMax);
  }

  public PubSubConfig withMaxMessageBytes(int bytes) {
    return new PubSubConfig(
        stateDir, socketDir, bytes, slowHandlerThreshold, reconnectMin, reconnectMax);
  }

  public PubSubConfig withSlowHandlerThreshold(Duration threshold) {
    return new PubSubConfig(
        stateDir, socketDir, maxMessageBytes, threshold, reconnectMin, reconnectMax);
  }

  public PubSubConfig withReconnectBackoff(Duration min, Duration max) {
    return new PubSubConfig(stateDir, socketDir, maxMessageBytes, slowHandlerThreshold, min, max);
  }

  private static void requirePositive(Duration d, String what) {
    if (d == null || d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(what + " must be positive: " + d);
    }
  }
}
