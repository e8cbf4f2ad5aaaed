package dev.verge.hostos.linux;

import dev.verge.hostos.Errno;
import dev.verge.hostos.HostException;
import dev.verge.hostos.PciAddress;
import dev.verge.hostos.PciDevice;
import dev.verge.hostos.Sysfs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/** sysfs read and written under a root that is {@code /sys} on a machine and a fake tree in tests. */
public final class LinuxSysfs implements Sysfs {
  private static final Duration POLL = Duration.ofMillis(20);

  private final Path root;
  private final SysfsWriter writer;

  public LinuxSysfs(Path root, SysfsWriter writer) {
    this.root = root;
    this.writer = writer;
  }

  /** The machine's sysfs, or any tree at {@code root} written with plain file writes. */
  public static LinuxSysfs at(Path root) {
    return new LinuxSysfs(root, (file, value) -> Files.writeString(file, value));
  }

  private Path devices() {
    return root.resolve("bus/pci/devices");
  }

  @Override
  public List<PciDevice> pciDevices() {
    List<PciDevice> all = new ArrayList<>();
    for (Path entry : list(devices())) {
      pciDevice(PciAddress.of(entry.getFileName().toString())).ifPresent(all::add);
    }
    return all;
  }

  @Override
  public Optional<PciDevice> pciDevice(PciAddress address) {
    Path dir = devices().resolve(address.value());
    if (!Files.isDirectory(dir)) {
      return Optional.empty();
    }
    List<PciAddress> vfs = new ArrayList<>();
    List<Path> links = list(dir).stream()
        .filter(p -> p.getFileName().toString().matches("virtfn\\d+"))
        .sorted(Comparator.comparingInt(p -> Integer.parseInt(p.getFileName().toString().substring(6))))
        .toList();
    links.forEach(link -> linkTarget(link).map(PciAddress::of).ifPresent(vfs::add));
    return Optional.of(
        new PciDevice(
            address,
            hex(dir.resolve("vendor")),
            hex(dir.resolve("device")),
            linkTarget(dir.resolve("driver")),
            linkTarget(dir.resolve("iommu_group")).map(Integer::parseInt),
            number(dir.resolve("sriov_totalvfs")),
            number(dir.resolve("sriov_numvfs")),
            vfs,
            linkTarget(dir.resolve("physfn")).map(PciAddress::of),
            list(dir.resolve("net")).stream().map(p -> p.getFileName().toString()).sorted().toList(),
            isBridgeClass(hex(dir.resolve("class")))));
  }

  @Override
  public void setNumVfs(PciAddress physicalFunction, int count) {
    String object = physicalFunction + " to " + count;
    PciDevice pf = require("set sriov_numvfs", object, physicalFunction);
    if (pf.totalVfs() == 0) {
      throw new HostException("set sriov_numvfs", object, Errno.EOPNOTSUPP, "device has no SR-IOV");
    }
    if (count < 0 || count > pf.totalVfs()) {
      throw new HostException("set sriov_numvfs", object, Errno.ERANGE,
          physicalFunction + " supports at most " + pf.totalVfs() + " VFs (sriov_totalvfs)");
    }
    if (pf.numVfs() == count) {
      return;
    }
    Path attribute = devices().resolve(physicalFunction.value()).resolve("sriov_numvfs");
    if (pf.numVfs() != 0 && count != 0) {
      write("set sriov_numvfs", object, attribute, "0"); // the kernel refuses n -> m directly
    }
    write("set sriov_numvfs", object, attribute, Integer.toString(count));
  }

  @Override
  public void bindDriver(PciAddress address, String driver) {
    String object = address + " to " + driver;
    PciDevice device = require("bind", object, address);
    if (device.driver().equals(Optional.of(driver))) {
      return;
    }
    Path dir = devices().resolve(address.value());
    write("bind", object, dir.resolve("driver_override"), driver);
    if (device.driver().isPresent()) {
      write("bind", object, dir.resolve("driver/unbind"), address.value());
    }
    write("bind", object, root.resolve("bus/pci/drivers_probe"), address.value());
    Optional<String> bound = linkTarget(dir.resolve("driver"));
    if (!bound.equals(Optional.of(driver))) {
      throw new HostException("bind", object, Errno.ENODEV,
          "device is bound to " + bound.orElse("no driver") + " after drivers_probe"
              + " (is the " + driver + " module loaded?)");
    }
  }

