package dev.verge.hostos;

/** What a DHCP client tells about the lease of its link. */
public sealed interface DhcpEvent {
  /** The link the client runs on. */
  String link();

  /** A lease was obtained (after the start, or after one was lost). */
  record Bound(String link, DhcpLease lease) implements DhcpEvent {}

  /** The lease was renewed (its address or options may have changed: compare). */
  record Renewed(String link, DhcpLease lease) implements DhcpEvent {}

  /**
   * The lease is gone: it expired without renewal, the server refused it (NAK), or the client
   * died and starts over. The agent should remove what it installed from it.
   */
  record Lost(String link, DhcpLease lease, String reason) implements DhcpEvent {}

  /**
   * The client itself failed: it could not run, or it exited. {@code willRetry} says whether it is
   * restarted (with back-off); if not, nothing more comes for this link until a new start.
   */
  record Failed(String link, HostException reason, boolean willRetry) implements DhcpEvent {}
}
