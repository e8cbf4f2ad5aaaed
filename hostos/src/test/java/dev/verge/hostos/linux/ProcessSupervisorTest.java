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
import dev.verge.hostos.DaemonListener;
import dev.verge.hostos.DaemonPaths;
import dev.verge.hostos.DaemonSupervisor;
import dev.verge.hostos.DaemonSupervisorContract;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Supervising real (harmless) child processes: sh and sleep. */
class ProcessSupervisorTest extends DaemonSupervisorContract {
  @TempDir Path state;
  private ProcessSupervisor supervisor;
  private Process stray;

  @Override
  protected DaemonSupervisor supervisor() {
    if (supervisor == null) {
      supervisor = new ProcessSupervisor(state);
    }
    return supervisor;
  }

  @Override
  protected List<String> longRunningCommand() {
    return List.of("sleep", "60");
  }

  @Override
  protected void kill(String name) {
    long pid = supervisor.status(name).orElseThrow().pid();
    ProcessHandle.of(pid).orElseThrow().destroyForcibly();
  }

  @AfterEach
  void stopAll() {
    if (supervisor != null) {
      supervisor.close();
    }
    if (stray != null) {
      stray.destroyForcibly();
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
  void restartsWaitTheBackOffOfThePolicyDoublingUpToItsCeiling() throws Exception {
    supervisor = new ProcessSupervisor(state);
    RestartPolicy policy = new RestartPolicy(Duration.ofMillis(200), Duration.ofMillis(800), 4);
    Recorder recorder = new Recorder();
    List<Long> exits = new CopyOnWriteArrayList<>();
    List<Long> starts = new CopyOnWriteArrayList<>();
    DaemonListener timing = recorder.listenerFor("crasher");
    supervisor.start(DaemonSpec.of("crasher", "sh", "-c", "echo run; exit 3").withRestart(policy),
        Runnable::run, // told on the supervisor's thread the moment it happens, so the times are exact
        new DaemonListener() {
          @Override
          public void onReady(DaemonStatus status) {
            starts.add(System.nanoTime());
            timing.onReady(status);
          }

          @Override
          public void onExited(DaemonStatus status, int exitCode, boolean willRestart) {
            exits.add(System.nanoTime());
            timing.onExited(status, exitCode, willRestart);
          }
        });
    for (int run = 1; run <= 5; run++) {
      recorder.await("crasher", "ready");
      Told exited = recorder.await("crasher", "exited");
      assertThat(exited.exitCode()).isEqualTo(3);
      assertThat(exited.again()).as("run " + run + " restarted").isEqualTo(run < 5);
    }
    assertThat(starts).hasSize(5);
    for (int restart = 1; restart <= 4; restart++) {
      long waited = Duration.ofNanos(starts.get(restart) - exits.get(restart - 1)).toMillis();
      long backoff = policy.backoff(restart).toMillis();
      // at least the back-off (200, 400, 800, then capped at 800), and less than its double
      assertThat(waited).as("wait before restart " + restart).isGreaterThanOrEqualTo(backoff)
          .isLessThan(backoff * 2);
    }
    DaemonStatus status = supervisor.status("crasher").orElseThrow();
    assertThat(status.restarts()).isEqualTo(4);
    assertThat(status.running()).isFalse();
    assertThat(Files.readString(status.log()).split("run", -1)).hasSize(6); // 5 runs
  }

  @Test
  void aRestartWhoseProgramVanishedIsToldAsAFailure() throws Exception {
    supervisor = new ProcessSupervisor(state);
    Path program = state.resolve("vanishing.sh");
    Files.writeString(program, "#!/bin/sh\necho up\nsleep 0.2\nexit 1\n");
    Files.setPosixFilePermissions(program, PosixFilePermissions.fromString("rwx------"));
    Recorder recorder = new Recorder();
    supervisor.start(DaemonSpec.of("vanishing", program.toString()).readyWhenLogShows("up")
        .withRestart(new RestartPolicy(Duration.ofMillis(10), Duration.ofMillis(10), 1)),
        Runnable::run, recorder.listenerFor("vanishing"));
    recorder.await("vanishing", "ready");
    Files.delete(program);
    assertThat(recorder.await("vanishing", "exited").again()).isTrue();
    Told failed = recorder.await("vanishing", "failed");
    assertThat(failed.detail()).isEqualTo("cannot restart daemon vanishing: cannot run " + program
        + ": No such file or directory (ENOENT)");
    assertThat(failed.again()).isFalse();
    assertThat(supervisor.status("vanishing")).map(DaemonStatus::running).contains(false);
  }

  @Test
  void aRestartThatExitsBeforeItIsReadyIsToldAsAFailureAndRetried() throws Exception {
    supervisor = new ProcessSupervisor(state);
    Path marker = state.resolve("ran-once");
    Recorder recorder = new Recorder();
    supervisor.start(DaemonSpec.of("flaky", "sh", "-c",
            "if [ -e " + marker + " ]; then echo 'bad config line 3' >&2; exit 7; fi; touch " + marker
                + "; echo ready; sleep 0.2; exit 1")
        .readyWhenLogShows("ready").withRestart(new RestartPolicy(Duration.ofMillis(10), Duration.ofMillis(10), 2)),
        Runnable::run, recorder.listenerFor("flaky"));
    recorder.await("flaky", "ready");
    assertThat(recorder.await("flaky", "exited").exitCode()).isEqualTo(1);
    Told retried = recorder.await("flaky", "failed");
    assertThat(retried.detail()).isEqualTo(
        "cannot restart daemon flaky: exited with 7 before it was ready; its output: bad config line 3 (ECHILD)");
    assertThat(retried.again()).isTrue();
    assertThat(recorder.await("flaky", "failed").again()).isFalse();
    DaemonStatus status = supervisor.status("flaky").orElseThrow();
    assertThat(status.restarts()).isEqualTo(2);
    assertThat(status.lastExitCode()).isEqualTo(7);
  }

  @Test
  void aDaemonNotReadyInTimeIsKilledAndToldAsAFailure() {
    supervisor = new ProcessSupervisor(state);
    Recorder recorder = new Recorder();
    supervisor.start(new DaemonSpec("slow", List.of("sh", "-c", "echo starting; exec sleep 60"), Optional.empty(),
            Duration.ofMillis(300), RestartPolicy.NEVER).readyWhenLogShows("never printed"),
        Runnable::run, recorder.listenerFor("slow"));
    recorder.await("slow", "output");
    long pid = pidOf("slow");
    Told failed = recorder.await("slow", "failed");
    assertThat(failed.detail())
        .isEqualTo("cannot start daemon slow: not ready after 300 ms; its output: starting (ETIMEDOUT)");
    assertThat(failed.again()).isFalse();
    assertThat(supervisor.status("slow")).isEmpty();
    assertThat(ProcessHandle.of(pid).map(h -> h.onExit().join().isAlive()).orElse(false)).isFalse();
  }

  private long pidOf(String name) {
    return supervisor.status(name).orElseThrow().pid();
  }

  @Test
  void aDaemonRunsInItsStateDirectoryWithItsRunDirectoryForTemporaryFilesAndItsLinesAreTold() {
    supervisor = new ProcessSupervisor(state);
    Recorder recorder = new Recorder();
    supervisor.start(DaemonSpec.of("where", "sh", "-c", "pwd; echo \"TMPDIR=$TMPDIR\"; exec sleep 60"),
        Runnable::run, recorder.listenerFor("where"));
    DaemonPaths paths = supervisor.paths("where");
    assertThat(recorder.await("where", "output").detail()).isEqualTo(paths.state().toString());
    assertThat(recorder.await("where", "output").detail()).isEqualTo("TMPDIR=" + paths.run());
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

  /**
   * After a crash the daemons' new parent may reap them late or never: one that has ended on SIGTERM
   * and lingers as a zombie is ended, without waiting out the grace and then SIGKILL's.
   */
  @Test
  void aLeftoverThatEndsAsAnUnreapedZombieCountsAsEndedAtOnce() throws Exception {
    // the daemon is the child of a process that never reaps it (sleep after exec), like an orphan whose reaper is slow
    stray = new ProcessBuilder("sh", "-c", "sleep 60 & echo $!; exec sleep 60").start();
    long daemon = Long.parseLong(new java.io.BufferedReader(
        new java.io.InputStreamReader(stray.getInputStream())).readLine().trim());
    Files.writeString(state.resolve("orphan.pid"), daemon + " " + ProcessSupervisor.startTime(daemon).orElseThrow() + "\n");

    long began = System.nanoTime();
    supervisor = new ProcessSupervisor(state);
    Duration took = Duration.ofNanos(System.nanoTime() - began);

    assertThat(supervisor.endedLeftovers()).containsExactly(daemon);
    assertThat(Files.readString(Path.of("/proc", Long.toString(daemon), "stat"))).as("still unreaped").contains(") Z ");
    assertThat(took).as("ended on SIGTERM, not after the grace").isLessThan(Duration.ofSeconds(4));
  }
}
