package dev.verge.domainmgr.io;

import dev.verge.hostos.PciAddress;
import dev.verge.hostos.PciDevice;
import dev.verge.proto.config.v1.PhysicalIo;
import dev.verge.topics.v1.DeviceNetwork;
import dev.verge.topics.v1.Port;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * What the planner knows of the machine: the controller's physical I/O list, the ports nim runs
 * (they stay with the host) and the PCI devices sysfs shows now (drivers, IOMMU groups).
 */
public record IoInventory(List<PhysicalIo> physicalIo, List<Port> hostPorts, Map<PciAddress, PciDevice> pci) {
  public IoInventory {
    physicalIo = physicalIo.stream().sorted(Comparator.comparing(PhysicalIo::getPhyLabel)).toList();
    hostPorts = List.copyOf(hostPorts);
    pci = Map.copyOf(pci);
  }

  public static IoInventory of(List<PhysicalIo> physicalIo, DeviceNetwork network, List<PciDevice> devices) {
    return new IoInventory(physicalIo, network.getPortsList(),
        devices.stream().collect(Collectors.toMap(PciDevice::address, Function.identity())));
  }

  /** The PCI device of an I/O entry: its {@code pcilong} address, else the device behind its {@code ifname}. */
  public Optional<PciDevice> pciDeviceOf(PhysicalIo io) {
    String pcilong = io.getPhyAddrsOrDefault("pcilong", "");
    if (!pcilong.isEmpty()) {
      try {
        return Optional.ofNullable(pci.get(PciAddress.of(pcilong)));
      } catch (IllegalArgumentException notAnAddress) {
        return Optional.empty();
      }
    }
    String ifname = io.getPhyAddrsOrDefault("ifname", "");
    return pci.values().stream().filter(d -> !ifname.isEmpty() && d.netInterfaces().contains(ifname)).findFirst();
  }

  /** The interface name an I/O entry goes by: its {@code ifname}, else the interface its driver made. */
  public Optional<String> interfaceOf(PhysicalIo io) {
    String ifname = io.getPhyAddrsOrDefault("ifname", "");
    if (!ifname.isEmpty()) {
      return Optional.of(ifname);
    }
    return pciDeviceOf(io).flatMap(d -> d.netInterfaces().stream().findFirst());
  }

  /** The host port (management or app-shared uplink) a PCI device carries, if any. */
  public Optional<Port> hostPortOn(PciDevice device) {
    return hostPorts.stream().filter(p -> device.netInterfaces().contains(p.getIfName())).findFirst();
  }

  /** The devices sharing the device's IOMMU group, itself included, by address. */
  public List<PciDevice> iommuGroupOf(PciDevice device) {
    return device.iommuGroup().map(group -> pci.values().stream()
            .filter(d -> d.iommuGroup().equals(Optional.of(group)))
            .sorted(Comparator.comparing(d -> d.address().value())).toList())
        .orElse(List.of(device));
  }
}
