package dev.verge.hostos.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.verge.hostos.Errno;
import dev.verge.hostos.HostException;
import dev.verge.hostos.PciAddress;
import dev.verge.hostos.PciDevice;
import dev.verge.hostos.Sysfs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real sysfs code over a fake tree that reacts like the kernel. */
class FakeSysfsTest {
  private static final PciAddress PF = PciAddress.of("0000:03:00.0");
  private static final PciAddress GPU = PciAddress.of("0000:04:00.0");

  @TempDir Path root;
  private FakeSysfs fake;
  private Sysfs sysfs;

  @BeforeEach
  void buildTree() {
    fake = FakeSysfs.create(root, List.of("i40e", "iavf", "vfio-pci", "nouveau"),
        List.of(
            FakeSysfs.Device.nic(PF.value(), 0x8086, 0x1572, "i40e", "eth1", 12).withSriov(8, 0x154c, "iavf"),
            new FakeSysfs.Device(GPU.value(), 0x10de, 0x1eb8, "nouveau", Optional.empty(), 13, 0, 0, "")));
    sysfs = fake.sysfs();
  }

  private PciDevice device(PciAddress address) {
    return sysfs.pciDevice(address).orElseThrow();
  }

  @Test
  void devicesShowVendorDeviceDriverIommuGroupAndInterface() {
    PciDevice pf = device(PF);
    assertThat(pf.vendor()).isEqualTo(0x8086);
    assertThat(pf.device()).isEqualTo(0x1572);
    assertThat(pf.driver()).contains("i40e");
    assertThat(pf.iommuGroup()).contains(12);
    assertThat(pf.totalVfs()).isEqualTo(8);
    assertThat(pf.netInterfaces()).containsExactly("eth1");
    assertThat(sysfs.pciAddressOf("eth1")).contains(PF);
    assertThat(sysfs.pciDevices()).extracting(PciDevice::address).containsExactly(PF, GPU);
  }

  @Test
  void writingNumVfsCreatesVfDevicesLinkedBothWaysToThePf() {
    sysfs.setNumVfs(PF, 3);
    PciDevice pf = device(PF);
    assertThat(pf.numVfs()).isEqualTo(3);
    assertThat(pf.virtualFunctions()).hasSize(3);
    for (PciAddress vf : pf.virtualFunctions()) {
      PciDevice function = device(vf);
      assertThat(function.physicalFunction()).contains(PF);
      assertThat(function.device()).isEqualTo(0x154c);
      assertThat(function.driver()).contains("iavf");
      assertThat(function.iommuGroup()).isPresent().get().isNotEqualTo(12);
      assertThat(sysfs.pciAddressOf(function.netInterfaces().get(0))).contains(vf);
    }
    assertThat(Files.isSymbolicLink(root.resolve("bus/pci/devices/0000:03:00.0/virtfn2"))).isTrue();
  }

  @Test
  void changingTheVfCountGoesThroughZeroAndRemovesTheVfsThatGo() {
    sysfs.setNumVfs(PF, 4);
    PciAddress last = device(PF).virtualFunctions().get(3);
    sysfs.setNumVfs(PF, 2);
    assertThat(device(PF).virtualFunctions()).hasSize(2);
    assertThat(sysfs.pciDevice(last)).isEmpty();
    sysfs.setNumVfs(PF, 0);
    assertThat(sysfs.pciDevices()).extracting(PciDevice::address).containsExactly(PF, GPU);
  }

  @Test
  void moreVfsThanTheDeviceHasAreRefusedBeforeAnyWriteNamingTheLimit() {
    sysfs.setNumVfs(PF, 2);
    HostException refused = catchThrowableOfType(HostException.class, () -> sysfs.setNumVfs(PF, 9));
    assertThat(refused.errno()).isEqualTo(Errno.ERANGE);
    assertThat(refused.getMessage()).isEqualTo("cannot set sriov_numvfs 0000:03:00.0 to 9:"
        + " 0000:03:00.0 supports at most 8 VFs (sriov_totalvfs) (ERANGE)");
    assertThat(device(PF).numVfs()).as("the VFs in use were not reset to 0 first").isEqualTo(2);
  }

