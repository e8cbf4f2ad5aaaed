package dev.verge.domainmgr;

import dev.verge.domainmgr.VmDefinition.Attach;
import dev.verge.domainmgr.VmDefinition.DiskBoot;
import dev.verge.domainmgr.VmDefinition.KernelBoot;
import dev.verge.domainmgr.VmDefinition.Nic;
import dev.verge.domainmgr.VmDefinition.NicModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The QEMU command line of a {@link VmDefinition}: a pure function, so the exact argument list is
 * unit-tested (golden lists) without running anything.
 *
 * <p>PCI slots are given explicitly, in the definition's order (NICs first, then passthrough
 * devices, then the cloud-init seed disk), so the guest enumerates its interfaces in the adapter order of the config (eth0 is
 * the first adapter) and a hot-plugged NIC never shifts the others.
 */
public final class QemuCommand {
  /** The first free slot of the i440fx machine with -nodefaults (0: host bridge, 1: ISA/IDE). */
  public static final int FIRST_SLOT = 3;
  /** Slots for hot-plugged NICs start here, leaving room for the config's own devices. */
  public static final int FIRST_HOTPLUG_SLOT = 0x10;

  /** How the CPU is virtualised. */
  public enum Accel {
    KVM,
    TCG
  }

  private QemuCommand() {}

  /** The QMP socket of a VM run from {@code runDir}. */
  public static Path qmpSocket(Path runDir) {
    return runDir.resolve("qmp.sock");
  }

  /** The file descriptor the launcher opens the first macvtap's tap device on; the next get the next. */
  public static final int FIRST_MACVTAP_FD = 3;

  /**
   * Opens each macvtap's character device on its fixed descriptor, then becomes QEMU (same pid, so
   * the supervisor still watches QEMU). The device node is made from the macvtap's own sysfs entry
   * (its major:minor) in the run directory and removed once open: /dev/tapN is named after the
   * ifindex, which other network namespaces reuse, so that name may belong to someone else.
   * Arguments: run directory, "ifname:fd"..., "--", the QEMU command.
   */
  static final String MACVTAP_LAUNCHER = String.join("\n",
      "run=$1; shift",
      "while [ \"$1\" != -- ]; do",
      "  ifname=${1%:*}; fd=${1#*:}; shift",
      "  dev=$(cat /sys/class/net/$ifname/macvtap/tap*/dev 2>/dev/null)",
      "  if [ -z \"$dev\" ]; then echo \"macvtap $ifname: no tap device under /sys/class/net/$ifname/macvtap\" >&2; exit 1; fi",
      "  node=$run/$ifname.tapdev",
      "  rm -f \"$node\"",
      "  mknod \"$node\" c \"${dev%:*}\" \"${dev#*:}\" || exit 1",
      "  eval \"exec $fd<>\\\"\\$node\\\"\" || { echo \"macvtap $ifname: cannot open its tap device $dev\" >&2; exit 1; }",
      "  rm -f \"$node\"",
      "done",
      "shift",
      "exec \"$@\"");

  public static List<String> build(VmDefinition vm, Accel accel, Path runDir) {
    List<String> qemu = qemu(vm, accel, runDir);
    List<String> launcher = new ArrayList<>(List.of("sh", "-c", MACVTAP_LAUNCHER, "macvtap-launcher", runDir.toString()));
    int fd = FIRST_MACVTAP_FD;
    for (Nic nic : vm.nics()) {
      if (nic.attach() == Attach.MACVTAP) {
        launcher.add(nic.ifName() + ":" + fd++);
      }
    }
    if (fd == FIRST_MACVTAP_FD) {
      return qemu;
    }
    launcher.add("--");
    launcher.addAll(qemu);
    return List.copyOf(launcher);
  }

  private static List<String> qemu(VmDefinition vm, Accel accel, Path runDir) {
    List<String> args = new ArrayList<>(List.of("qemu-system-x86_64", "-name", vm.name(), "-uuid", vm.uuid()));
    if (accel == Accel.KVM) {
      // IA32_ARCH_CAPABILITIES cannot be set under some nested hypervisors; guests need none.
      args.addAll(List.of("-accel", "kvm", "-cpu", "host,-arch-capabilities"));
    } else {
      args.addAll(List.of("-accel", "tcg"));
    }
    args.addAll(List.of(
        "-m", Integer.toString(vm.memoryMb()),
        "-smp", Integer.toString(vm.vcpus()),
        "-nodefaults", "-no-user-config", "-display", "none", "-monitor", "none",
        "-serial", "file:" + vm.serialLog(),
        "-qmp", "unix:" + qmpSocket(runDir) + ",server=on,wait=off"));
    if (vm.boot() instanceof KernelBoot k) {
      args.addAll(List.of("-kernel", k.kernel().toString()));
      k.initrd().ifPresent(initrd -> args.addAll(List.of("-initrd", initrd.toString())));
      if (!k.cmdline().isEmpty()) {
        args.addAll(List.of("-append", k.cmdline()));
      }
    } else if (vm.boot() instanceof DiskBoot d) {
      // the guest writes only to its own overlay (a qcow2 whose backing file is the base)
      args.addAll(List.of("-drive", "file=" + d.overlay() + ",format=qcow2,if=virtio,cache=writeback"));
    }
    int slot = FIRST_SLOT;
    int macvtapFd = FIRST_MACVTAP_FD;
    for (int i = 0; i < vm.nics().size(); i++) {
      Nic nic = vm.nics().get(i);
      String netdev = nic.attach() == Attach.MACVTAP
          ? "tap,id=net" + i + ",fd=" + macvtapFd++ + (accel == Accel.KVM ? ",vhost=on" : "")
          : netdev(nic, "net" + i);
      args.addAll(List.of("-netdev", netdev, "-device", nicDevice(nic, "net" + i, slot++)));
    }
    for (VmDefinition.HostPciDevice device : vm.passthrough()) {
      args.addAll(List.of("-device", "vfio-pci,host=" + device.address() + ",addr=" + hex(slot++)));
    }
    if (vm.seed().isPresent()) {
      // read-only for the guest; a slot of its own after the other devices, so NICs keep theirs
      args.addAll(List.of("-drive", "file=" + vm.seed().get().image() + ",format=raw,if=none,id=seed,readonly=on",
          "-device", "virtio-blk-pci,drive=seed,id=seed-disk,addr=" + hex(slot)));
    }
    return List.copyOf(args);
  }

  /**
   * The -netdev value of a tap NIC (QEMU opens the tap by name). A hot-plugged NIC is always a tap:
   * a macvtap's descriptor can only be handed over at launch.
   */
  static String netdev(Nic nic, String id) {
    if (nic.attach() == Attach.MACVTAP) {
      throw new IllegalArgumentException("NIC " + nic.ifName()
          + ": a macvtap is opened by the launcher at start and cannot be hot-plugged by name");
    }
    return "tap,id=" + id + ",ifname=" + nic.ifName() + ",script=no,downscript=no";
  }

  static String nicDevice(Nic nic, String netdevId, int slot) {
    String device = nic.model().qemuName() + ",netdev=" + netdevId + ",id=" + netdevId + "-nic,mac=" + nic.mac()
        + ",addr=" + hex(slot);
    if (nic.model() == NicModel.VIRTIO_NET_PCI) {
      device += ",host_mtu=" + nic.mtu();
    }
    return device;
  }

  static String hex(int slot) {
    return "0x" + Integer.toHexString(slot);
  }
}
