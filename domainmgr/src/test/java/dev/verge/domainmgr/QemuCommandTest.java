package dev.verge.domainmgr;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.verge.domainmgr.VmDefinition.Attach;
import dev.verge.domainmgr.VmDefinition.NicModel;
import dev.verge.hostos.MacAddress;
import dev.verge.hostos.PciAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Golden QEMU argument lists: what a definition starts, to the character. */
class QemuCommandTest {
  static final Path RUN = Path.of("/run/verge/qemu-app1/run");

  static VmDefinition.Nic nic(String name, String mac, NicModel model, int mtu) {
    return new VmDefinition.Nic(name, Attach.TAP, MacAddress.of(mac), model, mtu);
  }

  static VmDefinition kernelVm(List<VmDefinition.Nic> nics, List<VmDefinition.HostPciDevice> pci) {
    return new VmDefinition("app1", "6f0a1c2e-0000-4000-8000-000000000021", 256, 2,
        new VmDefinition.KernelBoot(Path.of("/img/vmlinuz"), Optional.of(Path.of("/img/initrd.img")), "console=ttyS0 quiet"),
        nics, Path.of("/var/verge/domains/app1/console.log"), pci);
  }

  @Test
  void kernelBootWithTwoNicsAndAPassthroughDeviceUnderTcg() {
    VmDefinition vm = kernelVm(
        List.of(nic("nbu1x1", "02:16:3e:00:00:01", NicModel.VIRTIO_NET_PCI, 1500),
            nic("nbu2x1", "02:16:3e:00:00:02", NicModel.E1000, 1400)),
        List.of(new VmDefinition.HostPciDevice(PciAddress.of("0000:03:00.1"), "eth2 VF 1")));

    assertThat(QemuCommand.build(vm, QemuCommand.Accel.TCG, RUN)).containsExactly(
        "qemu-system-x86_64", "-name", "app1", "-uuid", "6f0a1c2e-0000-4000-8000-000000000021",
        "-accel", "tcg",
        "-m", "256", "-smp", "2", "-nodefaults", "-no-user-config", "-display", "none", "-monitor", "none",
        "-serial", "file:/var/verge/domains/app1/console.log",
        "-qmp", "unix:/run/verge/qemu-app1/run/qmp.sock,server=on,wait=off",
        "-kernel", "/img/vmlinuz", "-initrd", "/img/initrd.img", "-append", "console=ttyS0 quiet",
        "-netdev", "tap,id=net0,ifname=nbu1x1,script=no,downscript=no",
        "-device", "virtio-net-pci,netdev=net0,id=net0-nic,mac=02:16:3e:00:00:01,addr=0x3,host_mtu=1500",
        "-netdev", "tap,id=net1,ifname=nbu2x1,script=no,downscript=no",
        "-device", "e1000,netdev=net1,id=net1-nic,mac=02:16:3e:00:00:02,addr=0x4",
        "-device", "vfio-pci,host=0000:03:00.1,addr=0x5");
  }

  @Test
  void adapterOrderIsPciSlotOrder() {
    var first = nic("tapB", "02:00:00:00:00:0b", NicModel.VIRTIO_NET_PCI, 1500);
    var second = nic("tapA", "02:00:00:00:00:0a", NicModel.VIRTIO_NET_PCI, 1500);
    List<String> args = QemuCommand.build(kernelVm(List.of(first, second), List.of()), QemuCommand.Accel.TCG, RUN);

    assertThat(args.stream().filter(a -> a.startsWith("virtio-net-pci"))).containsExactly(
        "virtio-net-pci,netdev=net0,id=net0-nic,mac=02:00:00:00:00:0b,addr=0x3,host_mtu=1500",
        "virtio-net-pci,netdev=net1,id=net1-nic,mac=02:00:00:00:00:0a,addr=0x4,host_mtu=1500");
  }

  @Test
  void kvmUsesTheHostCpuAndDiskBootUsesTheOverlay() {
    VmDefinition vm = new VmDefinition("app2", "6f0a1c2e-0000-4000-8000-000000000022", 512, 1,
        new VmDefinition.DiskBoot(Path.of("/persist/img/base.qcow2"), VmDefinition.DiskFormat.QCOW2, Optional.empty(),
            Path.of("/var/verge/domains/app2/overlay.qcow2")),
        List.of(), Path.of("/var/verge/domains/app2/console.log"), List.of());

    List<String> args = QemuCommand.build(vm, QemuCommand.Accel.KVM, RUN);

    assertThat(args).containsSequence("-accel", "kvm", "-cpu", "host,-arch-capabilities")
        .containsSequence("-drive", "file=/var/verge/domains/app2/overlay.qcow2,format=qcow2,if=virtio,cache=writeback")
        .doesNotContain("-kernel", "/persist/img/base.qcow2");
  }