  @Override
  public List<PciAddress> awaitVirtualFunctions(PciAddress physicalFunction, int count, Duration timeout) {
    String object = count + " VFs of " + physicalFunction;
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      List<PciAddress> vfs = require("wait for", object, physicalFunction).virtualFunctions();
      if (vfs.size() >= count) {
        return vfs.subList(0, count);
      }
      if (System.nanoTime() - deadline >= 0) {
        throw new HostException("wait for", object, Errno.ETIMEDOUT,
            "only " + vfs.size() + " virtfn links after " + timeout.toMillis() + " ms");
      }
      try {
        Thread.sleep(POLL.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new HostException("wait for", object, Errno.EINTR, "interrupted");
      }
    }
  }

  @Override
  public Optional<String> releaseDriver(PciAddress address) {
    String object = address.value();
    PciDevice device = require("release", object, address);
    Path dir = devices().resolve(address.value());
    write("release", object, dir.resolve("driver_override"), "\n"); // an empty override clears it
    if (device.driver().isPresent()) {
      write("release", object, dir.resolve("driver/unbind"), address.value());
    }
    write("release", object, root.resolve("bus/pci/drivers_probe"), address.value());
    return linkTarget(dir.resolve("driver"));
  }

  @Override
  public Optional<PciAddress> pciAddressOf(String netInterface) {
    return linkTarget(root.resolve("class/net").resolve(netInterface).resolve("device"))
        .filter(name -> name.matches("[0-9a-f]{4}:.*"))
        .map(PciAddress::of);
  }

  @Override
  public List<PciAddress> iommuGroupMembers(int group) {
    return list(root.resolve("kernel/iommu_groups").resolve(Integer.toString(group)).resolve("devices"))
        .stream().map(p -> PciAddress.of(p.getFileName().toString())).sorted(
            Comparator.comparing(PciAddress::value)).toList();
  }

  // ---- helpers

  private PciDevice require(String operation, String object, PciAddress address) {
    return pciDevice(address)
        .orElseThrow(() -> new HostException(operation, object, Errno.ENODEV, "no PCI device " + address));
  }

  private void write(String operation, String object, Path attribute, String value) {
    try {
      writer.write(attribute, value);
    } catch (IOException e) {
      String text = e.getMessage() == null ? e.toString() : e.getMessage();
      Errno errno = Errno.inMessage(text).orElse(Errno.EIO);
      throw new HostException(operation, object, errno,
          "writing " + value + " to " + root.relativize(attribute) + ": " + errno.description());
    }
  }

  /** The file name a symlink points at (driver, iommu_group, physfn, virtfnN, device). */
  private static Optional<String> linkTarget(Path link) {
    try {
      return Optional.of(Files.readSymbolicLink(link).getFileName().toString());
    } catch (IOException | UnsupportedOperationException e) {
      return Optional.empty();
    }
  }

  private static List<Path> list(Path dir) {
    try (Stream<Path> entries = Files.list(dir)) {
      return entries.sorted().toList();
    } catch (NoSuchFileException e) {
      return List.of();
    } catch (IOException e) {
      return List.of();
    }
  }

  private static String read(Path file) {
    try {
      return Files.readString(file).strip();
    } catch (IOException e) {
      return "";
    }
  }

  /** Class 0x06 subclass 04 (PCI-to-PCI) or 07 (CardBus): the bridges with a header of their own. */
  private static boolean isBridgeClass(int pciClass) {
    int classAndSubclass = pciClass >> 8;
    return classAndSubclass == 0x0604 || classAndSubclass == 0x0607;
  }

  private static int hex(Path file) {
    String text = read(file);
    return text.isEmpty() ? 0 : Integer.parseInt(text.replaceFirst("^0x", ""), 16);
  }

  private static int number(Path file) {
    String text = read(file);
    return text.isEmpty() ? 0 : Integer.parseInt(text);
  }
}
