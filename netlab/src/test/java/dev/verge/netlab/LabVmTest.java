package dev.verge.netlab;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The lab VM's QEMU command line: the devices its tests rely on, and no path out of the VM. */
class LabVmTest {
  private static final LabImage IMAGE =
      new LabImage(Path.of("/lab/vmlinuz"), Path.of("/lab/rootfs.img"), "6.1.0-57-cloud-amd64");

  private static List<String> command(LabVm.Options options) {
    return LabVm.qemuCommand(IMAGE, Path.of("/run/payload.img"), Path.of("/run/ctl.sock"), Path.of("/run"),
        options, GuestVm.Accel.TCG);
  }

  @Test
  void theIommuComesBeforeEveryPciDeviceAndTheRootDiskIsNeverWritten() {
    List<String> command = command(LabVm.Options.defaults());
    int iommu = command.indexOf("intel-iommu");
    assertThat(iommu).isPositive();
    for (int i = 0; i < command.size(); i++) {
      if (command.get(i).equals("-device") && i + 1 != iommu) {
        assertThat(i).as("device %s after the IOMMU", command.get(i + 1)).isGreaterThan(iommu);
      }
    }
    assertThat(command).contains("q35", "-accel", "tcg",
        "if=none,id=root,format=raw,snapshot=on,file=/lab/rootfs.img",
        "if=none,id=payload,format=raw,snapshot=on,file=/run/payload.img",
        "socket,id=ctl,path=/run/ctl.sock", "virtserialport,chardev=ctl,name=verge.lab");
    assertThat(String.join(" ", command)).contains("root=/dev/nvme0n1").contains("init=/sbin/verge-lab-init")
        .contains("intel_iommu=on");
  }

  @Test
  void virtioNicsComeInPairsOnAHubEachAndPciNicsSitAloneOrBehindOneBridge() {
    List<String> command = command(new LabVm.Options(2, 1, 2, 1024, 1));
    List<String> netdevs = values(command, "-netdev");
    // only hub ports: no tap, user or socket backend, so nothing leaves the VM
    assertThat(netdevs).allMatch(n -> n.startsWith("hubport,"));
    assertThat(netdevs).containsExactly("hubport,id=n0,hubid=0", "hubport,id=n1,hubid=0",
        "hubport,id=n2,hubid=1", "hubport,id=n3,hubid=1", "hubport,id=n4,hubid=2",
        "hubport,id=n5,hubid=3", "hubport,id=n6,hubid=4");
    List<String> devices = values(command, "-device");
    assertThat(devices).contains("virtio-net-pci,netdev=n0,mac=52:54:00:1a:b0:00",
        "virtio-net-pci,netdev=n3,mac=52:54:00:1a:b0:03", "vmxnet3,netdev=n4,mac=52:54:00:1a:b0:04",
        "pci-bridge,id=shared,chassis_nr=1", "vmxnet3,netdev=n5,mac=52:54:00:1a:b0:05,bus=shared,addr=1",
        "vmxnet3,netdev=n6,mac=52:54:00:1a:b0:06,bus=shared,addr=2");
    assertThat(command(new LabVm.Options(1, 0, 0, 1024, 1))).doesNotContain("pci-bridge,id=shared,chassis_nr=1");
  }

  private static List<String> values(List<String> command, String option) {
    List<String> values = new java.util.ArrayList<>();
    for (int i = 0; i + 1 < command.size(); i++) {
      if (command.get(i).equals(option)) {
        values.add(command.get(i + 1));
      }
    }
    return values;
  }
}
