package dev.verge.domainmgr;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The KVM/TCG decision, against stand-ins for /dev/kvm (this machine has none). */
class AccelChoiceTest {
  @TempDir Path dir;

  @Test
  void noDeviceMeansTcgWithTheReason() {
    AccelChoice choice = new AccelChoice(dir.resolve("kvm"), dir);

    assertThat(choice.next()).isEqualTo(QemuCommand.Accel.TCG);
    assertThat(choice.whyNotKvm()).hasValueSatisfying(why -> assertThat(why).contains("does not exist"));
  }

  @Test
  void aDeviceThatCannotBeOpenedMeansTcg() throws Exception {
    Path notADevice = Files.createDirectory(dir.resolve("kvm")); // exists, but open(O_RDWR) fails

    AccelChoice choice = new AccelChoice(notADevice, dir);

    assertThat(choice.next()).isEqualTo(QemuCommand.Accel.TCG);
    assertThat(choice.whyNotKvm()).hasValueSatisfying(why -> assertThat(why).contains("exists but cannot be opened"));
  }

  @Test
  void aPvmKvmMeansTcgWithTheReason() throws Exception {
    Path modules = Files.createDirectories(dir.resolve("module/kvm_pvm")).getParent();

    AccelChoice choice = new AccelChoice(Files.createFile(dir.resolve("kvm")), modules);

    assertThat(choice.next()).isEqualTo(QemuCommand.Accel.TCG);
    assertThat(choice.whyNotKvm()).hasValueSatisfying(why -> assertThat(why).contains("kvm_pvm"));
  }

  @Test
  void anOpenableDeviceGivesKvmUntilAQemuDiesOfAKvmError() throws Exception {
    AccelChoice choice = new AccelChoice(Files.createFile(dir.resolve("kvm")), dir);
    assertThat(choice.next()).isEqualTo(QemuCommand.Accel.KVM);

    // exits for other reasons, or under TCG, change nothing
    assertThat(choice.exitedOfKvm(QemuCommand.Accel.KVM, "qemu-system-x86_64: -kernel /x: No such file or directory")).isFalse();
    assertThat(choice.exitedOfKvm(QemuCommand.Accel.TCG, "failed to initialize kvm: Permission denied")).isFalse();
    assertThat(choice.next()).isEqualTo(QemuCommand.Accel.KVM);

    assertThat(choice.exitedOfKvm(QemuCommand.Accel.KVM, "qemu-system-x86_64: failed to initialize kvm: Permission denied")).isTrue();
    assertThat(choice.next()).isEqualTo(QemuCommand.Accel.TCG);
    assertThat(choice.whyNotKvm()).contains("QEMU could not use KVM: qemu-system-x86_64: failed to initialize kvm: Permission denied");
  }

  @Test
  void qemusOtherKvmMessagesAreRecognised() throws Exception {
    for (String line : new String[] {"Could not access KVM kernel module: No such file or directory",
        "qemu-system-x86_64: -accel kvm: failed to initialize kvm: Operation not permitted"}) {
      AccelChoice choice = new AccelChoice(Files.createTempFile(dir, "kvm", ""), dir);
      assertThat(choice.exitedOfKvm(QemuCommand.Accel.KVM, line)).as(line).isTrue();
    }
  }
}
