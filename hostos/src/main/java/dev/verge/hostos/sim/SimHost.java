package dev.verge.hostos.sim;

import dev.verge.hostos.Conntrack;
import dev.verge.hostos.DaemonSupervisor;
import dev.verge.hostos.DhcpClients;
import dev.verge.hostos.Firewall;
import dev.verge.hostos.Host;
import dev.verge.hostos.NetworkStack;
import dev.verge.hostos.Sysctl;
import dev.verge.hostos.Sysfs;
import dev.verge.hostos.internal.UdhcpcClients;
import java.nio.file.Path;
import java.util.List;

/**
 * The in-memory machine: a sim kernel, firewall, conntrack, sysctl, a fake sysfs tree and daemons
 * that only pretend to run, each with its fault injection. For unit tests, for the demo without
 * root, and for what the build machine's kernel lacks.
 */
public final class SimHost implements Host {
  private final SimKernel kernel;
  private final SimFirewall firewall = new SimFirewall();
  private final SimConntrack conntrack = new SimConntrack();
  private final SimSysctl sysctl;
  private final FakeSysfs sysfs;
  private final SimDaemons daemons;
  private final SimDhcp dhcpServer;
  private final UdhcpcClients dhcp;
  private final SimPinger pinger;

  private SimHost(SimKernel kernel, Path scratchDir, FakeSysfs sysfs) {
    this.kernel = kernel;
    this.daemons = new SimDaemons(scratchDir.resolve("daemons"));
    this.dhcpServer = new SimDhcp(daemons);
    this.dhcp = new UdhcpcClients(daemons, kernel, "busybox", dhcpServer.signaller());
    this.sysctl = new SimSysctl(kernel);
    this.sysfs = sysfs;
    this.pinger = new SimPinger(kernel);
  }

  /** A host without PCI devices; the fake sysfs tree lives under {@code scratchDir}. */
  public static SimHost create(Path scratchDir) {
    return new SimHost(new SimKernel(), scratchDir, FakeSysfs.create(scratchDir.resolve("sys"), List.of(), List.of()));
  }

  /** A host with the given drivers and PCI devices in its fake sysfs tree. */
  public static SimHost create(Path scratchDir, List<String> drivers, List<FakeSysfs.Device> devices) {
    return new SimHost(new SimKernel(), scratchDir, FakeSysfs.create(scratchDir.resolve("sys"), drivers, devices));
  }

  /**
   * A host bound to one namespace of a registry (created if it does not exist yet), so that tests
   * can have several hosts between which links move.
   */
  public static SimHost inNamespace(SimNamespaces namespaces, String name, Path scratchDir) {
    SimKernel kernel = namespaces.find(name).orElseGet(() -> namespaces.create(name));
    return new SimHost(kernel, scratchDir, FakeSysfs.create(scratchDir.resolve("sys"), List.of(), List.of()));
  }

  @Override
  public String description() {
    return "sim netns " + kernel.namespaceName();
  }

  /** The sim kernel itself: plug NICs, cut carriers, inject faults. */
  public SimKernel kernel() {
    return kernel;
  }

  public SimFirewall simFirewall() {
    return firewall;
  }

  public SimConntrack simConntrack() {
    return conntrack;
  }

  public SimDaemons simDaemons() {
    return daemons;
  }

  /** The DHCP servers the host's clients talk to: offer, renew, expire leases; crash clients. */
  public SimDhcp dhcpServer() {
    return dhcpServer;
  }

  @Override
  public DhcpClients dhcp() {
    return dhcp;
  }

  /** The host's ping, whose neighbours a test can silence. */
  @Override
  public SimPinger pinger() {
    return pinger;
  }

  public FakeSysfs fakeSysfs() {
    return sysfs;
  }

  @Override
  public NetworkStack network() {
    return kernel;
  }

  @Override
  public Firewall firewall() {
    return firewall;
  }

  @Override
  public Conntrack conntrack() {
    return conntrack;
  }

  @Override
  public Sysctl sysctl() {
    return sysctl;
  }

  @Override
  public Sysfs sysfs() {
    return sysfs.sysfs();
  }

  @Override
  public DaemonSupervisor daemons() {
    return daemons;
  }

  @Override
  public <T> T openInNamespace(java.util.concurrent.Callable<T> open) {
    throw new dev.verge.hostos.HostException("open socket", kernel.namespaceName(), dev.verge.hostos.Errno.EOPNOTSUPP,
        "the sim host has no sockets of its own");
  }

  @Override
  public void close() {
    daemons.close();
    conntrack.close();
    firewall.close();
    kernel.close();
  }
}
