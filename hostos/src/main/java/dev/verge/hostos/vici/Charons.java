package dev.verge.hostos.vici;

import dev.verge.hostos.DaemonPaths;
import dev.verge.hostos.DaemonSupervisor;
import dev.verge.hostos.Errno;
import dev.verge.hostos.HostException;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;

/** Starting a charon under a daemon supervisor and connecting to it. */
public final class Charons {
  private Charons() {}

  /** Writes the charon's strongswan.conf into its config directory. */
  public static void writeConfig(DaemonSupervisor daemons, CharonSpec spec) {
    DaemonPaths paths = daemons.paths(spec.name());
    try {
      Files.createDirectories(paths.run());
      Files.writeString(spec.configFile(paths), spec.strongswanConf());
    } catch (IOException e) {
      throw new HostException("write strongswan.conf", spec.name(), Errno.EIO, String.valueOf(e.getMessage()));
    }
  }

  /**
   * Connects to the charon's VICI socket, retrying until {@code wait} has passed: after a
   * restart the socket file may still be the old one for a moment.
   */
  public static ViciClient connect(DaemonSupervisor daemons, CharonSpec spec, Duration wait) {
    long deadline = System.nanoTime() + wait.toNanos();
    HostException last;
    do {
      try {
        return ViciClient.connect(spec.viciSocket(daemons.paths(spec.name())), Duration.ofSeconds(10));
      } catch (HostException e) {
        last = e;
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw last;
      }
    } while (System.nanoTime() < deadline);
    throw last;
  }
}
