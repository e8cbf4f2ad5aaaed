package dev.verge.hostos.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.verge.hostos.DaemonSpec;
import dev.verge.hostos.DaemonSpec.RestartPolicy;
import dev.verge.hostos.DaemonStatus;
import dev.verge.hostos.DaemonSupervisor;
import dev.verge.hostos.DaemonSupervisorContract;
import dev.verge.hostos.Errno;
import dev.verge.hostos.HostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SimDaemonsTest extends DaemonSupervisorContract {
  @TempDir Path scratch;
  private SimDaemons daemons;

  @Override
  protected DaemonSupervisor supervisor() {
    if (daemons == null) {
      daemons = new SimDaemons(scratch);
    }
    return daemons;
  }

  @Override
  protected List<String> longRunningCommand() {
    return List.of("dnsmasq", "--keep-in-foreground");
  }

  @Override
  protected void kill(String name) {
    daemons.crash(name, 137);
  }

  @Test
  void aCrashedDaemonComesBackWithANewPidUntilItsPolicyIsSpent() {
    supervisor();
    long first = daemons.start(DaemonSpec.of("dnsmasq", "dnsmasq")
        .withRestart(new RestartPolicy(Duration.ofMillis(100), Duration.ofSeconds(1), 1))).pid();
    DaemonStatus restarted = daemons.crash("dnsmasq", 139);
    assertThat(restarted.running()).isTrue();
    assertThat(restarted.pid()).isNotEqualTo(first);
    assertThat(restarted.restarts()).isEqualTo(1);
    assertThat(restarted.lastExitCode()).isEqualTo(139);
    DaemonStatus down = daemons.crash("dnsmasq", 1);
    assertThat(down.running()).isFalse();
    assertThat(catchThrowableOfType(HostException.class, () -> daemons.crash("dnsmasq", 1)).errno())
        .isEqualTo(Errno.ESRCH);
  }

  @Test
  void aRestartMeantToFailIsToldAndRetriedWhileThePolicyAllows() {
    supervisor();
    Recorder recorder = new Recorder();
    daemons.start(DaemonSpec.of("charon", "charon").withRestart(new RestartPolicy(Duration.ZERO, Duration.ZERO, 3)),
        Runnable::run, recorder.listenerFor("charon"));
    daemons.failNextLaunches("charon", 2, "cannot run charon: No such file or directory");
    DaemonStatus after = daemons.crash("charon", 1);
    assertThat(recorder.await("charon", "ready").status().restarts()).isZero();
    assertThat(recorder.await("charon", "exited").again()).isTrue();
    Told first = recorder.await("charon", "failed");
    assertThat(first.detail())
        .isEqualTo("cannot restart daemon charon: cannot run charon: No such file or directory (ENOENT)");
    assertThat(first.again()).isTrue();
    assertThat(recorder.await("charon", "failed").again()).isTrue();
    assertThat(recorder.await("charon", "ready").status().restarts()).isEqualTo(3);
    assertThat(after.running()).isTrue();
  }

  @Test
  void aFirstStartMeantToFailIsToldAndLeavesNothingSupervised() {
    supervisor();
    daemons.failNextLaunches("dnsmasq", 1, "cannot run dnsmasq: No such file or directory");
    Recorder recorder = new Recorder();
    daemons.start(DaemonSpec.of("dnsmasq", "dnsmasq"), Runnable::run, recorder.listenerFor("dnsmasq"));
    Told failed = recorder.await("dnsmasq", "failed");
    assertThat(failed.again()).isFalse();
    assertThat(daemons.status("dnsmasq")).isEmpty();
    assertThat(catchThrowableOfType(HostException.class, () -> daemons.start(DaemonSpec.of("x", "x")))).isNull();
  }

  @Test
  void whatADaemonWritesIsToldLineByLine() {
    supervisor();
    Recorder recorder = new Recorder();
    daemons.start(DaemonSpec.of("dhcpc", "udhcpc"), Runnable::run, recorder.listenerFor("dhcpc"));
    daemons.output("dhcpc", "lease obtained");
    assertThat(recorder.await("dhcpc", "output").detail()).isEqualTo("lease obtained");
  }

  @Test
  void theRestartBackOffDoublesUpToItsCeiling() {
    RestartPolicy policy = new RestartPolicy(Duration.ofMillis(100), Duration.ofMillis(500), 10);
    assertThat(policy.backoff(1)).isEqualTo(Duration.ofMillis(100));
    assertThat(policy.backoff(3)).isEqualTo(Duration.ofMillis(400));
    assertThat(policy.backoff(4)).isEqualTo(Duration.ofMillis(500));
  }
}
