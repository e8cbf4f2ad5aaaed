package dev.verge.hostos.linux;

import dev.verge.hostos.DaemonListener;
import dev.verge.hostos.DaemonPaths;
import dev.verge.hostos.DaemonSpec;
import dev.verge.hostos.DaemonStatus;
import dev.verge.hostos.DaemonSupervisor;
import dev.verge.hostos.Errno;
import dev.verge.hostos.HostException;
import dev.verge.hostos.internal.ListenerFailures;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Daemons as child processes of this JVM: output read line by line into {@code <state>/<name>.log}
 * (and to listeners), readiness seen in that output, restart with exponential back-off when one
 * exits on its own, and {@code <state>/<name>.pid} files holding pid and kernel start time, so that
 * after a JVM crash the next supervisor ends the orphans it finds (and only them: a recycled pid
 * has another start time). Each daemon gets {@code <state>/<name>/{config,state,run}} and runs in
 * its state directory.
 *
 * <p>Every decision about a daemon (launch, readiness, exit, restart) is taken on one supervisor
 * thread, so the events of a daemon are told in the order they happened.
 */
public final class ProcessSupervisor implements DaemonSupervisor {
  private static final Logger LOG = LoggerFactory.getLogger(ProcessSupervisor.class);
  private static final Duration STOP_GRACE = Duration.ofSeconds(5);
  /** How long an exit waits for the last output of the process to be read. */
  private static final long OUTPUT_DRAIN_MILLIS = 1000;
  private static final int OUTPUT_TAIL_LINES = 20;
  private static final long LEFTOVER_POLL_MILLIS = 20;

