package dev.verge.hostos;

import java.util.List;
import java.util.Optional;

/** PCI devices, SR-IOV and driver binding through sysfs. Refusals are {@link HostException}s. */
public interface Sysfs {
  List<PciDevice> pciDevices();

  Optional<PciDevice> pciDevice(PciAddress address);

  /** Sets the number of VFs of a PF, going through 0 as the kernel requires. */
  void setNumVfs(PciAddress physicalFunction, int count);

  /**
   * Binds a device to a driver (e.g. vfio-pci): driver_override, unbind from the current driver,
   * drivers_probe; fails if the device did not end up with that driver.
   */
  void bindDriver(PciAddress address, String driver);

  /** The PCI device behind a network interface, if it has one (veths do not). */
  Optional<PciAddress> pciAddressOf(String netInterface);

  /** All devices in an IOMMU group: they can only be passed through together. */
  List<PciAddress> iommuGroupMembers(int group);
}
