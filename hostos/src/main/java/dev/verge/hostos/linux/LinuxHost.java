package dev.verge.hostos.linux;

import dev.verge.hostos.Conntrack;
import dev.verge.hostos.DaemonSupervisor;
import dev.verge.hostos.DhcpClients;
import dev.verge.hostos.Firewall;
import dev.verge.hostos.Host;
import dev.verge.hostos.LinkNames;
import dev.verge.hostos.NetworkStack;
import dev.verge.hostos.Sysctl;
import dev.verge.hostos.Sysfs;
import dev.verge.hostos.internal.UdhcpcClients;
import java.util.List;

/** The real machine, bound to one network namespace: the node's own, or a named one. */
public final class LinuxHost implements Host {
  private final String description;
  private final LinuxNetworkStack network;
  private final NftablesFirewall firewall;
  private final LinuxConntrack conntrack;
  private final LinuxSysctl sysctl;
  private final LinuxSysfs sysfs;
  private final ProcessSupervisor daemons;
  private final UdhcpcClients dhcp;
  private final LinuxPinger pinger;

  private LinuxHost(
      String description,
      LinuxNetworkStack network,
      NftablesFirewall firewall,
      LinuxConntrack conntrack,
      LinuxSysctl sysctl,
      LinuxSysfs sysfs,
      ProcessSupervisor daemons) {
    this.description = description;
    this.network = network;
    this.firewall = firewall;
    this.conntrack = conntrack;
    this.sysctl = sysctl;
    this.sysfs = sysfs;
    this.daemons = daemons;
    this.pinger = new LinuxPinger(network.namespaceThread());
    this.dhcp = new UdhcpcClients(daemons, network, "busybox", (pid, signal) -> LibC.INSTANCE.kill((int) pid, signal));
  }

  /** The namespace this JVM runs in: the normal case, the node runs under {@code ip netns exec}. */
  public static LinuxHost inCurrentNamespace(LinuxHostSettings settings) {
    return new LinuxHost(
        "current netns",
        LinuxNetworkStack.inCurrentNamespace(),
        NftablesFirewall.inCurrentNamespace(),
        LinuxConntrack.inCurrentNamespace(),
        LinuxSysctl.inCurrentNamespace(),
        LinuxSysfs.at(settings.sysfsRoot()),
        new ProcessSupervisor(settings.daemonStateDir()));
  }

  /**
   * A named namespace ({@code ip netns add NAME}): its sockets are opened by threads that entered
   * it, and its daemons are started inside it ({@code ip netns exec NAME ...}). Nothing it does
   * reaches the namespace the JVM runs in.
   */
  public static LinuxHost inNamespace(String netnsName, LinuxHostSettings settings) {
    LinkNames.requireValidNamespace("open host", netnsName, netnsName);
    return new LinuxHost(
        "netns " + netnsName,
        LinuxNetworkStack.inNamespace(netnsName),
        NftablesFirewall.inNamespace(netnsName),
        LinuxConntrack.inNamespace(netnsName),
        LinuxSysctl.inNamespace(netnsName),
        LinuxSysfs.at(settings.sysfsRoot()),
        new ProcessSupervisor(settings.daemonStateDir(), List.of("ip", "netns", "exec", netnsName)));
  }

  @Override
  public String description() {
    return description;
  }

  @Override
  public NetworkStack network() {
    return network;
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
    return sysfs;
  }

  @Override
  public DaemonSupervisor daemons() {
    return daemons;
  }

  @Override
  public DhcpClients dhcp() {
    return dhcp;
  }

  @Override
  public dev.verge.hostos.Pinger pinger() {
    return pinger;
  }

  @Override
  public <T> T openInNamespace(java.util.concurrent.Callable<T> open) {
    return network.namespaceThread().call(open);
  }

  @Override
  public void close() {
    daemons.close();
    conntrack.close();
    firewall.close();
    sysctl.close();
    network.close();
  }
}
