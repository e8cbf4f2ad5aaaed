package dev.verge.hostos.linux;

import java.nio.file.Path;

/**
 * Where the Linux host keeps what it needs on disk.
 *
 * @param daemonStateDir pid files, logs, config and run directories of the daemons it supervises
 * @param sysfsRoot the sysfs tree ({@code /sys}, or a fake tree in tests)
 */
public record LinuxHostSettings(Path daemonStateDir, Path sysfsRoot) {
  public static LinuxHostSettings under(Path stateDir) {
    return new LinuxHostSettings(stateDir.resolve("daemons"), Path.of("/sys"));
  }
}
