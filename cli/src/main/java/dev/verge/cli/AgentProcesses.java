package dev.verge.cli;

import dev.verge.agent.AgentProvider;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code verge node run --processes}: each agent in a process of its own, all on the socket bus,
 * started with the same options plus {@code --only NAME}. The parent forwards their output with
 * the agent's name in front, stops them all when it is stopped, and stops the others (and exits
 * with an error) when one dies, so a supervisor above (systemd) restarts the node as a whole.
 */
final class AgentProcesses {
  private static final String READY = "verge node: running";

  private final List<String> originalArgs;
  private final List<AgentProvider> providers;
  private final String serial;
  private final List<Process> children = new ArrayList<>();

  AgentProcesses(List<String> originalArgs, List<AgentProvider> providers, String serial) {
    this.originalArgs = originalArgs;
    this.providers = providers;
    this.serial = serial;
  }

  int run() throws IOException, InterruptedException {
    CountDownLatch ready = new CountDownLatch(providers.size());
    Runtime.getRuntime().addShutdownHook(new Thread(this::stopAll, "node-processes-shutdown"));
    for (AgentProvider provider : providers) {
      Process child = new ProcessBuilder(command(provider.name())).redirectErrorStream(true).start();
      children.add(child);
      Thread pump = new Thread(() -> forward(provider.name(), child, ready), "output-" + provider.name());
      pump.setDaemon(true);
      pump.start();
    }
    if (!ready.await(60, TimeUnit.SECONDS)) {
      System.err.println("error: not every agent process started within 60 s");
      stopAll();
      return 1;
    }
    System.out.println(READY + " serial=" + serial + " processes="
        + String.join(",", providers.stream().map(AgentProvider::name).toList()) + " pids="
        + String.join(",", children.stream().map(p -> Long.toString(p.pid())).toList()) + " bus=uds");
    System.out.flush();
    // The first child to exit ends the node: the others are stopped, and the exit code says so.
    while (true) {
      for (int i = 0; i < children.size(); i++) {
        Process child = children.get(i);
        if (child.waitFor(200, TimeUnit.MILLISECONDS)) {
          System.err.println("agent process " + providers.get(i).name() + " exited with " + child.exitValue()
              + ": stopping the node");
          stopAll();
          return 1;
        }
      }
    }
  }

  private List<String> command(String agent) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    String repo = System.getProperty("verge.repo.root");
    if (repo != null) {
      command.add("-Dverge.repo.root=" + repo);
    }
    // Each agent process gets the node's heap bound (from the launcher or the service unit).
    java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
        .filter(arg -> arg.startsWith("-Xmx") || arg.startsWith("-Xms") || arg.equals("-XX:+ExitOnOutOfMemoryError"))
        .forEach(command::add);
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), VergeCommand.class.getName()));
    command.addAll(List.of("node", "run"));
    for (int i = 0; i < originalArgs.size(); i++) {
      String arg = originalArgs.get(i);
      if (arg.equals("--processes") || arg.equals("node") || arg.equals("run")) {
        continue;
      }
      if (arg.equals("--bus") || arg.equals("--only")) {
        i++; // replaced below
        continue;
      }
      if (arg.startsWith("--bus=") || arg.startsWith("--only=")) {
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

  private synchronized void stopAll() {
    for (Process child : children) {
      child.destroy();
    }
    for (Process child : children) {
      try {
        if (!child.waitFor(10, TimeUnit.SECONDS)) {
          child.destroyForcibly();
        }
      } catch (InterruptedException e) {
        child.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }
}
