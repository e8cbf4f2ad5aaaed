package dev.verge.hostos;

import java.util.Optional;

/** Starts, watches, restarts and stops daemons. Refusals are {@link HostException}s. */
public interface DaemonSupervisor extends AutoCloseable {
  /** Starts the daemon and returns once it is ready (or fails with why it is not). */
  DaemonStatus start(DaemonSpec spec);

  /** Stops it: SIGTERM, then SIGKILL after a grace period; no restart follows. */
  void stop(String name);

  Optional<DaemonStatus> status(String name);

  /** Stops every daemon. */
  @Override
  void close();
}
