package dev.verge.hostos.sim;

import dev.verge.hostos.DaemonListener;
import dev.verge.hostos.DaemonPaths;
import dev.verge.hostos.DaemonSpec;
import dev.verge.hostos.DaemonStatus;
import dev.verge.hostos.DaemonSupervisor;
import dev.verge.hostos.Errno;
import dev.verge.hostos.HostException;
import dev.verge.hostos.internal.ListenerFailures;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Daemons that only pretend to run, for agents under test: ready at once, with fake pids, the same
 * listener events as the real supervisor, and ways to make them misbehave: {@link #crash} (the
 * restart policy applies, without waiting out the back-off: sim time is free),
 * {@link #failNextLaunches} (the program is gone), {@link #output} (a line it writes).
 */
public final class SimDaemons implements DaemonSupervisor {
  private static final Logger LOG = LoggerFactory.getLogger(SimDaemons.class);
  private static final Executor DIRECT = Runnable::run;

  private final Path stateDir;
  private final Map<String, State> daemons = new TreeMap<>();
  private final Map<String, Deque<String>> plannedFailures = new HashMap<>();
  private long nextPid = 1000;

  private static final class State {
    final DaemonSpec spec;
    final Executor executor;
    final DaemonListener listener;
    long pid;
    int restarts;
    int lastExitCode = -1;

    State(DaemonSpec spec, Executor executor, DaemonListener listener) {
      this.spec = spec;
      this.executor = executor;
      this.listener = listener;
    }

    void tell(String what, Consumer<DaemonListener> event) {
      try {
        executor.execute(() -> {
          try {
            event.accept(listener);
          } catch (RuntimeException | AssertionError e) {
            ListenerFailures.report(LOG, "sim daemon " + spec.name() + " listener (" + what + ")", e);
          }
        });
      } catch (RejectedExecutionException e) {
        LOG.warn("sim daemon {}: its listener's executor refused the {} event", spec.name(), what);
      }
    }
  }

  /** Daemons whose directories live under {@code stateDir}. */
  private final java.util.Set<String> heldReadiness = new java.util.HashSet<>();
  private final Map<String, Runnable> pendingReadiness = new java.util.HashMap<>();

  public SimDaemons(Path stateDir) {
    this.stateDir = stateDir;
  }

  /** Daemons whose directories live in a temporary directory of their own. */
  public SimDaemons() {
    this(temporaryDirectory());
  }

  private static Path temporaryDirectory() {
    try {
      return Files.createTempDirectory("vg-sim-daemons-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public DaemonStatus start(DaemonSpec spec) {
    HostException[] failure = new HostException[1];
    DaemonStatus[] ready = new DaemonStatus[1];
    start(spec, DIRECT, new DaemonListener() {
      @Override
      public void onReady(DaemonStatus status) {
        ready[0] = status;
      }

      @Override
      public void onFailed(HostException reason, boolean willRetry) {
        failure[0] = reason;
      }
    });
    if (failure[0] != null) {
      throw failure[0];
    }
    return ready[0];
  }

  @Override
  public void start(DaemonSpec spec, Executor executor, DaemonListener listener) {
    State state = new State(spec, executor, listener);
    synchronized (this) {
      State existing = daemons.get(spec.name());
      if (existing != null) {
        throw new HostException("start daemon", spec.name(), Errno.EEXIST,
            "already supervised" + (existing.pid != 0 ? ", pid " + existing.pid : ""));
      }
      daemons.put(spec.name(), state);
      paths(spec.name());
      Optional<String> failure = nextPlannedFailure(spec.name());
      if (failure.isPresent()) {
        daemons.remove(spec.name());
        HostException reason = new HostException("start daemon", spec.name(), Errno.ENOENT, failure.get());
        state.tell("failure", l -> l.onFailed(reason, false));
        return;
      }
      state.pid = nextPid++;
      DaemonStatus status = status(state);
      if (heldReadiness.remove(spec.name())) {
        pendingReadiness.put(spec.name(), () -> state.tell("ready", l -> l.onReady(status)));
        return;
      }
      state.tell("ready", l -> l.onReady(status));
    }
  }

  /** The next start of the daemon runs but is not ready until {@link #releaseReadiness} (a slow daemon). */
  public synchronized void holdReadiness(String name) {
    heldReadiness.add(name);
  }

  /** The held daemon tells its readiness now. */
  public void releaseReadiness(String name) {
    Runnable ready;
    synchronized (this) {
      ready = pendingReadiness.remove(name);
    }
    if (ready == null) {
      throw new IllegalStateException("no start of " + name + " is waiting for readiness");
    }
    ready.run();
  }

  /**
   * The next {@code count} launches (start or restart) of the daemon fail as if its program were
   * gone, with {@code reason}.
   */
  public synchronized void failNextLaunches(String name, int count, String reason) {
    for (int i = 0; i < count; i++) {
      plannedFailures.computeIfAbsent(name, n -> new ArrayDeque<>()).add(reason);
    }
  }

  private Optional<String> nextPlannedFailure(String name) {
    Deque<String> planned = plannedFailures.get(name);
    return planned == null || planned.isEmpty() ? Optional.empty() : Optional.of(planned.poll());
  }

  /**
   * The daemon dies with an exit code; while its restart policy allows, it is restarted at once
   * (a restart meant to fail tells its failure and is retried while the policy allows). Returns the
   * status after all that.
   */
  public synchronized DaemonStatus crash(String name, int exitCode) {
    State state = daemons.get(name);
    if (state == null || state.pid == 0) {
      throw new HostException("crash daemon", name, Errno.ESRCH, "not running");
    }
    state.lastExitCode = exitCode;
    state.pid = 0;
    boolean willRestart = state.restarts < state.spec.restart().maxRestarts();
    DaemonStatus exited = status(state);
    state.tell("exit", l -> l.onExited(exited, exitCode, willRestart));
    while (state.restarts < state.spec.restart().maxRestarts()) {
      state.restarts++;
      Optional<String> failure = nextPlannedFailure(name);
      if (failure.isEmpty()) {
        state.pid = nextPid++;
        DaemonStatus status = status(state);
        state.tell("ready", l -> l.onReady(status));
        break;
      }
      boolean willRetry = state.restarts < state.spec.restart().maxRestarts();
      HostException reason = new HostException("restart daemon", name, Errno.ENOENT, failure.get());
      state.tell("failure", l -> l.onFailed(reason, willRetry));
    }
    return status(state);
  }

  /** The daemon writes a line (told to its listener's onOutput). */
  public synchronized void output(String name, String line) {
    State state = daemons.get(name);
    if (state == null || state.pid == 0) {
      throw new HostException("write output of", name, Errno.ESRCH, "not running");
    }
    state.tell("output", l -> l.onOutput(line));
  }

  @Override
  public synchronized void stop(String name) {
    if (daemons.remove(name) == null) {
      throw new HostException("stop daemon", name, Errno.ESRCH, "not supervised");
    }
  }

  @Override
  public synchronized Optional<DaemonStatus> status(String name) {
    return Optional.ofNullable(daemons.get(name)).map(this::status);
  }

  private DaemonStatus status(State state) {
    return new DaemonStatus(state.spec.name(), state.pid, state.pid != 0, state.restarts,
        state.lastExitCode, stateDir.resolve(state.spec.name() + ".log"));
  }

  @Override
  public DaemonPaths paths(String name) {
    DaemonSpec.requireValidName(name);
    Path home = stateDir.resolve(name);
    DaemonPaths paths = new DaemonPaths(home.resolve("config"), home.resolve("state"), home.resolve("run"),
        stateDir.resolve(name + ".log"));
    try {
      Files.createDirectories(paths.config());
      Files.createDirectories(paths.state());
      Files.createDirectories(paths.run());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return paths;
  }

  @Override
  public synchronized void close() {
    daemons.clear();
  }
}
