package dev.verge.hostos.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.verge.hostos.DaemonSpec;
import dev.verge.hostos.DaemonSpec.RestartPolicy;
import dev.verge.hostos.DaemonStatus;
import dev.verge.hostos.Errno;
import dev.verge.hostos.HostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Supervising real (harmless) child processes: sh and sleep. */
class ProcessSupervisorTest {
  @TempDir Path state;
  private ProcessSupervisor supervisor;
  private Process stray;

  @AfterEach
  void stopAll() {
    if (supervisor != null) {
      supervisor.close();
    }
    if (stray != null) {
      stray.destroyForcibly();
    }
  }

  private static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within 10 s: " + what);
      }
      Thread.sleep(20);
    }
  }

  @Test
  void aStartedDaemonIsReadyRunningWithAPidFileAndItsOutputInItsLog() throws Exception {
    supervisor = new ProcessSupervisor(state);
    DaemonStatus status = supervisor.start(
        DaemonSpec.of("greeter", "sh", "-c", "echo listening on 53; exec sleep 60")
            .readyWhenLogShows("listening on \\d+"));
    assertThat(status.running()).isTrue();
    assertThat(ProcessHandle.of(status.pid())).isPresent();
    assertThat(Files.readString(state.resolve("greeter.pid"))).startsWith(status.pid() + " ");
    assertThat(Files.readString(status.log())).contains("listening on 53");
  }

  @Test
  void stoppingEndsTheProcessRemovesThePidFileAndDoesNotRestart() throws Exception {
    supervisor = new ProcessSupervisor(state);
    long pid = supervisor.start(DaemonSpec.of("sleeper", "sleep", "60")).pid();
    supervisor.stop("sleeper");
    assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    assertThat(state.resolve("sleeper.pid")).doesNotExist();
    assertThat(supervisor.status("sleeper")).isEmpty();
  }

  @Test
  void aDaemonThatExitsIsRestartedWithBackOffUpToTheLimit() throws Exception {
    supervisor = new ProcessSupervisor(state);
    supervisor.start(
        DaemonSpec.of("crasher", "sh", "-c", "echo run; sleep 0.1; exit 3")
            .withRestart(new RestartPolicy(Duration.ofMillis(10), Duration.ofMillis(40), 3)));
    await(() -> supervisor.status("crasher").map(s -> s.restarts() == 3 && !s.running()).orElse(false),
        "three restarts, then it stays down");
    DaemonStatus status = supervisor.status("crasher").orElseThrow();
    assertThat(status.lastExitCode()).isEqualTo(3);
    assertThat(Files.readString(status.log()).split("run", -1)).hasSize(5); // 4 runs
  }

  @Test
  void aDaemonThatDiesBeforeItIsReadyFailsWithItsExitCodeAndOutput() {
    supervisor = new ProcessSupervisor(state);
    HostException failed = catchThrowableOfType(HostException.class, () -> supervisor.start(DaemonSpec.of("broken", "sh", "-c", "echo 'bad config line 3' >&2; exit 2")
            .readyWhenLogShows("ready").withRestart(RestartPolicy.NEVER)));
    assertThat(failed.getMessage())
        .isEqualTo("cannot start daemon broken: exited with 2 before it was ready;"
            + " its output: bad config line 3 (ECHILD)");
    assertThat(supervisor.status("broken")).isEmpty();
  }

  @Test
  void aMissingProgramIsRefusedWithEnoent() {
    supervisor = new ProcessSupervisor(state);
    HostException failed = catchThrowableOfType(HostException.class, () -> supervisor.start(DaemonSpec.of("ghost", "/nonexistent/dnsmasq")));
    assertThat(failed.errno()).isEqualTo(Errno.ENOENT);
  }

  @Test
  void aNewSupervisorEndsTheDaemonsACrashedOneLeftBehind() throws Exception {
    stray = new ProcessBuilder("sleep", "60").start();
    Files.writeString(state.resolve("orphan.pid"),
        stray.pid() + " " + ProcessSupervisor.startTime(stray.pid()).orElseThrow() + "\n");
    supervisor = new ProcessSupervisor(state);
    assertThat(supervisor.endedLeftovers()).containsExactly(stray.pid());
    assertThat(stray.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    assertThat(state.resolve("orphan.pid")).doesNotExist();
  }

  @Test
  void aPidFileWhosePidWasReusedByAnotherProcessSparesThatProcess() throws Exception {
    stray = new ProcessBuilder("sleep", "60").start();
    long otherStart = ProcessSupervisor.startTime(stray.pid()).orElseThrow() + 12345;
    Files.writeString(state.resolve("recycled.pid"), stray.pid() + " " + otherStart + "\n");
    supervisor = new ProcessSupervisor(state);
    assertThat(supervisor.endedLeftovers()).isEmpty();
    assertThat(stray.isAlive()).isTrue();
    assertThat(state.resolve("recycled.pid")).doesNotExist();
  }
}
