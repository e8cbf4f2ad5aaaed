package dev.verge.zedrouter;

import dev.verge.hostos.IpPrefix;
import dev.verge.hostos.vici.CharonSpec;
import dev.verge.hostos.vici.IpsecBackend;
import dev.verge.hostos.vici.SiteToSite;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A VPN NI's validated tunnel: the peer, what goes through it, how it is authenticated and kept.
 *
 * @param localSubnets our side's traffic selectors (default: the NI's subnet)
 * @param remoteSubnets the peer's side, routed through the tunnel
 * @param natOtherTraffic whether the NI's other traffic is NATed out of the uplink (else not routed)
 */
public record VpnPlan(
    String peer,
    List<IpPrefix> localSubnets,
    List<IpPrefix> remoteSubnets,
    String psk,
    List<String> ikeProposals,
    List<String> espProposals,
    String localId,
    String remoteId,
    Duration dpdDelay,
    Duration ikeRekey,
    Duration childRekey,
    boolean natOtherTraffic,
    IpsecBackend backend) {
  /** Safe defaults that the plugins charon loads support (no GCM, no ECP here: aes-cbc, sha2, modp). */
  public static final List<String> DEFAULT_IKE_PROPOSALS = List.of("aes256-sha256-modp3072");
  public static final List<String> DEFAULT_ESP_PROPOSALS = List.of("aes256-sha256-modp3072");
  public static final Duration DEFAULT_DPD = Duration.ofSeconds(30);
  public static final Duration DEFAULT_IKE_REKEY = Duration.ofHours(4);
  public static final Duration DEFAULT_CHILD_REKEY = Duration.ofHours(1);
  /** charon's routes of VPN NI N go in table {@code 900+N} (NI tables are {@code 800+N}). */
  public static final int TABLE_BASE = 900;

  public VpnPlan {
    Objects.requireNonNull(peer);
    localSubnets = List.copyOf(localSubnets);
    remoteSubnets = List.copyOf(remoteSubnets);
    ikeProposals = List.copyOf(ikeProposals);
    espProposals = List.copyOf(espProposals);
  }

  /**
   * The charon of the NI on bridge {@code bn<N>}: random IKE ports, so several share a namespace;
   * a peer that stops answering is given up after about 6 s (retransmits at 1, 1.8 and 3.2 s).
   */
  public CharonSpec charon(int bridgeNumber) {
    return new CharonSpec("charon-bn" + bridgeNumber, backend, TABLE_BASE + bridgeNumber, 0, 0,
        Duration.ofSeconds(1), 2);
  }

  /** The connection charon gets, from the uplink's address; we initiate and restart it. */
  public SiteToSite connection(String name, String localAddress) {
    // no identity given: our address on the uplink, as charon would use by default
    return new SiteToSite(name, localAddress, peer, localId.isEmpty() ? localAddress : localId, remoteId, Optional.empty(), ikeProposals,
        espProposals, dpdDelay, ikeRekey, childRekey, localSubnets.stream().map(IpPrefix::toString).toList(),
        remoteSubnets.stream().map(IpPrefix::toString).toList(), true);
  }

  @Override
  public String toString() {
    // the PSK stays out of logs and DOT exports
    return "VpnPlan[peer=" + peer + ", local=" + localSubnets + ", remote=" + remoteSubnets + ", ike=" + ikeProposals
        + ", esp=" + espProposals + ", dpd=" + dpdDelay + ", backend=" + backend + ", natOther=" + natOtherTraffic + "]";
  }
}
