package dev.verge.domainmgr;

import dev.verge.domainmgr.DomainItems.Vm;
import dev.verge.hostos.DaemonListener;
import dev.verge.hostos.DaemonPaths;
import dev.verge.hostos.DaemonSpec;
import dev.verge.hostos.DaemonStatus;
import dev.verge.hostos.DaemonSupervisor;
import dev.verge.hostos.HostException;
import dev.verge.hostos.linux.QmpClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import dev.verge.reconciler.Configurator;
import dev.verge.reconciler.Item;
import dev.verge.reconciler.OpContext;
import dev.verge.reconciler.RecreatedConfigurator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Runs each VM as a supervised QEMU daemon (its own run directory with the QMP socket, serial
 * console to a file). The create finishes when QEMU is up; a VM that dies later is restarted by the
 * supervisor with back-off, and what happened is kept in {@link VmRun} for the domain status.
 */
final class VmConfigurator extends RecreatedConfigurator {
  private static final Logger LOG = LoggerFactory.getLogger(VmConfigurator.class);
  /** How a VM stands, for the domain status. */
  record VmRun(State state, QemuCommand.Accel accel, int restarts, Optional<String> lastProblem, Path runDir,
      Vm booted) {
    enum State {
      STARTING,
      RUNNING,
      RESTARTING,
      FAILED
    }

    VmRun with(State newState, int newRestarts, Optional<String> problem) {
      return new VmRun(newState, accel, newRestarts, problem, runDir, booted);
    }
  }

  /** sun_path holds 108 bytes with its terminating NUL. */
  static final int MAX_UNIX_SOCKET_PATH = 107;

  static final DaemonSpec.RestartPolicy RESTART =
      new DaemonSpec.RestartPolicy(Duration.ofSeconds(1), Duration.ofMinutes(1), Integer.MAX_VALUE);

  private final DaemonSupervisor daemons;
  private final Executor loop;
  private final Supplier<QemuCommand.Accel> accel;
  private final java.util.function.BiPredicate<QemuCommand.Accel, String> exitedOfKvm;
  private final Runnable changed;
  private final Duration shutdownGrace;
  private final Map<String, VmRun> runs = new ConcurrentHashMap<>();

  /**
   * @param loop the agent's loop: daemon events arrive there
   * @param changed called (on the loop) when a VM's state changed, to republish status
   */
  VmConfigurator(DaemonSupervisor daemons, Executor loop, Supplier<QemuCommand.Accel> accel,
      java.util.function.BiPredicate<QemuCommand.Accel, String> exitedOfKvm, Runnable changed, Duration shutdownGrace) {
    this.exitedOfKvm = exitedOfKvm;
    this.shutdownGrace = shutdownGrace;
    this.daemons = daemons;
    this.loop = loop;
    this.accel = accel;
    this.changed = changed;
  }

  static String daemonName(String domainName) {
    return "qemu-" + domainName;
  }

  Optional<VmRun> run(String domainName) {
    return Optional.ofNullable(runs.get(domainName));
  }

  /** What each VM was started with, by domain name. */
  Map<String, Vm> booted() {
    Map<String, Vm> booted = new java.util.TreeMap<>();
    runs.forEach((name, run) -> booted.put(name, run.booted()));
    return booted;
  }

  /** Which start of each VM's QEMU runs now (0 first, then one more per supervisor restart), by domain name. */
  Map<String, Integer> qemuStarts() {
    Map<String, Integer> starts = new java.util.TreeMap<>();
    runs.forEach((name, run) -> starts.put(name, run.restarts()));
    return starts;
  }

  /** The QMP socket of a domain's QEMU. */
  Path qmpSocket(String domainName) {
    return QemuCommand.qmpSocket(daemons.paths(daemonName(domainName)).run());
  }

  @Override
  public void create(OpContext ctx, Item item) throws Exception {
    VmDefinition vm = ((Vm) item).definition();
    String daemon = daemonName(vm.name());
    DaemonPaths paths = daemons.paths(daemon);
    Files.createDirectories(vm.serialLog().getParent());
    Path qmp = QemuCommand.qmpSocket(paths.run());
    int length = qmp.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    if (length > MAX_UNIX_SOCKET_PATH) {
      throw new IllegalStateException("QMP socket path " + qmp + " is " + length + " bytes, more than a Unix socket allows ("
          + MAX_UNIX_SOCKET_PATH + "): use a shorter state directory");
    }
    Files.deleteIfExists(qmp);
    if (vm.boot() instanceof VmDefinition.DiskBoot disk) {
      createOverlay(disk);
    }
    if (vm.seed().isPresent()) {
      // (re)built at each start: a changed user data is a changed definition, so a new start
      VmDefinition.CloudInitSeed seed = vm.seed().get();
      NoCloudSeed.build(seed.image(), seed.userData(), seed.instanceId(), seed.hostname());
    }
    launch((Vm) item, accel.get(), ctx.continueInBackground());
  }

