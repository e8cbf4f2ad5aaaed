package dev.verge.hostos;

import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * DHCP clients for the links of a host, one per link. A client only reports: it never configures
 * the link, routes or resolv.conf (the agent installs what it wants from the lease). Refusals are
 * {@link HostException}s.
 */
public interface DhcpClients {
  /**
   * Starts a client on an up link; its events go to the listener on {@code executor}. ENODEV for
   * a missing link, EEXIST if the link already has a client.
   */
  void start(String link, DhcpOptions options, Executor executor, Consumer<DhcpEvent> listener);

  /** Asks the server to renew the lease now (after a carrier flap, say). ESRCH without a client. */
  void renew(String link);

  /** Stops the client of the link; its lease is neither released nor reported lost. */
  void stop(String link);
}
