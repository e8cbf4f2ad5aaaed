package dev.verge.domainmgr;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Which accelerator the next QEMU gets: KVM while its device opens and no QEMU has failed on it,
 * TCG (software emulation) from then on. A /dev/kvm that exists but does not work (no nested
 * virtualisation, a module that refuses, a container without the device's permission) is only
 * found out by using it, so a QEMU that dies of a KVM error turns KVM off for the VMs after it.
 */
public final class AccelChoice {
  /** What QEMU prints when it cannot use KVM ("failed to initialize kvm", "Could not access KVM kernel module"). */
  private static final Pattern KVM_ERROR =
      Pattern.compile("(?i)(failed to initiali[sz]e kvm|could not access kvm|kvm: .*(not supported|permission denied|no such device)"
          + "|-accel kvm: )");

  private final Path device;
  private final Path modules;
  private volatile Optional<String> kvmFailure = Optional.empty();

  /**
   * @param device the KVM device ({@code /dev/kvm}; a test points it elsewhere)
   * @param modules the kernel's loaded modules ({@code /sys/module})
   */
  public AccelChoice(Path device, Path modules) {
    this.device = device;
    this.modules = modules;
  }

  public static AccelChoice forHost() {
    return new AccelChoice(Path.of("/dev/kvm"), Path.of("/sys/module"));
  }

  /** The accelerator for the next QEMU. */
  public QemuCommand.Accel next() {
    return whyNotKvm().isEmpty() ? QemuCommand.Accel.KVM : QemuCommand.Accel.TCG;
  }

  /** Why the next QEMU runs under TCG; empty when it gets KVM. */
  public Optional<String> whyNotKvm() {
    return kvmFailure.or(this::deviceProblem);
  }

  /**
   * Looks at the last output of a QEMU that exited: when it names a KVM failure, KVM is off for
   * good (returns true, and the caller relaunches under TCG).
   */
  public boolean exitedOfKvm(QemuCommand.Accel accel, String lastOutput) {
    if (accel != QemuCommand.Accel.KVM || !KVM_ERROR.matcher(lastOutput).find()) {
      return false;
    }
    kvmFailure = Optional.of("QEMU could not use KVM: " + lastOutput);
    return true;
  }

  private Optional<String> deviceProblem() {
    if (!Files.exists(device)) {
      return Optional.of(device + " does not exist (no KVM module, or no nested virtualisation)");
    }
    if (Files.isDirectory(modules.resolve("kvm_pvm"))) {
      // PVM, a nested hypervisor some clouds' VMs offer as their KVM: QEMU starts, and a guest kernel
      // not built for PVM hangs at boot ("Invalid physical address chosen!") without an error to see
      return Optional.of(device + " is PVM's (kernel module kvm_pvm), which boots only guest kernels built for PVM");
    }
    try (FileChannel ignored = FileChannel.open(device, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      return Optional.empty();
    } catch (IOException | UnsupportedOperationException e) {
      return Optional.of(device + " exists but cannot be opened for reading and writing: " + e.getMessage());
    }
  }
}
