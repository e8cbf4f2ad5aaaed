package dev.verge.netlab;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A network namespace created by a {@link NetTopology}. Every command runs inside it through
 * {@code ip netns exec}, so nothing here touches the machine's own namespace.
 */
public final class Netns {
  private final NetTopology topology;
  private final String name;
  private final String shortName;

  Netns(NetTopology topology, String name, String shortName) {
    this.topology = topology;
    this.name = name;
    this.shortName = shortName;
  }

  /** The kernel name of the namespace (as in {@code ip netns list}). */
  public String name() {
    return name;
  }

  /** The name the test gave it. */
  public String shortName() {
    return shortName;
  }

  /** The command prefix that runs a program inside this namespace. */
  public List<String> execPrefix() {
    return List.of("ip", "netns", "exec", name);
  }

  public ExecResult exec(String... command) {
    return exec(Duration.ofSeconds(60), command);
  }

  public ExecResult exec(Duration timeout, String... command) {
    List<String> full = new ArrayList<>(execPrefix());
    full.addAll(Arrays.asList(command));
    return Exec.run(full, timeout);
  }

  /** Runs the command in the namespace and fails with its stderr unless it succeeds. */
  public String execOk(String... command) {
    return exec(command).requireOk().stdout();
  }

  /** Runs {@code ip <args>} against this namespace. */
  public String ip(String... args) {
    List<String> full = new ArrayList<>(List.of("ip", "-n", name));
    full.addAll(Arrays.asList(args));
    return Exec.run(full, Exec.DEFAULT_TIMEOUT).requireOk().stdout();
  }

  /** Starts a long-running program in the namespace; it ends when the topology closes. */
  public BackgroundProcess spawn(String processName, String... command) {
    List<String> full = new ArrayList<>(execPrefix());
    full.addAll(Arrays.asList(command));
    return topology.own(BackgroundProcess.start(shortName + "-" + processName, full, topology.workDir()));
  }

  /** Starts a child JVM in the namespace with this JVM's class path. */
  public BackgroundProcess spawnJava(String processName, String mainClass, String... args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(mainClass);
    command.addAll(Arrays.asList(args));
    return spawn(processName, command.toArray(String[]::new));
  }

  /** The command names ({@code /proc/PID/comm}) of the processes inside the namespace, by pid. */
  public Map<Long, String> processes() {
    Map<Long, String> processes = new TreeMap<>();
    for (String line : Exec.run("ip", "netns", "pids", name).stdout().split("\n")) {
      if (line.isBlank()) {
        continue;
      }
      long pid = Long.parseLong(line.trim());
      try {
        processes.put(pid, Files.readString(Path.of("/proc", Long.toString(pid), "comm")).strip());
      } catch (IOException e) {
        // ended between the listing and the read
      }
    }
    return processes;
  }

  public Netns bridge(String bridge) {
    ip("link", "add", bridge, "type", "bridge");
    ip("link", "set", bridge, "up");
    return this;
  }

  /** Enslaves an interface of this namespace to a bridge of this namespace. */
  public Netns attach(String ifname, String bridge) {
    ip("link", "set", ifname, "master", bridge);
    ip("link", "set", ifname, "up");
    return this;
  }

  public Netns address(String ifname, String cidr) {
    ip("addr", "add", cidr, "dev", ifname);
    ip("link", "set", ifname, "up");
    return this;
  }

  public Netns up(String ifname) {
    ip("link", "set", ifname, "up");
    return this;
  }

  public Netns defaultRoute(String gateway) {
    ip("route", "replace", "default", "via", gateway);
    return this;
  }

  public Netns route(String prefix, String gateway) {
    ip("route", "replace", prefix, "via", gateway);
    return this;
  }

  /** Enables IPv4 forwarding inside this namespace only. */
  public Netns forwarding() {
    execOk("sysctl", "-qw", "net.ipv4.ip_forward=1");
    return this;
  }

  /** Creates a persistent tap device owned by this namespace. */
  public Netns tap(String ifname) {
    ip("tuntap", "add", "dev", ifname, "mode", "tap");
    ip("link", "set", ifname, "up");
    return this;
  }

  /** True if one ping to the address gets an answer within the timeout. */
  public boolean ping(String address, Duration timeout) {
    long seconds = Math.max(1, timeout.toSeconds());
    return exec(timeout.plusSeconds(2), "busybox", "ping", "-c", "1", "-W", Long.toString(seconds), address)
        .ok();
  }

  /** The IPv4 addresses (CIDR) on an interface. */
  public List<String> ipv4Addresses(String ifname) {
    String out = ip("-4", "-o", "addr", "show", "dev", ifname);
    List<String> addresses = new ArrayList<>();
    for (String line : out.split("\n")) {
      String[] fields = line.trim().split("\\s+");
      for (int i = 0; i + 1 < fields.length; i++) {
        if (fields[i].equals("inet")) {
          addresses.add(fields[i + 1]);
        }
      }
    }
    return addresses;
  }

  /** The topology's directory for logs and daemon files. */
  public Path topologyWorkDir() {
    return topology.workDir();
  }

  @Override
  public String toString() {
    return name;
  }
}
