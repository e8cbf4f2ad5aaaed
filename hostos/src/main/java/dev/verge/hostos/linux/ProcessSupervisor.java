package dev.verge.hostos.linux;

import dev.verge.hostos.DaemonSpec;
import dev.verge.hostos.DaemonStatus;
import dev.verge.hostos.DaemonSupervisor;
import dev.verge.hostos.Errno;
import dev.verge.hostos.HostException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Daemons as child processes of this JVM, in its namespace: output captured to
 * {@code <state>/<name>.log}, readiness read from that log, restart with exponential back-off when
 * one exits on its own, and {@code <state>/<name>.pid} files holding pid and kernel start time, so
 * that after a JVM crash the next supervisor ends the orphans it finds (and only them: a recycled
 * pid has another start time).
 */
public final class ProcessSupervisor implements DaemonSupervisor {
  private static final Logger LOG = LoggerFactory.getLogger(ProcessSupervisor.class);
  private static final Duration STOP_GRACE = Duration.ofSeconds(5);
  private static final long READY_POLL_MILLIS = 20;

  private final Path stateDir;
  private final List<String> commandPrefix;
  private final Map<String, Supervised> daemons = new ConcurrentHashMap<>();
  private final ScheduledExecutorService restarter =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread thread = new Thread(r, "daemon-restarter");
            thread.setDaemon(true);
            return thread;
          });
  private final List<Long> endedLeftovers;

  /** Opens the state directory and ends what a previous, crashed supervisor left running. */
  public ProcessSupervisor(Path stateDir) {
    this(stateDir, List.of());
  }

  /**
   * Runs every daemon as {@code commandPrefix + command}, e.g. behind {@code ip netns exec NAME}
   * so that it lives in a named namespace.
   */
  public ProcessSupervisor(Path stateDir, List<String> commandPrefix) {
    this.stateDir = stateDir;
    this.commandPrefix = List.copyOf(commandPrefix);
    try {
      Files.createDirectories(stateDir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    this.endedLeftovers = endLeftovers();
  }

  /** The pids of leftovers this supervisor ended when it opened. */
  public List<Long> endedLeftovers() {
    return endedLeftovers;
  }

  private static final class Supervised {
    final DaemonSpec spec;
    volatile Process process;
    volatile boolean stopping;
    volatile int restarts;
    volatile int lastExitCode = -1;

    Supervised(DaemonSpec spec) {
      this.spec = spec;
    }
  }

  @Override
  public DaemonStatus start(DaemonSpec spec) {
    Supervised daemon = new Supervised(spec);
    Supervised existing = daemons.putIfAbsent(spec.name(), daemon);
    if (existing != null) {
      throw new HostException("start daemon", spec.name(), Errno.EEXIST,
          "already supervised, pid " + existing.process.pid());
    }
    try {
      long logOffset = logSize(spec.name());
      launch(daemon);
      awaitReady(daemon, logOffset);
      return status(daemon);
    } catch (RuntimeException e) {
      stop(spec.name());
      throw e;
    }
  }

  private void launch(Supervised daemon) {
    String name = daemon.spec.name();
    Process process;
    try {
      List<String> command = new ArrayList<>(commandPrefix);
      command.addAll(daemon.spec.command());
      process = new ProcessBuilder(command)
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log(name).toFile()))
          .start();
    } catch (IOException e) {
      Errno errno = Errno.inMessage(e.getMessage()).orElse(Errno.EIO);
      throw new HostException("start daemon", name, errno,
          "cannot run " + daemon.spec.command().get(0) + ": " + errno.description());
    }
    writePidFile(name, process.pid());
    daemon.process = process;
    process.onExit().thenAccept(exited -> onExit(daemon, exited));
  }

  private void onExit(Supervised daemon, Process exited) {
    if (daemon.process != exited) {
      return;
    }
    daemon.lastExitCode = exited.exitValue();
    deletePidFile(daemon.spec.name(), exited.pid());
    DaemonSpec.RestartPolicy policy = daemon.spec.restart();
    if (daemon.stopping || daemon.restarts >= policy.maxRestarts()) {
      return;
    }
    restarter.schedule(
        () -> {
          if (!daemon.stopping) {
            launch(daemon);
            daemon.restarts++; // counted once running, so status never shows a restart still to come
          }
        },
        policy.backoff(daemon.restarts + 1).toMillis(),
        TimeUnit.MILLISECONDS);
  }

  private void awaitReady(Supervised daemon, long logOffset) {
    if (daemon.spec.readyLine().isEmpty()) {
      return;
    }
    long deadline = System.nanoTime() + daemon.spec.readyTimeout().toNanos();
    while (true) {
      Process process = daemon.process;
      boolean exited = !process.isAlive(); // before reading: then the log holds all it wrote
      String output = readLog(daemon.spec.name(), logOffset);
      if (daemon.spec.readyLine().get().matcher(output).find()) {
        return;
      }
      if (exited) {
        throw new HostException("start daemon", daemon.spec.name(), Errno.ECHILD,
            "exited with " + process.exitValue() + " before it was ready; its output: " + tail(output));
      }
      if (System.nanoTime() > deadline) {
        throw new HostException("start daemon", daemon.spec.name(), Errno.ETIMEDOUT,
            "not ready after " + daemon.spec.readyTimeout().toMillis() + " ms; its output: " + tail(output));
      }
      sleep(READY_POLL_MILLIS);
    }
  }

  @Override
  public void stop(String name) {
    Supervised daemon = daemons.remove(name);
    if (daemon == null) {
      throw new HostException("stop daemon", name, Errno.ESRCH, "not supervised");
    }
    daemon.stopping = true;
    Process process = daemon.process;
    if (process != null) {
      terminate(process.toHandle());
      deletePidFile(name, process.pid());
    }
  }

  @Override
  public Optional<DaemonStatus> status(String name) {
    return Optional.ofNullable(daemons.get(name)).map(this::status);
  }

  private DaemonStatus status(Supervised daemon) {
    Process process = daemon.process;
    boolean running = process != null && process.isAlive();
    return new DaemonStatus(daemon.spec.name(), running ? process.pid() : 0, running, daemon.restarts,
        daemon.lastExitCode, log(daemon.spec.name()));
  }

  @Override
  public void close() {
    List.copyOf(daemons.keySet()).forEach(this::stop);
    restarter.shutdownNow();
  }

  // ---- pid files and leftovers

  private Path log(String name) {
    return stateDir.resolve(name + ".log");
  }

  private Path pidFile(String name) {
    return stateDir.resolve(name + ".pid");
  }

  private void writePidFile(String name, long pid) {
    try {
      Files.writeString(pidFile(name), pid + " " + startTime(pid).orElse(0L) + "\n");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Deletes the pid file if it still names this pid (a restart may have rewritten it). */
  private void deletePidFile(String name, long pid) {
    try {
      Path file = pidFile(name);
      if (Files.exists(file) && Files.readString(file).startsWith(pid + " ")) {
        Files.delete(file);
      }
    } catch (IOException e) {
      // a missing pid file is what we want anyway
    }
  }

  private List<Long> endLeftovers() {
    List<Long> ended = new ArrayList<>();
    List<Path> pidFiles;
    try (Stream<Path> files = Files.list(stateDir)) {
      pidFiles = files.filter(p -> p.getFileName().toString().endsWith(".pid")).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    for (Path file : pidFiles) {
      try {
        String[] fields = Files.readString(file).trim().split("\\s+");
        long pid = Long.parseLong(fields[0]);
        long recordedStart = Long.parseLong(fields[1]);
        Optional<ProcessHandle> handle = ProcessHandle.of(pid);
        if (handle.isPresent() && startTime(pid).equals(Optional.of(recordedStart))) {
          terminate(handle.get());
          ended.add(pid);
        }
        Files.delete(file);
      } catch (IOException | RuntimeException e) {
        LOG.warn("cannot clean up leftover {}", file, e);
      }
    }
    return List.copyOf(ended);
  }

  /** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot), read after the comm. */
  static Optional<Long> startTime(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return Optional.of(Long.parseLong(fields[19]));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  private static void terminate(ProcessHandle handle) {
    handle.destroy();
    try {
      handle.onExit().get(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      handle.destroyForcibly();
      try {
        handle.onExit().get(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS);
      } catch (Exception ignored) {
        // nothing more we can do than SIGKILL
      }
    }
  }

  // ---- log helpers

  private long logSize(String name) {
    try {
      return Files.exists(log(name)) ? Files.size(log(name)) : 0;
    } catch (IOException e) {
      return 0;
    }
  }

  private String readLog(String name, long from) {
    try (RandomAccessFile file = new RandomAccessFile(log(name).toFile(), "r")) {
      long length = file.length();
      if (length <= from) {
        return "";
      }
      byte[] bytes = new byte[(int) Math.min(length - from, 1 << 20)];
      file.seek(from);
      file.readFully(bytes);
      return new String(bytes, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  private static String tail(String output) {
    String trimmed = output.strip();
    return trimmed.isEmpty() ? "(none)" : trimmed.substring(Math.max(0, trimmed.length() - 500));
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