  private final Path stateDir;
  private final List<String> commandPrefix;
  private final Map<String, Supervised> daemons = new ConcurrentHashMap<>();
  private final ScheduledExecutorService supervisor;
  private volatile Thread supervisorThread;
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
    this.supervisor = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread thread = new Thread(r, "daemon-supervisor");
      thread.setDaemon(true);
      supervisorThread = thread;
      return thread;
    });
    this.endedLeftovers = endLeftovers();
  }

  /** The pids of leftovers this supervisor ended when it opened. */
  public List<Long> endedLeftovers() {
    return endedLeftovers;
  }

  /** One supervised daemon; its fields change on the supervisor thread only (stopping excepted). */
  private final class Supervised {
    final DaemonSpec spec;
    final Executor executor;
    final DaemonListener listener;
    volatile Process process;
    volatile boolean stopping;
    volatile int restarts;
    volatile int lastExitCode = -1;
    boolean ready;
    boolean everReady;
    Run run;
    ScheduledFuture<?> pending;

    Supervised(DaemonSpec spec, Executor executor, DaemonListener listener) {
      this.spec = spec;
      this.executor = executor;
      this.listener = listener;
    }

    String name() {
      return spec.name();
    }

    void tell(String what, java.util.function.Consumer<DaemonListener> event) {
      try {
        executor.execute(() -> {
          try {
            event.accept(listener);
          } catch (RuntimeException | AssertionError e) {
            ListenerFailures.report(LOG, "daemon " + name() + " listener (" + what + ")", e);
          }
        });
      } catch (RejectedExecutionException e) {
        LOG.warn("daemon {}: its listener's executor refused the {} event", name(), what);
      }
    }
  }

  /** One run of a daemon's process, with the tail of its output for error messages. */
  private static final class Run {
    final Process process;
    final Deque<String> tail = new ArrayDeque<>();
    ScheduledFuture<?> readyTimeout;
    boolean exitHandled;

    Run(Process process) {
      this.process = process;
    }

    String tail() {
      String text = String.join("\n", tail).strip();
      return text.isEmpty() ? "(none)" : text.substring(Math.max(0, text.length() - 500));
    }
  }

  @Override
  public DaemonStatus start(DaemonSpec spec) {
    CompletableFuture<DaemonStatus> outcome = new CompletableFuture<>();
    start(spec, Runnable::run, new DaemonListener() {
      @Override
      public void onReady(DaemonStatus status) {
        outcome.complete(status);
      }

      @Override
      public void onFailed(HostException reason, boolean willRetry) {
        outcome.completeExceptionally(reason);
      }
    });
    try {
      return outcome.get();
    } catch (ExecutionException e) {
      throw (HostException) e.getCause();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stop(spec.name());
      throw new HostException("start daemon", spec.name(), Errno.EINTR, "interrupted while waiting for it");
    }
  }

  @Override
  public void start(DaemonSpec spec, Executor executor, DaemonListener listener) {
    Supervised daemon = new Supervised(spec, executor, listener);
    Supervised existing = daemons.putIfAbsent(spec.name(), daemon);
    if (existing != null) {
      Process running = existing.process;
      throw new HostException("start daemon", spec.name(), Errno.EEXIST, "already supervised"
          + (running != null && running.isAlive() ? ", pid " + running.pid() : ""));
    }
    paths(spec.name());
    onSupervisorThread(() -> launch(daemon));
  }

  /** Starts a run of the daemon's process (supervisor thread). */
  private void launch(Supervised daemon) {
    daemon.pending = null;
    if (daemon.stopping) {
      return;
    }
    String name = daemon.name();
    DaemonPaths paths = paths(name);
    List<String> command = new ArrayList<>(commandPrefix);
    command.addAll(daemon.spec.command());
    Process process;
    OutputStream logOut;
    try {
      // Opened here, not by the reader thread: a reader that opens it late would recreate the log
      // after a stop that already returned (and after its owner removed the directory).
      logOut = Files.newOutputStream(log(name), StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      Errno errno = Errno.inMessage(e.getMessage()).orElse(Errno.EIO);
      failed(daemon, new HostException("start daemon", name, errno, "cannot open its log " + log(name) + ": " + e));
      return;
    }
    try {
      ProcessBuilder builder = new ProcessBuilder(command)
          .directory(paths.state().toFile())
          .redirectErrorStream(true)
          .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
      builder.environment().put("TMPDIR", paths.run().toString());
      process = builder.start();
    } catch (IOException e) {
      try {
        logOut.close();
      } catch (IOException ignored) {
        // the start's failure is what is told
      }
      Errno errno = Errno.inMessage(e.getMessage()).orElse(Errno.EIO);
      failed(daemon, new HostException(daemon.restarts == 0 && !daemon.everReady ? "start daemon" : "restart daemon",
          name, errno, "cannot run " + daemon.spec.command().get(0) + ": " + errno.description()));
      return;
    }
    writePidFile(name, process.pid());
    Run run = new Run(process);
    daemon.process = process;
    daemon.run = run;
    daemon.ready = false;
    LOG.info("daemon {}: started, pid {}", name, process.pid());
    Thread reader = new Thread(() -> readOutput(daemon, run, logOut), "daemon-output-" + name);
    reader.setDaemon(true);
    reader.start();
    // The reader tells the exit once it has read the last line; should something the daemon left
    // behind keep its output open, the exit is told anyway a little later.
    process.onExit().thenRun(() -> schedule(() -> exited(daemon, run), OUTPUT_DRAIN_MILLIS));
    if (daemon.spec.readyLine().isEmpty()) {
      becameReady(daemon, run);
    } else {
      long timeout = daemon.spec.readyTimeout().toMillis();
      run.readyTimeout = supervisor.schedule(() -> notReadyInTime(daemon, run), timeout, TimeUnit.MILLISECONDS);
    }
  }

  /** Copies the process's output into its log, line by line, and hands each line on (own thread). */
  private void readOutput(Supervised daemon, Run run, OutputStream logOut) {
    try (BufferedReader lines = new BufferedReader(
            new InputStreamReader(run.process.getInputStream(), StandardCharsets.UTF_8));
        OutputStream out = logOut) {
      String line;
      while ((line = lines.readLine()) != null) {
        out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        String seen = line;
        onSupervisorThread(() -> outputLine(daemon, run, seen));
      }
    } catch (IOException e) {
      LOG.debug("daemon {}: output ended: {}", daemon.name(), e.toString());
    }
    try {
      run.process.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    onSupervisorThread(() -> exited(daemon, run));
  }

  private void outputLine(Supervised daemon, Run run, String line) {
    run.tail.addLast(line);
    if (run.tail.size() > OUTPUT_TAIL_LINES) {
      run.tail.removeFirst();
    }
    if (daemon.run != run || daemon.stopping) {
      return;
    }
    daemon.tell("output", l -> l.onOutput(line));
    if (!daemon.ready && daemon.spec.readyLine().map(p -> p.matcher(line).find()).orElse(false)) {
      becameReady(daemon, run);
    }
  }

  private void becameReady(Supervised daemon, Run run) {
    if (run.readyTimeout != null) {
      run.readyTimeout.cancel(false);
    }
    daemon.ready = true;
    daemon.everReady = true;
    DaemonStatus status = status(daemon);
    LOG.info("daemon {}: ready, pid {}", daemon.name(), status.pid());
    daemon.tell("ready", l -> l.onReady(status));
  }

  private void notReadyInTime(Supervised daemon, Run run) {
    if (daemon.run != run || daemon.ready || daemon.stopping) {
      return;
    }
    daemon.run = null; // its exit is this failure, not another event
    run.process.destroy();
    schedule(() -> run.process.destroyForcibly(), STOP_GRACE.toMillis());
    failed(daemon, new HostException(verb(daemon), daemon.name(), Errno.ETIMEDOUT,
        "not ready after " + daemon.spec.readyTimeout().toMillis() + " ms; its output: " + run.tail()));
  }

  /** A run ended (supervisor thread, after its output was read). */
  private void exited(Supervised daemon, Run run) {
    if (run.exitHandled) {
      return;
    }
    run.exitHandled = true;
    deletePidFile(daemon.name(), run.process.pid());
    if (daemon.run != run || daemon.stopping) {
      return; // stopped, or already failed for readiness
    }
    daemon.run = null;
    int code = run.process.exitValue();
    daemon.lastExitCode = code;
    if (run.readyTimeout != null) {
      run.readyTimeout.cancel(false);
    }
    if (!daemon.ready) {
      failed(daemon, new HostException(verb(daemon), daemon.name(), Errno.ECHILD,
          "exited with " + code + " before it was ready; its output: " + run.tail()));
      return;
    }
    daemon.ready = false;
    boolean willRestart = scheduleRestart(daemon);
    DaemonStatus status = status(daemon);
    LOG.warn("daemon {}: exited with {}{}", daemon.name(), code, willRestart ? ", restarting" : ", not restarted");
    daemon.tell("exit", l -> l.onExited(status, code, willRestart));
  }

  /** A start or restart that did not make it to ready. */
  private void failed(Supervised daemon, HostException reason) {
    boolean first = !daemon.everReady && daemon.restarts == 0;
    boolean willRetry = !first && scheduleRestart(daemon);
    LOG.warn("daemon {}: {}{}", daemon.name(), reason.getMessage(), willRetry ? ", retrying" : "");
    if (first) {
      daemons.remove(daemon.name(), daemon); // a failed start leaves nothing supervised
    }
    daemon.tell("failure", l -> l.onFailed(reason, willRetry));
  }

  private static String verb(Supervised daemon) {
    return daemon.restarts == 0 && !daemon.everReady ? "start daemon" : "restart daemon";
  }

  /** Plans the next restart if the policy allows one; counted when it is made. */
  private boolean scheduleRestart(Supervised daemon) {
    DaemonSpec.RestartPolicy policy = daemon.spec.restart();
    if (daemon.stopping || daemon.restarts >= policy.maxRestarts()) {
      return false;
    }
    long delay = policy.backoff(daemon.restarts + 1).toMillis();
    daemon.pending = supervisor.schedule(() -> {
      if (!daemon.stopping) {
        daemon.restarts++;
        launch(daemon);
      }
    }, delay, TimeUnit.MILLISECONDS);
    return true;
  }

  @Override
  public void stop(String name) {
    Supervised daemon = daemons.remove(name);
    if (daemon == null) {
      throw new HostException("stop daemon", name, Errno.ESRCH, "not supervised");
    }
    // Decided on the supervisor thread: no launch can slip in after this, and we see the last one.
    Process process = onSupervisorThreadAndWait(() -> {
      daemon.stopping = true;
      if (daemon.pending != null) {
        daemon.pending.cancel(false);
      }
      if (daemon.run != null && daemon.run.readyTimeout != null) {
        daemon.run.readyTimeout.cancel(false);
      }
      return daemon.process;
    });
    if (process != null) {
      terminate(process.toHandle());
      deletePidFile(name, process.pid());
    }
    LOG.info("daemon {}: stopped", name);
  }

  @Override
  public Optional<DaemonStatus> status(String name) {
    return Optional.ofNullable(daemons.get(name)).map(this::status);
  }

  private DaemonStatus status(Supervised daemon) {
    Process process = daemon.process;
    boolean running = process != null && process.isAlive();
    return new DaemonStatus(daemon.name(), running ? process.pid() : 0, running, daemon.restarts,
        daemon.lastExitCode, log(daemon.name()));
  }

  @Override
  public DaemonPaths paths(String name) {
    DaemonSpec.requireValidName(name);
    Path home = stateDir.resolve(name);
    DaemonPaths paths = new DaemonPaths(home.resolve("config"), home.resolve("state"), home.resolve("run"),
        log(name));
    try {
      Files.createDirectories(paths.config());
      Files.createDirectories(paths.state());
      Files.createDirectories(paths.run());
    } catch (IOException e) {
      throw new HostException("prepare daemon", name, Errno.inMessage(e.getMessage()).orElse(Errno.EIO),
          "cannot create its directories under " + home + ": " + e.getMessage());
    }
    return paths;
  }

  @Override
  public void close() {
    List.copyOf(daemons.keySet()).forEach(name -> {
      try {
        stop(name);
      } catch (HostException alreadyGone) {
        // stopped concurrently
      }
    });
    supervisor.shutdownNow();
  }

  // ---- the supervisor thread

  private void onSupervisorThread(Runnable work) {
    try {
      supervisor.execute(() -> {
        try {
          work.run();
        } catch (RuntimeException e) {
          LOG.error("daemon supervision failed", e);
        }
      });
    } catch (RejectedExecutionException closed) {
      LOG.debug("supervisor closed: dropped work");
    }
  }

  private <T> T onSupervisorThreadAndWait(java.util.concurrent.Callable<T> work) {
    if (Thread.currentThread() == supervisorThread) {
      try {
        return work.call(); // a listener on a direct executor stopping its daemon
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }
    try {
      return supervisor.submit(work).get();
    } catch (RejectedExecutionException closed) {
      return null;
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private void schedule(Runnable work, long delayMillis) {
    try {
      supervisor.schedule(work, delayMillis, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException closed) {
      LOG.debug("supervisor closed: dropped scheduled work");
    }
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
      LOG.warn("daemon {}: cannot write its pid file", name, e);
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
    List<ProcessHandle> leftovers = new ArrayList<>();
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
          leftovers.add(handle.get());
        }
        Files.delete(file);
      } catch (IOException | RuntimeException e) {
        LOG.warn("cannot clean up leftover {}", file, e);
      }
    }
    if (!leftovers.isEmpty()) {
      long began = System.nanoTime();
      terminateAll(leftovers);
      LOG.info("ended {} daemons a previous run left behind (pids {}) in {} ms", leftovers.size(),
          leftovers.stream().map(ProcessHandle::pid).toList(), (System.nanoTime() - began) / 1_000_000);
    }
    return leftovers.stream().map(ProcessHandle::pid).toList();
  }

  /**
   * SIGTERM to all at once, SIGKILL to those still running after the grace: one grace for all, not
   * one each (a restart after a crash ended four daemons in about 7 s, one after the other).
   */
  private static void terminateAll(List<ProcessHandle> handles) {
    handles.forEach(ProcessHandle::destroy);
    if (!awaitGone(handles, STOP_GRACE)) {
      handles.stream().filter(ProcessSupervisor::running).forEach(ProcessHandle::destroyForcibly);
      awaitGone(handles, STOP_GRACE);
    }
  }

  private static boolean awaitGone(List<ProcessHandle> handles, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (handles.stream().anyMatch(ProcessSupervisor::running)) {
      if (System.nanoTime() - deadline > 0) {
        return false;
      }
      try {
        Thread.sleep(LEFTOVER_POLL_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return true;
  }

  /**
   * Still the process the handle was taken of (the handle compares start times) and not a zombie:
   * an orphan that has exited waits as a zombie until its new parent reaps it, which may take a
   * while or never come, and {@link ProcessHandle#onExit()} counts it alive until then.
   */
  static boolean running(ProcessHandle handle) {
    if (!handle.isAlive()) {
      return false;
    }
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(handle.pid()), "stat"));
      char state = stat.charAt(stat.lastIndexOf(')') + 2);
      return state != 'Z' && state != 'X';
    } catch (IOException | RuntimeException e) {
      return false; // gone between the two looks
    }
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
}
