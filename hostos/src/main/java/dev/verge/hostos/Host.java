package dev.verge.hostos;

/**
 * Everything an agent may do to its machine, bound to one network namespace: links, addresses,
 * routes, rules and their events; the firewall; conntrack; sysctl; sysfs; supervised daemons and
 * DHCP clients.
 * One object to inject, with a Linux implementation (the real kernel, in the namespace the node
 * runs in or a named one) and a sim implementation (in memory, with fault injection).
 */
public interface Host extends AutoCloseable {

  /** Where this host acts, for logs and errors: {@code sim netns sim}, {@code netns vg-1-dev}, {@code current netns}. */
  String description();

  NetworkStack network();

  Firewall firewall();

  Conntrack conntrack();

  Sysctl sysctl();

  Sysfs sysfs();

  DaemonSupervisor daemons();

  /** DHCP clients for this host's links (run as its daemons, in its namespace). */
  DhcpClients dhcp();

  /** ICMP echo out of one of this host's links (the sim models which neighbours answer). */
  Pinger pinger();

  /**
   * Runs {@code open} on a thread inside this host's namespace and returns its result: the sockets
   * it opens (a server's listening socket) live there for good, whatever thread uses them later.
   * Only for opening: the thread is shared with the host's own work. The sim host has no sockets
   * and refuses with {@code EOPNOTSUPP}.
   */
  <T> T openInNamespace(java.util.concurrent.Callable<T> open);

  /** Stops the daemons and releases sockets; the namespace itself and its links stay. */
  @Override
  void close();
}
