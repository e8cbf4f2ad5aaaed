package dev.verge.zedrouter;

import dev.verge.hostos.vici.IpsecBackend;
import dev.verge.proto.info.v1.VpnStatus;

/**
 * A VPN NI's tunnel as last seen: state, IKE's reason for a failure, peer and counters.
 *
 * @param lastRekeyMs when an IKE or CHILD_SA was last rekeyed, 0 never
 * @param establishedMs when it was last established, 0 never
 * @param retries the attempts charon started by itself since the tunnel was lost or first failed
 */
public record VpnState(
    State state,
    String reason,
    String peer,
    String localAddress,
    long bytesIn,
    long bytesOut,
    long packetsIn,
    long packetsOut,
    long lastRekeyMs,
    long establishedMs,
    IpsecBackend backend,
    int retries) {

  public enum State {
    CONNECTING,
    ESTABLISHED,
    FAILED
  }

  static VpnState connecting(String peer, String localAddress, IpsecBackend backend) {
    return new VpnState(State.CONNECTING, "", peer, localAddress, 0, 0, 0, 0, 0, 0, backend, 0);
  }

  VpnState withState(State newState, String newReason) {
    return new VpnState(newState, newReason, peer, localAddress, bytesIn, bytesOut, packetsIn, packetsOut, lastRekeyMs,
        establishedMs, backend, retries);
  }

  /** charon tries again by itself: connecting, saying after what and how often so far. */
  VpnState retrying(String newReason) {
    return new VpnState(State.CONNECTING, newReason, peer, localAddress, bytesIn, bytesOut, packetsIn, packetsOut,
        lastRekeyMs, establishedMs, backend, retries + 1);
  }

  VpnState established(String newPeer, long nowMs) {
    return new VpnState(State.ESTABLISHED, "", newPeer.isEmpty() ? peer : newPeer, localAddress, bytesIn, bytesOut,
        packetsIn, packetsOut, lastRekeyMs, nowMs, backend, 0);
  }

  VpnState withCounters(long bIn, long bOut, long pIn, long pOut) {
    return new VpnState(state, reason, peer, localAddress, bIn, bOut, pIn, pOut, lastRekeyMs, establishedMs, backend, retries);
  }

  VpnState rekeyed(long nowMs) {
    return new VpnState(state, reason, peer, localAddress, bytesIn, bytesOut, packetsIn, packetsOut, nowMs,
        establishedMs, backend, retries);
  }

  public VpnStatus toProto() {
    return VpnStatus.newBuilder().setState(state.name()).setReason(reason).setPeer(peer)
        .setBytesIn(bytesIn).setBytesOut(bytesOut).setPacketsIn(packetsIn).setPacketsOut(packetsOut)
        .setLastRekeyMs(lastRekeyMs).setEstablishedMs(establishedMs).setLocalAddress(localAddress)
        .setIpsecBackend(backend == IpsecBackend.XFRM ? "xfrm" : "libipsec").setRetries(retries).build();
  }
}