  @Test
  void macvtapNicsAreOpenedByTheLauncherOnFixedDescriptorsInAdapterOrder() {
    var macvtap1 = new VmDefinition.Nic("mvt1", Attach.MACVTAP, MacAddress.of("02:00:00:00:00:01"), NicModel.VIRTIO_NET_PCI, 1500);
    var tap = nic("nbu1x1", "02:00:00:00:00:02", NicModel.E1000, 1500);
    var macvtap2 = new VmDefinition.Nic("mvt2", Attach.MACVTAP, MacAddress.of("02:00:00:00:00:03"), NicModel.E1000, 1500);

    List<String> args = QemuCommand.build(kernelVm(List.of(macvtap1, tap, macvtap2), List.of()), QemuCommand.Accel.TCG, RUN);

    assertThat(args.subList(0, 9)).containsExactly("sh", "-c", QemuCommand.MACVTAP_LAUNCHER, "macvtap-launcher",
        RUN.toString(), "mvt1:3", "mvt2:4", "--", "qemu-system-x86_64");
    assertThat(args).containsSequence("-netdev", "tap,id=net0,fd=3",
            "-device", "virtio-net-pci,netdev=net0,id=net0-nic,mac=02:00:00:00:00:01,addr=0x3,host_mtu=1500")
        .containsSequence("-netdev", "tap,id=net1,ifname=nbu1x1,script=no,downscript=no")
        .containsSequence("-netdev", "tap,id=net2,fd=4", "-device", "e1000,netdev=net2,id=net2-nic,mac=02:00:00:00:00:03,addr=0x5");
    assertThat(QemuCommand.build(kernelVm(List.of(macvtap1), List.of()), QemuCommand.Accel.KVM, RUN))
        .contains("tap,id=net0,fd=3,vhost=on");
  }

  @Test
  void aVmWithoutMacvtapIsQemuItself() {
    assertThat(QemuCommand.build(kernelVm(List.of(nic("t", "02:00:00:00:00:01", NicModel.E1000, 1500)), List.of()),
        QemuCommand.Accel.TCG, RUN).get(0)).isEqualTo("qemu-system-x86_64");
  }

  @Test
  void definitionRefusesDuplicateMacs() {
    assertThatThrownBy(() -> kernelVm(List.of(nic("a", "02:00:00:00:00:01", NicModel.E1000, 1500),
        nic("b", "02:00:00:00:00:01", NicModel.E1000, 1500)), List.of()))
        .hasMessage("domain app1: duplicate MAC 02:00:00:00:00:01");
  }

  @Test
  void userDataIsAReadOnlySeedDiskInTheSlotAfterTheOtherDevices() {
    VmDefinition plain = kernelVm(
        List.of(nic("nbu1x1", "02:16:3e:00:00:01", NicModel.VIRTIO_NET_PCI, 1500),
            nic("nbu2x1", "02:16:3e:00:00:02", NicModel.E1000, 1400)),
        List.of(new VmDefinition.HostPciDevice(PciAddress.of("0000:03:00.1"), "eth2 VF 1")));
    VmDefinition vm = new VmDefinition(plain.name(), plain.uuid(), plain.memoryMb(), plain.vcpus(), plain.boot(),
        plain.nics(), plain.serialLog(), plain.passthrough(), Optional.of(new VmDefinition.CloudInitSeed(
            Path.of("/var/verge/domains/app1/seed.img"), "#cloud-config\n", plain.uuid(), "web")));

    List<String> args = QemuCommand.build(vm, QemuCommand.Accel.TCG, RUN);

    assertThat(args).startsWith(QemuCommand.build(plain, QemuCommand.Accel.TCG, RUN).toArray(String[]::new));
    assertThat(args.subList(QemuCommand.build(plain, QemuCommand.Accel.TCG, RUN).size(), args.size())).containsExactly(
        "-drive", "file=/var/verge/domains/app1/seed.img,format=raw,if=none,id=seed,readonly=on",
        "-device", "virtio-blk-pci,drive=seed,id=seed-disk,addr=0x6");
  }

  @Test
  void aSeedHostNameIsTheAppNameMadeAHostNameLabel() {
    assertThat(VmDefinition.CloudInitSeed.hostnameOf("web server #2", "u")).isEqualTo("web-server--2");
    assertThat(VmDefinition.CloudInitSeed.hostnameOf("--", "6f0a1c2e-0000-4000-8000-000000000021"))
        .isEqualTo("6f0a1c2e-0000-4000-8000-000000000021");
    assertThat(VmDefinition.CloudInitSeed.hostnameOf("a".repeat(70), "u")).hasSize(63);
  }
}
