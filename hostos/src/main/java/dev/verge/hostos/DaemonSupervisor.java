package dev.verge.hostos;

import java.util.Optional;
import java.util.concurrent.Executor;

/** Starts, watches, restarts and stops daemons. Refusals are {@link HostException}s. */
public interface DaemonSupervisor extends AutoCloseable {
  /** Starts the daemon and returns once it is ready (or fails with why it is not). */
  DaemonStatus start(DaemonSpec spec);

  /**
   * Starts the daemon without waiting: readiness, output, exits, restarts and failures are told to
   * the listener on {@code executor}. Refused at once (EEXIST) if a daemon of that name is already
   * supervised, so of two concurrent starts of one name exactly one goes ahead.
   */
  void start(DaemonSpec spec, Executor executor, DaemonListener listener);

  /** Stops it: SIGTERM, then SIGKILL after a grace period; no restart follows, no exit is told. */
  void stop(String name);

  Optional<DaemonStatus> status(String name);

  /** The daemon's own directories, created if missing; a daemon is pointed at nothing else. */
  DaemonPaths paths(String name);

  /** Stops every daemon. */
  @Override
  void close();
}
