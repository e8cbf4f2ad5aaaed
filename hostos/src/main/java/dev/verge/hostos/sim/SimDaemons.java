package dev.verge.hostos.sim;

import dev.verge.hostos.DaemonSpec;
import dev.verge.hostos.DaemonStatus;
import dev.verge.hostos.DaemonSupervisor;
import dev.verge.hostos.Errno;
import dev.verge.hostos.HostException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Daemons that only pretend to run, for agents under test: ready at once, with fake pids, and a
 * {@link #crash} that applies the restart policy as the real supervisor would (without waiting out
 * the back-off: sim time is free).
 */
public final class SimDaemons implements DaemonSupervisor {
  private final Map<String, State> daemons = new TreeMap<>();
  private long nextPid = 1000;

  private static final class State {
    final DaemonSpec spec;
    long pid;
    int restarts;
    int lastExitCode = -1;

    State(DaemonSpec spec) {
      this.spec = spec;
    }
  }

  @Override
  public synchronized DaemonStatus start(DaemonSpec spec) {
    if (daemons.containsKey(spec.name())) {
      throw new HostException("start daemon", spec.name(), Errno.EEXIST,
          "already supervised, pid " + daemons.get(spec.name()).pid);
    }
    State state = new State(spec);
    state.pid = nextPid++;
    daemons.put(spec.name(), state);
    return status(state);
  }

  /** The daemon dies with an exit code; it comes back while its restart policy allows. */
  public synchronized DaemonStatus crash(String name, int exitCode) {
    State state = daemons.get(name);
    if (state == null || state.pid == 0) {
      throw new HostException("crash daemon", name, Errno.ESRCH, "not running");
    }
    state.lastExitCode = exitCode;
    if (state.restarts < state.spec.restart().maxRestarts()) {
      state.restarts++;
      state.pid = nextPid++;
    } else {
      state.pid = 0;
    }
    return status(state);
  }

  @Override
  public synchronized void stop(String name) {
    if (daemons.remove(name) == null) {
      throw new HostException("stop daemon", name, Errno.ESRCH, "not supervised");
    }
  }

  @Override
  public synchronized Optional<DaemonStatus> status(String name) {
    return Optional.ofNullable(daemons.get(name)).map(SimDaemons::status);
  }

  private static DaemonStatus status(State state) {
    return new DaemonStatus(state.spec.name(), state.pid, state.pid != 0, state.restarts,
        state.lastExitCode, Path.of("/dev/null"));
  }

  @Override
  public synchronized void close() {
    daemons.clear();
  }
}
