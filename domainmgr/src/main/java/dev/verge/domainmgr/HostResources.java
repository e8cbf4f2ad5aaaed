package dev.verge.domainmgr;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What this machine offers VMs: its RAM and whether KVM is usable. */
public final class HostResources {
  /** RAM kept for the host itself (the node, dnsmasq, QEMU's own overhead). */
  public static final long RESERVED_MEMORY_MB = 256;

  private HostResources() {}

  /** MemTotal from /proc/meminfo, in MiB. */
  public static long memoryMb() {
    try {
      return Files.readAllLines(Path.of("/proc/meminfo")).stream()
          .filter(l -> l.startsWith("MemTotal:"))
          .map(l -> Long.parseLong(l.replaceAll("[^0-9]", "")) / 1024)
          .findFirst()
          .orElseThrow(() -> new IllegalStateException("/proc/meminfo has no MemTotal"));
    } catch (IOException e) {
      throw new IllegalStateException("cannot read /proc/meminfo: " + e.getMessage(), e);
    }
  }

  /** KVM when /dev/kvm can be opened for reading and writing, else TCG (software emulation). */
  public static QemuCommand.Accel accel() {
    return AccelChoice.forHost().next();
  }

  /** Why KVM cannot be used here, empty when it can. */
  public static java.util.Optional<String> kvmUnusableReason() {
    return AccelChoice.forHost().whyNotKvm();
  }
}
