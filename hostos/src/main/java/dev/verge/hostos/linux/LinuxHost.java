package dev.verge.hostos.linux;

import dev.verge.hostos.Conntrack;
import dev.verge.hostos.DaemonSupervisor;
import dev.verge.hostos.Firewall;
import dev.verge.hostos.Host;
import dev.verge.hostos.NetworkStack;
import dev.verge.hostos.Sysctl;
import dev.verge.hostos.Sysfs;

/** The real machine, bound to one network namespace: the node's own, or a named one. */
public final class LinuxHost implements Host {
  private final String description;
  private final LinuxNetworkStack network;
  private final NftablesFirewall firewall;
  private final LinuxConntrack conntrack;
  private final LinuxSysctl sysctl;
  private final LinuxSysfs sysfs;
  private final ProcessSupervisor daemons;

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

  /** A named namespace ({@code ip netns add NAME}); daemons are started inside it. */
  public static LinuxHost inNamespace(String netnsName, LinuxHostSettings settings) {
    return new LinuxHost(
        "netns " + netnsName,
        LinuxNetworkStack.inNamespace(netnsName),
        NftablesFirewall.inNamespace(netnsName),
        LinuxConntrack.inNamespace(netnsName),
        LinuxSysctl.inNamespace(netnsName),
        LinuxSysfs.at(settings.sysfsRoot()),
        new ProcessSupervisor(settings.daemonStateDir()));
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
  public void close() {
    daemons.close();
    conntrack.close();
    firewall.close();
    network.close();
  }
}