  @Test
  void awaitingVirtualFunctionsReturnsTheirAddressesByIndex() {
    sysfs.setNumVfs(PF, 3);
    List<PciAddress> vfs = sysfs.awaitVirtualFunctions(PF, 3, java.time.Duration.ofSeconds(1));
    assertThat(vfs).containsExactlyElementsOf(device(PF).virtualFunctions());
    assertThat(vfs.get(2)).isEqualTo(PciAddress.of("0000:03:02.2"));
  }

  @Test
  void awaitingMoreVirtualFunctionsThanAppearTimesOutSayingHowManyCame() {
    sysfs.setNumVfs(PF, 1);
    long start = System.nanoTime();
    HostException refused = catchThrowableOfType(HostException.class,
        () -> sysfs.awaitVirtualFunctions(PF, 2, java.time.Duration.ofMillis(100)));
    assertThat(refused.errno()).isEqualTo(Errno.ETIMEDOUT);
    assertThat(refused.getMessage()).isEqualTo(
        "cannot wait for 2 VFs of 0000:03:00.0: only 1 virtfn links after 100 ms (ETIMEDOUT)");
    assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(100_000_000L);
  }

  @Test
  void releasingAVfFromVfioPciGivesItBackToItsOwnDriverAndItsInterfaceReturns() {
    sysfs.setNumVfs(PF, 1);
    PciAddress vf = device(PF).virtualFunctions().get(0);
    String netInterface = device(vf).netInterfaces().get(0);
    sysfs.bindDriver(vf, "vfio-pci");
    assertThat(sysfs.releaseDriver(vf)).contains("iavf");
    assertThat(device(vf).driver()).contains("iavf");
    assertThat(sysfs.pciAddressOf(netInterface)).contains(vf);
    assertThat(Files.exists(root.resolve("bus/pci/drivers/vfio-pci").resolve(vf.value()),
        java.nio.file.LinkOption.NOFOLLOW_LINKS)).isFalse();
  }

  @Test
  void aDeviceWithoutSriovCannotHaveVfs() {
    HostException refused = catchThrowableOfType(HostException.class, () -> sysfs.setNumVfs(GPU, 1));
    assertThat(refused.errno()).isEqualTo(Errno.EOPNOTSUPP);
  }

  @Test
  void bindingAVfToVfioPciMovesTheDriverLinkAndTheInterfaceGoes() {
    sysfs.setNumVfs(PF, 1);
    PciAddress vf = device(PF).virtualFunctions().get(0);
    String netInterface = device(vf).netInterfaces().get(0);
    sysfs.bindDriver(vf, "vfio-pci");
    assertThat(device(vf).driver()).contains("vfio-pci");
    assertThat(device(vf).netInterfaces()).isEmpty();
    assertThat(sysfs.pciAddressOf(netInterface)).isEmpty();
    assertThat(Files.isSymbolicLink(root.resolve("bus/pci/drivers/vfio-pci").resolve(vf.value()))).isTrue();
  }

  @Test
  void bindingToADriverThatIsNotLoadedFailsSayingWhereTheDeviceEndedUp() {
    HostException refused = catchThrowableOfType(HostException.class, () -> sysfs.bindDriver(GPU, "vfio-nosuch"));
    assertThat(refused.errno()).isEqualTo(Errno.ENODEV);
    assertThat(refused.getMessage()).isEqualTo("cannot bind 0000:04:00.0 to vfio-nosuch: device is bound to"
        + " no driver after drivers_probe (is the vfio-nosuch module loaded?) (ENODEV)");
    assertThat(device(GPU).driver()).isEmpty();
  }

  @Test
  void iommuGroupsListTheirMembers() {
    assertThat(sysfs.iommuGroupMembers(13)).containsExactly(GPU);
    assertThat(sysfs.iommuGroupMembers(99)).isEmpty();
  }
}
