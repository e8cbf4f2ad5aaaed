package dev.verge.hostos;

import java.util.List;
import java.util.Optional;

/**
 * A PCI device as sysfs shows it.
 *
 * @param totalVfs sriov_totalvfs, 0 for a device without SR-IOV
 * @param virtualFunctions the VFs (virtfnN links) of a physical function, by N
 * @param physicalFunction the PF (physfn link) of a virtual function
 * @param netInterfaces the network interfaces the bound driver made of it
 */
public record PciDevice(
    PciAddress address,
    int vendor,
    int device,
    Optional<String> driver,
    Optional<Integer> iommuGroup,
    int totalVfs,
    int numVfs,
    List<PciAddress> virtualFunctions,
    Optional<PciAddress> physicalFunction,
    List<String> netInterfaces) {
  public PciDevice {
    virtualFunctions = List.copyOf(virtualFunctions);
    netInterfaces = List.copyOf(netInterfaces);
  }
}
