package dev.verge.hostos;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** PCI devices, SR-IOV and driver binding through sysfs. Refusals are {@link HostException}s. */
public interface Sysfs {
  List<PciDevice> pciDevices();

  Optional<PciDevice> pciDevice(PciAddress address);

  /**
   * Sets the number of VFs of a PF, going through 0 as the kernel requires; refuses (ERANGE) more
   * than sriov_totalvfs before writing anything.
   */
  void setNumVfs(PciAddress physicalFunction, int count);

  /**
   * Waits (polling, at most {@code timeout}) until the PF shows {@code count} virtfn links, since the
   * kernel may add the VF devices after the sriov_numvfs write returns.
   *
   * @return the VFs' addresses, by VF index
   * @throws HostException ETIMEDOUT naming how many links appeared
   */
  List<PciAddress> awaitVirtualFunctions(PciAddress physicalFunction, int count, Duration timeout);

  /**
   * Binds a device to a driver (e.g. vfio-pci): driver_override, unbind from the current driver,
   * drivers_probe; fails if the device did not end up with that driver.
   */
  void bindDriver(PciAddress address, String driver);

  /**
   * Gives a device back to the host: clears driver_override, unbinds it from its driver (vfio-pci)
   * and lets drivers_probe bind its own driver.
   *
   * @return the driver it is bound to afterwards, empty when none took it
   */
  Optional<String> releaseDriver(PciAddress address);

  /** The PCI device behind a network interface, if it has one (veths do not). */
  Optional<PciAddress> pciAddressOf(String netInterface);

  /** All devices in an IOMMU group: they can only be passed through together. */
  List<PciAddress> iommuGroupMembers(int group);
}
