package dev.verge.netlab;

import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Boots the guest image with QEMU inside a namespace, its NICs on tap devices of that namespace.
 *
 * <p>Acceleration: KVM when {@code /dev/kvm} is usable, else TCG. KVM is tried first because it
 * boots in well under a second where it works; if the guest shows no sign of life within {@link
 * #KVM_LIFE_SIGN_TIMEOUT} (nested KVM can hang in the kernel's decompressor) the VM is killed and
 * booted again with TCG, and KVM is not tried again in this JVM.
 */
public final class GuestVm implements AutoCloseable {
  /** How the CPU is virtualised. */
  public enum Accel {
    KVM,
    TCG
  }

  /** A virtual NIC on a tap device that already exists in the namespace. */
  public record Nic(String tap, String mac, String model) {
    public static Nic virtio(String tap, String mac) {
      return new Nic(tap, mac, "virtio-net-pci");
    }
  }

  /** What a guest printed about one of its interfaces. */
  public record GuestAddress(String ifname, String mac, String cidr) {}

  static final Duration KVM_LIFE_SIGN_TIMEOUT = Duration.ofSeconds(8);
  private static final Pattern ADDR =
      Pattern.compile("VERGE-ADDR (\\S+) mac=(\\S+) (\\S+)");
  private static volatile String kvmBrokenReason;

  private final BackgroundProcess qemu;
  private final Accel accel;
  private final long startNanos;

  private GuestVm(BackgroundProcess qemu, Accel accel, long startNanos) {
    this.qemu = qemu;
    this.accel = accel;
    this.startNanos = startNanos;
  }

  /** Boots with KVM if it works here, else TCG. */
  public static GuestVm boot(Netns ns, String name, GuestImage image, List<Nic> nics, String check) {
    if (kvmUsable()) {
      GuestVm vm = boot(ns, name, image, nics, check, Accel.KVM);
      try {
        vm.qemu.awaitOutput(out -> out.contains("VERGE-BOOT"), KVM_LIFE_SIGN_TIMEOUT);
        return vm;
      } catch (IllegalStateException noLifeSign) {
        giveUpKvm(firstLine(noLifeSign.getMessage()) + " " + lastLine(vm.qemu.output()));
        vm.close();
      }
    }
    return boot(ns, name, image, nics, check, Accel.TCG);
  }

  /** Boots with the given acceleration, no fallback (for measurements). */
  public static GuestVm boot(
      Netns ns, String name, GuestImage image, List<Nic> nics, String check, Accel accel) {
    List<String> command = new ArrayList<>(List.of("qemu-system-x86_64"));
    command.addAll(accelerationArguments(accel));
    command.addAll(
        List.of(
            "-m", "256", "-smp", "1", "-nodefaults", "-display", "none", "-serial", "stdio",
            "-monitor", "none", "-no-reboot",
            "-kernel", image.kernel().toString(),
            "-initrd", image.initrd().toString(),
            "-append", "console=ttyS0 quiet panic=-1" + (check == null ? "" : " verge.check=" + check)));
    for (int i = 0; i < nics.size(); i++) {
      Nic nic = nics.get(i);
      command.addAll(
          List.of(
              "-netdev", "tap,id=n" + i + ",ifname=" + nic.tap() + ",script=no,downscript=no",
              "-device", nic.model() + ",netdev=n" + i + ",mac=" + nic.mac()));
    }
    long start = System.nanoTime();
    BackgroundProcess qemu = ns.spawn("qemu-" + name + "-" + accel.name().toLowerCase(), command.toArray(String[]::new));
    return new GuestVm(qemu, accel, start);
  }

  /** QEMU's arguments for an acceleration (shared with {@link LabVm}). */
  static List<String> accelerationArguments(Accel accel) {
    if (accel == Accel.KVM) {
      // IA32_ARCH_CAPABILITIES cannot be set under some nested hypervisors; the guest needs none.
      return List.of("-enable-kvm", "-cpu", "host,-arch-capabilities");
    }
    return List.of("-accel", "tcg");
  }

  /** Gives KVM up for the rest of this JVM: a VM booted with it showed no sign of life. */
  static void giveUpKvm(String reason) {
    kvmBrokenReason = reason;
    System.err.println("KVM guest showed no sign of life, falling back to TCG: " + reason);
  }

  /** True when /dev/kvm can be opened and KVM has not been found broken in this JVM. */
  public static boolean kvmUsable() {
    java.nio.file.Path kvm = java.nio.file.Path.of("/dev/kvm");
    return kvmBrokenReason == null && Files.isReadable(kvm) && Files.isWritable(kvm);
  }

  /** Why KVM was given up in this JVM, if it was. */
  public static Optional<String> kvmBrokenReason() {
    return Optional.ofNullable(kvmBrokenReason);
  }

  public Accel accel() {
    return accel;
  }

  /** Waits until the guest has reported the addresses of all its interfaces. */
  public Map<String, GuestAddress> awaitAddresses(Duration timeout) {
    String out = qemu.awaitOutput(text -> text.contains("VERGE-ADDR") && text.contains("VERGE-READY")
        || text.contains("VERGE-CHECK"), timeout);
    return parseAddresses(out);
  }

  /** Waits for the first DHCP lease and returns the time from QEMU start to it. */
  public Duration awaitFirstLease(Duration timeout) {
    qemu.awaitOutput(text -> text.contains("VERGE-LEASE"), timeout);
    return Duration.ofNanos(System.nanoTime() - startNanos);
  }

  /** Waits for the kernel-command-line check and returns its console line. */
  public String awaitCheck(Duration timeout) {
    String out = qemu.awaitOutput(text -> text.contains("VERGE-CHECK"), timeout);
    return out.lines().filter(l -> l.contains("VERGE-CHECK")).findFirst().orElseThrow().trim();
  }

  public String console() {
    return qemu.output();
  }

  static Map<String, GuestAddress> parseAddresses(String console) {
    Map<String, GuestAddress> addresses = new LinkedHashMap<>();
    Matcher m = ADDR.matcher(console);
    while (m.find()) {
      addresses.put(m.group(1), new GuestAddress(m.group(1), m.group(2), m.group(3)));
    }
    return addresses;
  }

  @Override
  public void close() {
    qemu.close();
  }

  static String firstLine(String text) {
    return text == null ? "" : text.lines().findFirst().orElse("");
  }

  static String lastLine(String text) {
    List<String> lines = text.lines().filter(l -> !l.isBlank()).toList();
    return lines.isEmpty() ? "(no console output)" : "last console line: " + lines.get(lines.size() - 1);
  }
}
