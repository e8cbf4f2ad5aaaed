package dev.verge.hostos.sim;

import dev.verge.hostos.DhcpLease;
import dev.verge.hostos.internal.UdhcpcClients;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The DHCP side of the sim: what a server and a client's life would make the host's DHCP clients
 * (pretend udhcpc daemons) report. Each call makes the client of a link print what our udhcpc
 * script prints for that event, so the same translation as on Linux turns it into events.
 */
public final class SimDhcp {
  private final SimDaemons daemons;
  private final Map<Long, Integer> renewRequests = new ConcurrentHashMap<>();

  SimDhcp(SimDaemons daemons) {
    this.daemons = daemons;
  }

  /** How the clients ask for a renewal: counted per client process. */
  UdhcpcClients.Signaller signaller() {
    return (pid, signal) -> renewRequests.merge(pid, 1, Integer::sum);
  }

  /** The server grants a lease: Bound (or Renewed if the client had one). */
  public void offer(String link, DhcpLease lease) {
    daemons.output(UdhcpcClients.daemonName(link), UdhcpcClients.report("bound", lease));
  }

  /** The server renews the lease, perhaps changed: Renewed. */
  public void renew(String link, DhcpLease lease) {
    daemons.output(UdhcpcClients.daemonName(link), UdhcpcClients.report("renew", lease));
  }

  /** The lease runs out without renewal: Lost. */
  public void expire(String link) {
    daemons.output(UdhcpcClients.daemonName(link), UdhcpcClients.report("deconfig"));
  }

  /** The server refuses the lease: Lost. */
  public void nak(String link) {
    daemons.output(UdhcpcClients.daemonName(link), UdhcpcClients.report("nak"));
  }

  /** The client dies: Lost if it had a lease; it is restarted (or Failed once its policy is spent). */
  public void crash(String link, int exitCode) {
    daemons.crash(UdhcpcClients.daemonName(link), exitCode);
  }

  /** The client's next starts or restarts fail as if busybox were gone: Failed. */
  public void failNextStarts(String link, int count) {
    daemons.failNextLaunches(UdhcpcClients.daemonName(link), count, "cannot run busybox: No such file or directory");
  }

  /** How often the client of a link was asked to renew (by DhcpClients.renew). */
  public int renewRequests(String link) {
    return daemons.status(UdhcpcClients.daemonName(link))
        .map(s -> renewRequests.getOrDefault(s.pid(), 0)).orElse(0);
  }
}
