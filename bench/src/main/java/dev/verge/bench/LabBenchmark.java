package dev.verge.bench;

import dev.verge.netlab.Exec;
import dev.verge.netlab.LabImage;
import dev.verge.netlab.LabSuite;
import dev.verge.netlab.RepoPaths;
import dev.verge.netlab.Root;
import java.time.Duration;
import java.util.List;

/**
 * The lab VM: {@code lab.boot_to_ready} (QEMU start until its agent answers on the command
 * channel) and {@code lab.contract_suite} (the host layer's contract suite on the Linux backend,
 * inside the VM, on Debian's cloud kernel). One run; {@code scripts/lab prepare} builds what it needs.
 */
public final class LabBenchmark {
  /** The suite {@code ./verge lab test} runs by default (scripts/lab's contract_suite). */
  static final List<String> CONTRACT_SUITE = List.of(
      "dev.verge.hostos.linux.LinuxNetworkStackIT", "dev.verge.hostos.linux.LinuxHostIT",
      "dev.verge.hostos.linux.LinuxConntrackContractIT", "dev.verge.hostos.linux.NftablesFirewallContractIT");

  private LabBenchmark() {}

  public static void main(String[] args) {
    if (!Root.isRoot()) {
      System.out.println("# lab: needs root (the image is built with mmdebstrap); skipped");
      return;
    }
    Exec.run(List.of(RepoPaths.root().resolve("scripts/lab").toString(), "prepare", "hostos"), Duration.ofMinutes(30))
        .requireOk();
    LabSuite.Result result = LabSuite.run(LabImage.ensureBuilt(), LabSuite.moduleTestClasspath("hostos"),
        LabSuite.testCommand(CONTRACT_SUITE), Duration.ofMinutes(30), line -> {});
    String accel = result.accel().name().toLowerCase();
    System.out.println("BENCH lab.boot_to_ready " + result.bootToReady().toMillis() + " ms # " + accel);
    if (result.suite().exitCode() != 0) {
      System.out.println("# lab.contract_suite: the suite failed (exit " + result.suite().exitCode() + "); "
          + result.suite().stdout().lines().filter(l -> l.matches("\\d+ passed.*")).findFirst().orElse(""));
    }
    System.out.println("BENCH lab.contract_suite " + result.suiteTime().toSeconds() + " s # " + accel);
  }
}
