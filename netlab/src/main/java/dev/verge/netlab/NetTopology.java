package dev.verge.netlab;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A throw-away network topology: named namespaces, veth links between them, and the processes
 * started inside them. Closing it (or the JVM exiting, or the next run finding it stale) removes
 * all of it.
 *
 * <p>Namespace names are {@code vg-<pid>-<seq>-<name>}: the owning JVM's pid lets a later run
 * recognise namespaces whose owner died (kill -9) and sweep them with everything inside.
 */
public final class NetTopology implements AutoCloseable {
  /** Prefix of every namespace the project creates. */
  public static final String PREFIX = "vg-";

  private static final long PID = ProcessHandle.current().pid();
  private static final AtomicInteger SEQUENCE = new AtomicInteger();
  private static final List<NetTopology> OPEN = new ArrayList<>();

  static {
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  List<NetTopology> open;
                  synchronized (OPEN) {
                    open = new ArrayList<>(OPEN);
                  }
                  open.forEach(NetTopology::close);
                },
                "netns-cleanup"));
  }

  private final String runPrefix;
  private final Path workDir;
  private final Map<String, Netns> namespaces = new LinkedHashMap<>();
  private final Deque<AutoCloseable> resources = new ArrayDeque<>();
  private boolean closed;

  private NetTopology(String runPrefix, Path workDir) {
    this.runPrefix = runPrefix;
    this.workDir = workDir;
  }

  /** Starts a topology; first removes namespaces left behind by dead runs. */
  public static NetTopology create(String label) {
    sweepStale();
    String runPrefix = PREFIX + PID + "-" + SEQUENCE.incrementAndGet() + "-";
    try {
      Path workDir = Files.createTempDirectory(PREFIX + PID + "-" + label + "-");
      NetTopology topology = new NetTopology(runPrefix, workDir);
      synchronized (OPEN) {
        OPEN.add(topology);
      }
      return topology;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Creates a namespace with loopback up. */
  public synchronized Netns namespace(String shortName) {
    if (namespaces.containsKey(shortName)) {
      throw new IllegalArgumentException("namespace " + shortName + " already exists in this topology");
    }
    String name = runPrefix + shortName;
    Exec.run("ip", "netns", "add", name).requireOk();
    Netns ns = new Netns(this, name, shortName);
    namespaces.put(shortName, ns);
    ns.ip("link", "set", "lo", "up");
    return ns;
  }

  /**
   * Links two namespaces with a veth pair, created directly inside them (never in the machine's
   * own namespace), and brings both ends up.
   */
  public void veth(Netns a, String ifA, Netns b, String ifB) {
    Exec.run("ip", "-n", a.name(), "link", "add", ifA, "type", "veth", "peer", "name", ifB, "netns", b.name())
        .requireOk();
    a.up(ifA);
    b.up(ifB);
  }

  /**
   * Starts a long-running program in this JVM's own namespace (for runs without root); it ends
   * when the topology closes, like the programs started inside its namespaces.
   */
  public BackgroundProcess spawnHere(String processName, String... command) {
    return own(BackgroundProcess.start(processName, List.of(command), workDir));
  }

  public Netns get(String shortName) {
    Netns ns = namespaces.get(shortName);
    if (ns == null) {
      throw new IllegalArgumentException("no namespace " + shortName);
    }
    return ns;
  }

  /** A directory for logs and files of this topology's processes. */
  public Path workDir() {
    return workDir;
  }

  /**
   * Makes a test's resource (a host, a bus, a loop, an agent node) close with the topology: in the
   * reverse order of being owned, each even when another fails, and all before the namespaces go.
   * A test's tear-down is then the topology's close alone.
   */
  public synchronized <T extends AutoCloseable> T own(T resource) {
    if (closed) {
      closeQuietly(resource);
      throw new IllegalStateException("topology already closed");
    }
    resources.push(resource);
    return resource;
  }

  /** Names of this topology's namespaces, as the kernel knows them. */
  public synchronized List<String> namespaceNames() {
    return namespaces.values().stream().map(Netns::name).toList();
  }

  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      while (!resources.isEmpty()) {
        closeQuietly(resources.pop());
      }
      for (Netns ns : namespaces.values()) {
        removeNamespace(ns.name());
      }
      if (!Boolean.getBoolean("verge.keepWorkDir")) {
        deleteRecursively(workDir);
      }
    }
    synchronized (OPEN) {
      OPEN.remove(this);
    }
  }

  /**
   * Removes every namespace of ours whose owning JVM is gone, what runs inside it, and its work
   * directory.
   */
  public static void sweepStale() {
    sweepStaleWorkDirs();
    for (String ns : listNamespaces()) {
      if (ns.startsWith(PREFIX) && ownerIsGone(ns)) {
        removeNamespace(ns);
      }
    }
  }

  private static void sweepStaleWorkDirs() {
    Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
    try (var dirs = Files.list(tmp)) {
      dirs.filter(d -> d.getFileName().toString().startsWith(PREFIX))
          .filter(d -> ownerIsGone(d.getFileName().toString()))
          .forEach(NetTopology::deleteRecursively);
    } catch (IOException e) {
      System.err.println("cannot sweep " + tmp + ": " + e);
    }
  }

  /** True for a name {@code vg-<pid>-...} whose pid is no longer a running JVM of ours. */
  private static boolean ownerIsGone(String name) {
    String[] parts = name.substring(PREFIX.length()).split("-", 2);
    try {
      long owner = Long.parseLong(parts[0]);
      return owner != PID && !isJavaAlive(owner);
    } catch (NumberFormatException e) {
      return false;
    }
  }

  /** All namespaces the kernel knows by name. */
  public static List<String> listNamespaces() {
    ExecResult result = Exec.run("ip", "netns", "list");
    List<String> names = new ArrayList<>();
    for (String line : result.stdout().split("\n")) {
      if (!line.isBlank()) {
        names.add(line.trim().split("\\s+")[0]);
      }
    }
    return names;
  }

  /** Kills every process inside the namespace, then deletes it. */
  static void removeNamespace(String name) {
    for (int attempt = 0; attempt < 3; attempt++) {
      ExecResult pids = Exec.run("ip", "netns", "pids", name);
      List<Long> alive = new ArrayList<>();
      for (String line : pids.stdout().split("\n")) {
        if (!line.isBlank()) {
          alive.add(Long.parseLong(line.trim()));
        }
      }
      if (alive.isEmpty()) {
        break;
      }
      for (long pid : alive) {
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
      }
      BackgroundProcess.sleep(100);
    }
    Exec.run("ip", "netns", "del", name);
  }

  private static boolean isJavaAlive(long pid) {
    return ProcessHandle.of(pid)
        .filter(h -> Processes.isRunning(h.pid()))
        .flatMap(h -> h.info().command())
        .map(cmd -> cmd.endsWith("/java") || cmd.endsWith("java"))
        .orElse(false);
  }

  private static void deleteRecursively(Path dir) {
    try (var paths = Files.walk(dir)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      System.err.println("cannot remove " + dir + ": " + e);
    }
  }

  private static void closeQuietly(AutoCloseable resource) {
    try {
      resource.close();
    } catch (Exception e) {
      System.err.println("cleanup of " + resource + " failed: " + e);
    }
  }
}