  /**
   * Starts QEMU under {@code acceleration}; {@code done} hears once whether it came up. A QEMU that
   * exits of a KVM error is relaunched at once under TCG instead of being restarted as it was.
   */
  private void launch(Vm item, QemuCommand.Accel acceleration, Consumer<Throwable> done) {
    VmDefinition vm = item.definition();
    String daemon = daemonName(vm.name());
    DaemonPaths paths = daemons.paths(daemon);
    List<String> command = QemuCommand.build(vm, acceleration, paths.run());
    DaemonSpec spec = new DaemonSpec(daemon, command, Optional.empty(), Duration.ofSeconds(10), RESTART);
    runs.put(vm.name(), new VmRun(VmRun.State.STARTING, acceleration, 0, Optional.empty(), paths.run(), item));
    daemons.start(spec, loop, new DaemonListener() {
      private boolean started;
      private String lastOutput = "";

      @Override
      public void onOutput(String line) {
        if (!line.isBlank()) {
          lastOutput = line.strip();
        }
      }

      @Override
      public void onReady(DaemonStatus status) {
        update(vm.name(), VmRun.State.RUNNING, status.restarts(), Optional.empty());
        if (!started) {
          started = true;
          done.accept(null);
        }
      }

      @Override
      public void onExited(DaemonStatus status, int exitCode, boolean willRestart) {
        VmRun run = runs.get(vm.name());
        if (run != null && run.booted() == item && exitedOfKvm.test(acceleration, lastOutput)) {
          LOG.warn("domain {}: QEMU could not use KVM ({}); relaunching it under TCG", vm.name(), lastOutput);
          loop.execute(() -> {
            VmRun now = runs.get(vm.name());
            if (now != null && now.booted() == item && now.accel() == acceleration) { // not stopped or replaced meanwhile
              daemons.stop(daemon);
              launch(item, QemuCommand.Accel.TCG, started ? e -> { } : done);
              started = true;
              changed.run();
            }
          });
          return;
        }
        update(vm.name(), willRestart ? VmRun.State.RESTARTING : VmRun.State.FAILED, status.restarts(),
            Optional.of("QEMU exited with code " + exitCode + (lastOutput.isEmpty() ? "" : " (" + lastOutput + ")")
                + (willRestart ? ", restarting with back-off" : "")));
      }

      @Override
      public void onFailed(HostException reason, boolean willRetry) {
        update(vm.name(), willRetry ? VmRun.State.RESTARTING : VmRun.State.FAILED,
            runs.containsKey(vm.name()) ? runs.get(vm.name()).restarts() : 0, Optional.of(reason.getMessage()));
        if (!started) {
          started = true;
          runs.remove(vm.name());
          done.accept(reason);
        }
      }
    });
  }

  private void update(String name, VmRun.State state, int restarts, Optional<String> problem) {
    VmRun run = runs.get(name);
    if (run != null) {
      runs.put(name, run.with(state, restarts, problem.or(run::lastProblem)));
      changed.run();
    }
  }

  /** The per-app copy-on-write layer over the pristine base image, made once and kept. */
  private static void createOverlay(VmDefinition.DiskBoot disk) throws IOException, InterruptedException {
    if (Files.exists(disk.overlay())) {
      return;
    }
    if (!Files.isRegularFile(disk.baseImage())) {
      throw new IOException("disk image " + disk.baseImage() + " does not exist"
          + disk.contentSha256().map(h -> " (image store entry for sha256 " + h + ")").orElse(""));
    }
    Files.createDirectories(disk.overlay().getParent());
    Process p = new ProcessBuilder("qemu-img", "create", "-q", "-f", "qcow2", "-F", disk.format().qemuName(),
        "-b", disk.baseImage().toString(), disk.overlay().toString()).redirectErrorStream(true).start();
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("qemu-img create of " + disk.overlay() + " took over 30 s");
    }
    String output = new String(p.getInputStream().readAllBytes()).trim();
    if (p.exitValue() != 0) {
      throw new IOException("qemu-img create of " + disk.overlay() + " failed: " + output);
    }
  }


  /**
   * Stops the VM: the guest gets the ACPI power button and {@link #shutdownGrace} to power off (on a
   * thread of its own, so the loop goes on), then QEMU is stopped by its supervisor either way.
   */
  @Override
  public void delete(OpContext ctx, Item item) throws IOException {
    VmDefinition vm = ((Vm) item).definition();
    runs.remove(vm.name());
    String daemon = daemonName(vm.name());
    Path socket = qmpSocket(vm.name());
    boolean running = daemons.status(daemon).map(DaemonStatus::running).orElse(false);
    if (!running || shutdownGrace.isZero() || !Files.exists(socket)) {
      stopNow(daemon, socket);
      return;
    }
    Consumer<Throwable> done = ctx.continueInBackground();
    Thread shutdown = new Thread(() -> {
      try (QmpClient qmp = QmpClient.connect(socket, Duration.ofSeconds(2))) {
        if (!qmp.requestPowerdown(shutdownGrace)) {
          LOG.info("domain {}: the guest did not power off within {} ms; stopping QEMU", vm.name(), shutdownGrace.toMillis());
        }
      } catch (HostException e) {
        LOG.info("domain {}: no graceful shutdown ({}); stopping QEMU", vm.name(), e.getMessage());
      }
      loop.execute(() -> {
        try {
          stopNow(daemon, socket);
          done.accept(null);
        } catch (IOException | RuntimeException e) {
          done.accept(e);
        }
      });
    }, "shutdown-" + vm.name());
    shutdown.setDaemon(true);
    shutdown.start();
  }

  private void stopNow(String daemon, Path socket) throws IOException {
    if (daemons.status(daemon).isPresent()) { // the supervisor may have given up on it
      daemons.stop(daemon);
    }
    Files.deleteIfExists(socket);
  }
}
