package dev.verge.hostos;

/**
 * What a supervised daemon does, told on the executor its starter gave (an agent passes its loop).
 * Events of one daemon arrive in the order they happened.
 */
public interface DaemonListener {
  /** It is ready: after the start, and again after every restart. */
  default void onReady(DaemonStatus status) {}

  /** A line it wrote (stdout and stderr), in order; the line is in its log as well. */
  default void onOutput(String line) {}

  /**
   * It exited on its own after it was ready (a stop does not count), with {@code exitCode} (128 + n
   * for signal n); {@code willRestart} says whether its restart policy brings it back.
   */
  default void onExited(DaemonStatus status, int exitCode, boolean willRestart) {}

  /**
   * A start or restart failed: the program could not be run (gone, not executable), it exited
   * before it was ready, or was not ready in time (it is then killed). {@code willRetry} says
   * whether the restart policy tries again; after a failed first start it never does, and the
   * daemon is no longer supervised.
   */
  default void onFailed(HostException reason, boolean willRetry) {}
}
