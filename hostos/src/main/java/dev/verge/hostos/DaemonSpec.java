package dev.verge.hostos;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A daemon to supervise (dnsmasq, dhcpcd, charon, qemu...).
 *
 * @param readyLine a pattern its log must show before it counts as ready; empty: ready at once
 * @param readyTimeout how long to wait for readiness
 * @param restart what to do when it exits on its own
 */
public record DaemonSpec(
    String name,
    List<String> command,
    Optional<Pattern> readyLine,
    Duration readyTimeout,
    RestartPolicy restart) {
  public DaemonSpec {
    command = List.copyOf(command);
    requireValidName(name);
    if (command.isEmpty()) {
      throw new IllegalArgumentException("daemon " + name + " has no command");
    }
  }

  /** A daemon's name names its files: letters, digits, '.', '_', '-', and not "." or "..". */
  public static void requireValidName(String name) {
    if (!name.matches("[A-Za-z0-9._-]+") || name.equals(".") || name.equals("..")) {
      throw new IllegalArgumentException("daemon name must be usable as a file name: " + name);
    }
  }

  public static DaemonSpec of(String name, String... command) {
    return new DaemonSpec(name, List.of(command), Optional.empty(), Duration.ofSeconds(10),
        RestartPolicy.DEFAULT);
  }

  public DaemonSpec readyWhenLogShows(String regex) {
    return new DaemonSpec(name, command, Optional.of(Pattern.compile(regex)), readyTimeout, restart);
  }

  public DaemonSpec withRestart(RestartPolicy policy) {
    return new DaemonSpec(name, command, readyLine, readyTimeout, policy);
  }

  /** Restart with exponential back-off from {@code initial} up to {@code max}, at most n times. */
  public record RestartPolicy(Duration initialBackoff, Duration maxBackoff, int maxRestarts) {
    public static final RestartPolicy DEFAULT =
        new RestartPolicy(Duration.ofMillis(200), Duration.ofSeconds(30), Integer.MAX_VALUE);
    public static final RestartPolicy NEVER = new RestartPolicy(Duration.ZERO, Duration.ZERO, 0);

    /** The wait before restart number {@code attempt} (1-based). */
    public Duration backoff(int attempt) {
      long millis = initialBackoff.toMillis() << Math.min(attempt - 1, 20);
      return Duration.ofMillis(Math.min(millis, maxBackoff.toMillis()));
    }
  }
}
