package dev.verge.netlab;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The lab VM boots the cloud kernel, runs commands over its channel, and leaves nothing behind. */
class LabVmIT {
  private static LabImage image;

  @BeforeAll
  static void buildImage() {
    assumeThat(Root.isRoot()).as("building the lab image (mmdebstrap) needs root").isTrue();
    image = LabImage.ensureBuilt();
  }

  @Test
  void runsCommandsOnTheCloudKernelWithItsFeaturesAndCleansUp(@TempDir Path payload) throws Exception {
    Files.writeString(payload.resolve("hello.txt"), "from the host\n");
    Path runDir;
    long qemuPid;
    try (LabVm vm = LabVm.boot(image, Map.of("data", payload), LabVm.Options.defaults(), Duration.ofMinutes(3))) {
      runDir = onlyRunDir();
      qemuPid = Long.parseLong(Files.readString(runDir.resolve("qemu.pid")).trim());

      ExecResult uname = vm.run("uname -r", Duration.ofSeconds(60));
      assertThat(uname.exitCode()).isZero();
      assertThat(uname.stdout()).isEqualTo(image.kernelVersion() + "\n");

      // exit code and both streams, exactly, even without a final newline
      ExecResult failing = vm.run("echo out; echo err >&2; printf tail; exit 7", Duration.ofSeconds(60));
      assertThat(failing.exitCode()).isEqualTo(7);
      assertThat(failing.stdout()).isEqualTo("out\nerr\ntail");

      assertThat(vm.run("cat /payload/data/hello.txt", Duration.ofSeconds(60)).stdout()).isEqualTo("from the host\n");

      // what the build machines' kernel lacks is real here (inside a throw-away namespace of the VM)
      ExecResult kernel = vm.run(String.join(" && ",
          "ip netns add t", "ip -n t link add v0 type veth peer name v1",
          "ip -n t link add link v0 name v0.5 type vlan id 5", "ip -n t link add b0 type bond mode active-backup",
          "ip -n t link add r0 type vrf table 10", "ip -n t link add br0 type bridge vlan_filtering 1",
          "ip -n t -o link show | wc -l"), Duration.ofSeconds(90));
      assertThat(kernel.exitCode()).as(kernel.stdout()).isZero();
      assertThat(kernel.stdout().trim()).isEqualTo("7"); // lo, v0, v1, v0.5, b0, r0, br0

      // the emulated IOMMU: the vmxnet3 behind the PCI bridge share a group, the other has its own
      ExecResult groups = vm.run(
          "for d in /sys/bus/pci/devices/*; do [ \"$(cat $d/vendor):$(cat $d/device)\" = 0x15ad:0x07b0 ]"
              + " && echo $(basename $d) $(basename $(readlink $d/iommu_group)); done; true",
          Duration.ofSeconds(60));
      Map<String, Long> devicesPerGroup = Arrays.stream(groups.stdout().split("\n")).filter(l -> !l.isBlank())
          .collect(Collectors.groupingBy(l -> l.split(" ")[1], Collectors.counting()));
      assertThat(devicesPerGroup.values()).as(groups.stdout()).containsExactlyInAnyOrder(1L, 2L);
      System.out.printf("lab VM (%s) boot to ready %d ms%n", vm.accel(), vm.bootToReady().toMillis());
    }
    assertThat(runDir).doesNotExist();
    assertThat(Processes.isRunning(qemuPid)).as("QEMU after close").isFalse();
  }

  @Test
  void aCommandThatOutlivesItsTimeoutFailsWithTheConsoleAndTheVmStillCleansUp() throws Exception {
    Path runDir;
    try (LabVm vm = LabVm.boot(image, Map.of(), LabVm.Options.defaults(), Duration.ofMinutes(3))) {
      runDir = onlyRunDir();
      Throwable thrown = org.assertj.core.api.Assertions.catchThrowable(
          () -> vm.run("sleep 30", Duration.ofSeconds(2)));
      assertThat(thrown).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("no end of 'sleep 30' within PT2S").hasMessageContaining("VERGE-LAB-READY");
    }
    assertThat(runDir).doesNotExist();
  }

  private static Path onlyRunDir() throws Exception {
    try (var dirs = Files.list(LabVm.runsDir())) {
      List<Path> runs = dirs.toList();
      assertThat(runs).hasSize(1);
      return runs.get(0);
    }
  }
}
