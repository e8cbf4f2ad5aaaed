package dev.verge.cli;

import dev.verge.agent.AgentProvider;
import java.io.BufferedReader;
import java.lang.management.ManagementFactory;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code verge node run --processes}: each agent in a process of its own, all on the socket bus,
 * started with the same options plus {@code --only NAME}. The parent forwards their output with
 * the agent's name in front, stops them all on SIGTERM/SIGINT (and exits 0), and stops the others
 * (and exits with an error) when one dies, so a supervisor above (systemd) restarts the node as a whole.
 */
final class AgentProcesses {
  private static final Logger LOG = LoggerFactory.getLogger(AgentProcesses.class);
  private static final String READY = "verge node: running";
  /** How long a child's exit waits for the signal that may have caused it to reach this process too. */
  private static final Duration GROUP_SIGNAL_GRACE = Duration.ofSeconds(1);

  private final List<String> originalArgs;
  private final List<AgentProvider> providers;
  private final String serial;
  private final List<Process> children = new ArrayList<>();

  private final java.net.InetSocketAddress prometheus;
  private final dev.verge.pubsub.PubSubConfig busConfig;

  /** {@code prometheus}: where this parent serves the node's metrics, read from the socket bus; null for none. */
  AgentProcesses(List<String> originalArgs, List<AgentProvider> providers, String serial,
      java.net.InetSocketAddress prometheus, dev.verge.pubsub.PubSubConfig busConfig) {
    this.originalArgs = originalArgs;
    this.providers = providers;
    this.serial = serial;
    this.prometheus = prometheus;
    this.busConfig = busConfig;
  }

  int run() throws IOException, InterruptedException {
    CountDownLatch ready = new CountDownLatch(providers.size());
    // SIGTERM/SIGINT: stop the children and exit 0. The hook stays for the other ways out (SIGHUP).
    StopSignal stop = StopSignal.install();
    Runtime.getRuntime().addShutdownHook(new Thread(this::stopAll, "node-processes-shutdown"));
    for (AgentProvider provider : providers) {
      ProcessBuilder builder = new ProcessBuilder(command(provider.name())).redirectErrorStream(true);
      // The log format chosen on this parent's command line holds for its agents too.
      String logFormat = System.getProperty(VergeCommand.LOG_FORMAT_PROPERTY);
      if (logFormat != null) {
        builder.environment().put(VergeCommand.LOG_FORMAT_PROPERTY, logFormat);
      }
      Process child = builder.start();
      children.add(child);
      Thread pump = new Thread(() -> forward(provider.name(), child, ready), "output-" + provider.name());
      pump.setDaemon(true);
      pump.start();
    }
    long readyBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!ready.await(200, TimeUnit.MILLISECONDS)) {
      if (stop.requested(Duration.ZERO)) {
        return stopOn(stop);
      }
      for (int i = 0; i < children.size(); i++) {
        if (!children.get(i).isAlive()) {
          System.err.println("error: agent process " + providers.get(i).name() + " exited with "
              + children.get(i).exitValue() + " before it started");
          stopAll();
          return 1;
        }
      }
      if (System.nanoTime() > readyBy) {
        System.err.println("error: not every agent process started within 60 s");
        stopAll();
        return 1;
      }
    }
    // The parent only subscribes: the agents publish, each in its own process.
    dev.verge.pubsub.PubSub bus = prometheus == null ? null : dev.verge.pubsub.PubSub.unixSockets(busConfig);
    NodePrometheus metricsEndpoint = bus == null ? null
        : NodePrometheus.start(bus, providers.stream().map(AgentProvider::name).toList(), prometheus);
    try {
      System.out.println(READY + " serial=" + serial + " processes="
          + String.join(",", providers.stream().map(AgentProvider::name).toList()) + " pids="
          + String.join(",", children.stream().map(p -> Long.toString(p.pid())).toList()) + " bus=uds"
          + (metricsEndpoint != null ? " prometheus=" + NodeCommand.hostPort(metricsEndpoint.address()) : ""));
      System.out.flush();
      return superviseChildren(stop);
    } finally {
      if (metricsEndpoint != null) {
        metricsEndpoint.close();
        bus.close();
      }
    }
  }

  private int superviseChildren(StopSignal stop) throws InterruptedException {
    // A stop signal ends the node cleanly. Otherwise the first child to exit ends it: the others
    // are stopped, and the exit code says so.
    while (true) {
      if (stop.requested(Duration.ofMillis(200))) {
        return stopOn(stop);
      }
      for (int i = 0; i < children.size(); i++) {
        Process child = children.get(i);
        if (!child.isAlive()) {
          // A signal sent to the whole group (Ctrl-C, systemd's control-group kill) reaches the
          // children as well, and one of them may exit first: that is the stop, not a failure.
          if (stop.requested(GROUP_SIGNAL_GRACE)) {
            return stopOn(stop);
          }
          System.err.println("agent process " + providers.get(i).name() + " exited with " + child.exitValue()
              + ": stopping the node");
          stopAll();
          return 1;
        }
      }
    }
  }

  /** Stops every agent process on a stop signal, with one log line, and exits 0. */
  private int stopOn(StopSignal stop) {
    int stopped = stopAll();
    LOG.info("node stopping on {}: {} agent processes stopped{}", stop.received(), children.size(),
        stopped == 0 ? "" : " (" + stopped + " of them killed after 10 s)");
    return 0;
  }

  private List<String> command(String agent) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    // The launcher's JVM settings (GC, heap, pages; -Dverge.repo.root) apply to every agent
    // process, as they do to an agent hosted in this JVM.
    command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), VergeCommand.class.getName()));
    command.addAll(List.of("node", "run"));
    for (int i = 0; i < originalArgs.size(); i++) {
      String arg = originalArgs.get(i);
      if (arg.equals("--processes") || arg.equals("node") || arg.equals("run")) {
        continue;
      }
      // --log-format is the root command's (it reaches the children through the environment)
      if (arg.equals("--bus") || arg.equals("--only") || arg.equals("--prometheus") || arg.equals("--log-format")) {
        i++; // replaced below, or served by this parent
        continue;
      }
      if (arg.startsWith("--bus=") || arg.startsWith("--only=") || arg.startsWith("--prometheus=")
          || arg.startsWith("--log-format=")) {
        continue;
      }
      command.add(arg);
    }
    command.addAll(List.of("--bus", "uds", "--only", agent));
    return command;
  }

  private static void forward(String agent, Process child, CountDownLatch ready) {
    try (BufferedReader out =
        new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
      boolean started = false;
      for (String line; (line = out.readLine()) != null; ) {
        if (!started && line.startsWith(READY)) {
          started = true;
          ready.countDown();
        }
        synchronized (System.out) {
          System.out.println("[" + agent + "] " + line);
          System.out.flush();
        }
      }
    } catch (IOException e) {
      System.err.println("[" + agent + "] output lost: " + e);
    }
  }

  /** SIGTERM to every agent process, SIGKILL to those still there after 10 s; returns how many were killed. */
  private synchronized int stopAll() {
    for (Process child : children) {
      // SIGTERM through the handle: Process.destroy() would also close our end of the child's
      // output, losing its last lines ("output lost: Stream closed").
      child.toHandle().destroy();
    }
    int killed = 0;
    for (Process child : children) {
      try {
        if (!child.waitFor(10, TimeUnit.SECONDS)) {
          child.destroyForcibly();
          killed++;
        }
      } catch (InterruptedException e) {
        child.destroyForcibly();
        killed++;
        Thread.currentThread().interrupt();
      }
    }
    return killed;
  }
}
