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
 * @param bridge a PCI-to-PCI or CardBus bridge (class 0x0604/0x0607): vfio-pci never takes one,
 *     and vfio lets it stay with its driver in a group that is passed through
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
    List<String> netInterfaces,
    boolean bridge) {
  public PciDevice {
    virtualFunctions = List.copyOf(virtualFunctions);
    netInterfaces = List.copyOf(netInterfaces);
  }
}
