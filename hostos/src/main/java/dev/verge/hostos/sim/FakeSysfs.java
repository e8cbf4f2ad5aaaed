package dev.verge.hostos.sim;

import dev.verge.hostos.linux.LinuxSysfs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A sysfs tree on disk, laid out as the kernel lays out /sys, that reacts to writes as the kernel
 * does: writing sriov_numvfs creates (or removes) the VF devices and the virtfnN/physfn links;
 * driver_override plus drivers_probe rebinds and moves the driver link; a NIC's interface exists
 * only while its own driver is bound. Read it through {@link #sysfs()}, the real implementation.
 */
public final class FakeSysfs {
  /** A PCI device to put in the tree; VFs are made from a PF's {@code sriov} settings. */
  public record Device(
      String address,
      int vendor,
      int deviceId,
      String driver,
      Optional<String> netInterface,
      int iommuGroup,
      int totalVfs,
      int vfDeviceId,
      String vfDriver) {

    /** A NIC bound to its driver, with an interface, alone in its IOMMU group. */
    public static Device nic(String address, int vendor, int deviceId, String driver, String netInterface,
        int iommuGroup) {
      return new Device(address, vendor, deviceId, driver, Optional.of(netInterface), iommuGroup, 0, 0, "");
    }

    /** The same device, able to make up to {@code totalVfs} VFs bound to {@code vfDriver}. */
    public Device withSriov(int total, int vfId, String vfDriverName) {
      return new Device(address, vendor, deviceId, driver, netInterface, iommuGroup, total, vfId, vfDriverName);
    }
  }

  private final Path root;
  private final Map<String, Device> devices = new HashMap<>();
  private boolean vfsInTheirPfsIommuGroup;

  private FakeSysfs(Path root) {
    this.root = root;
  }

  /** Builds the tree under {@code root} with the given drivers loaded and devices present. */
  public static FakeSysfs create(Path root, List<String> drivers, List<Device> devices) {
    FakeSysfs fake = new FakeSysfs(root);
    try {
      Files.createDirectories(root.resolve("class/net"));
      Files.createDirectories(root.resolve("bus/pci/devices"));
      Files.writeString(root.resolve("bus/pci/drivers_probe"), "");
      for (String driver : drivers) {
        Path dir = Files.createDirectories(root.resolve("bus/pci/drivers").resolve(driver));
        Files.writeString(dir.resolve("bind"), "");
        Files.writeString(dir.resolve("unbind"), "");
      }
      for (Device device : devices) {
        fake.addDevice(device, Optional.empty());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return fake;
  }

  /**
   * VFs made from now on land in their PF's IOMMU group, as on a platform without ACS on the
   * PF's port (instead of a group of their own each).
   */
  public synchronized FakeSysfs vfsInTheirPfsIommuGroup() {
    vfsInTheirPfsIommuGroup = true;
    return this;
  }

  public Path root() {
    return root;
  }

  /** The real sysfs implementation, reading this tree and writing through its reactions. */
  public LinuxSysfs sysfs() {
    return new LinuxSysfs(root, this::write);
  }

  private Path deviceDir(String address) {
    return root.resolve("devices/pci0000:00").resolve(address);
  }

  private void addDevice(Device device, Optional<String> physicalFunction) throws IOException {
    devices.put(device.address(), device);
    Path dir = Files.createDirectories(deviceDir(device.address()));
    Files.writeString(dir.resolve("vendor"), String.format("0x%04x%n", device.vendor()));
    Files.writeString(dir.resolve("device"), String.format("0x%04x%n", device.deviceId()));
    Files.writeString(dir.resolve("driver_override"), "(null)\n");
    if (device.totalVfs() > 0) {
      Files.writeString(dir.resolve("sriov_totalvfs"), device.totalVfs() + "\n");
      Files.writeString(dir.resolve("sriov_numvfs"), "0\n");
    }
    Files.createSymbolicLink(root.resolve("bus/pci/devices").resolve(device.address()), dir);
    Path group = Files.createDirectories(
        root.resolve("kernel/iommu_groups").resolve(Integer.toString(device.iommuGroup())).resolve("devices"));
    Files.createSymbolicLink(group.resolve(device.address()), dir);
    Files.createSymbolicLink(dir.resolve("iommu_group"), group.getParent());
    if (physicalFunction.isPresent()) {
      Files.createSymbolicLink(dir.resolve("physfn"), deviceDir(physicalFunction.get()));
    }
    bind(device.address(), device.driver());
  }

  private void removeDevice(String address) throws IOException {
    unbind(address);
    Device device = devices.remove(address);
    Files.delete(root.resolve("bus/pci/devices").resolve(address));
    Files.delete(root.resolve("kernel/iommu_groups").resolve(Integer.toString(device.iommuGroup()))
        .resolve("devices").resolve(address));
    deleteTree(deviceDir(address));
  }

  private void bind(String address, String driver) throws IOException {
    Path driverDir = root.resolve("bus/pci/drivers").resolve(driver);
    Path dir = deviceDir(address);
    if (!Files.isDirectory(driverDir) || Files.isSymbolicLink(dir.resolve("driver"))) {
      return; // no such driver loaded, or already bound: nothing binds
    }
    Files.createSymbolicLink(dir.resolve("driver"), driverDir);
    Files.createSymbolicLink(driverDir.resolve(address), dir);
    Device device = devices.get(address);
    if (device.driver().equals(driver) && device.netInterface().isPresent()) {
      String netInterface = device.netInterface().get();
      Path net = Files.createDirectories(dir.resolve("net").resolve(netInterface));
      Files.createSymbolicLink(net.resolve("device"), dir);
      Files.createSymbolicLink(root.resolve("class/net").resolve(netInterface), net);
    }
  }

  private void unbind(String address) throws IOException {
    Path dir = deviceDir(address);
    Path driverLink = dir.resolve("driver");
    if (!Files.isSymbolicLink(driverLink)) {
      return;
    }
    Files.deleteIfExists(Files.readSymbolicLink(driverLink).resolve(address));
    Files.delete(driverLink);
    Device device = devices.get(address);
    if (device.netInterface().isPresent()) {
      Files.deleteIfExists(root.resolve("class/net").resolve(device.netInterface().get()));
    }
    deleteTree(dir.resolve("net"));
  }

  /** The kernel's side of a write to an attribute. */
  private synchronized void write(Path attribute, String value) throws IOException {
    String name = attribute.getFileName().toString();
    String text = value.strip();
    switch (name) {
      case "sriov_numvfs" -> setNumVfs(attribute, attribute.getParent().getFileName().toString(), text);
      case "driver_override" -> Files.writeString(attribute, text.isEmpty() ? "(null)\n" : text + "\n");
      case "unbind" -> unbind(text);
      case "bind" -> bind(text, attribute.toRealPath().getParent().getFileName().toString());
      case "drivers_probe" -> probe(text);
      default -> Files.writeString(attribute, value);
    }
  }

  private void setNumVfs(Path attribute, String pfAddress, String text) throws IOException {
    Device pf = devices.get(pfAddress);
    int count;
    try {
      count = Integer.parseInt(text);
    } catch (NumberFormatException e) {
      throw new FileSystemException(attribute.toString(), null, "Invalid argument");
    }
    int current = Integer.parseInt(Files.readString(attribute).strip());
    if (count > pf.totalVfs() || count < 0) {
      throw new FileSystemException(attribute.toString(), null, "Numerical result out of range");
    }
    if (current != 0 && count != 0 && count != current) {
      throw new FileSystemException(attribute.toString(), null, "Device or resource busy");
    }
    Path pfDir = deviceDir(pfAddress);
    for (int i = count; i < current; i++) {
      Path link = pfDir.resolve("virtfn" + i);
      removeDevice(Files.readSymbolicLink(link).getFileName().toString());
      Files.delete(link);
    }
    int nextGroup = devices.values().stream().mapToInt(Device::iommuGroup).max().orElse(0) + 1;
    String bus = pfAddress.substring(0, 7); // domain:bus
    for (int i = current; i < count; i++) {
      String vf = String.format("%s:%02x.%d", bus, 0x02 + i / 8, i % 8);
      String suffix = "v" + i;
      Optional<String> netInterface = pf.netInterface().map(n -> n + suffix);
      int group = vfsInTheirPfsIommuGroup ? pf.iommuGroup() : nextGroup++;
      addDevice(new Device(vf, pf.vendor(), pf.vfDeviceId(), pf.vfDriver(), netInterface, group, 0, 0, ""),
          Optional.of(pfAddress));
      Files.createSymbolicLink(pfDir.resolve("virtfn" + i), deviceDir(vf));
    }
    Files.writeString(attribute, count + "\n");
  }

  /** drivers_probe: an unbound device binds to its override, or else to its own driver. */
  private void probe(String address) throws IOException {
    if (!devices.containsKey(address)) {
      throw new FileSystemException(address, null, "No such device");
    }
    String override = Files.readString(deviceDir(address).resolve("driver_override")).strip();
    bind(address, override.equals("(null)") ? devices.get(address).driver() : override);
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    List<Path> paths = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.forEach(paths::add);
    }
    for (int i = paths.size() - 1; i >= 0; i--) {
      Files.delete(paths.get(i));
    }
  }
}
