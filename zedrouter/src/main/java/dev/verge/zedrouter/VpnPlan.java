package dev.verge.zedrouter;

import dev.verge.hostos.IpPrefix;
import dev.verge.hostos.vici.CharonSpec;
import dev.verge.hostos.vici.Der;
import dev.verge.hostos.vici.Pem;
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
 * @param certificates empty: PSK authentication; else the device's certificate, key and the peer's CA
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
    Duration dpdTimeout,
    Duration ikeRekey,
    Duration childRekey,
    boolean natOtherTraffic,
    IpsecBackend backend,
    Optional<Certificates> certificates) {

  /** Certificate authentication: ours (sent to the peer), its private key, the CA the peer's must chain to. */
  public record Certificates(Der certificate, Pem.PrivateKey key, Der ca) {
    @Override
    public String toString() {
      return "Certificates[" + key.type() + " key]"; // never the key
    }
  }

  /** Safe defaults that the plugins charon loads support (no GCM, no ECP here: aes-cbc, sha2, modp). */
  public static final List<String> DEFAULT_IKE_PROPOSALS = List.of("aes256-sha256-modp3072");
  public static final List<String> DEFAULT_ESP_PROPOSALS = List.of("aes256-sha256-modp3072");
  /** EVE's strongSwan settings: DPD after 10 s of silence, the peer dead after 30 s without an answer. */
  public static final Duration DEFAULT_DPD = Duration.ofSeconds(10);
  public static final Duration DEFAULT_DPD_TIMEOUT = Duration.ofSeconds(30);
  /** Retransmissions of an unanswered request: charon gives up after the last one's wait. */
  static final int RETRANSMIT_TRIES = 3;
  /** charon's back-off factor between retransmissions (its {@code retransmit_base}). */
  static final double RETRANSMIT_BASE = 1.8;
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
   * a peer that stops answering is given up after the DPD timeout (IKEv2's DPD is an exchange like
   * any other: charon gives up on it after its retransmissions).
   */
  public CharonSpec charon(int bridgeNumber) {
    return new CharonSpec("charon-bn" + bridgeNumber, backend, TABLE_BASE + bridgeNumber, 0, 0,
        firstRetransmit(dpdTimeout), RETRANSMIT_TRIES);
  }

  /**
   * The first wait such that the request and its retransmissions, each wait {@link #RETRANSMIT_BASE}
   * times the one before, add up to {@code timeout}: charon gives up exactly then.
   */
  static Duration firstRetransmit(Duration timeout) {
    double waits = 0;
    for (int i = 0; i <= RETRANSMIT_TRIES; i++) {
      waits += Math.pow(RETRANSMIT_BASE, i);
    }
    return Duration.ofMillis(Math.round(timeout.toMillis() / waits));
  }

  /** The connection charon gets, from the uplink's address; we initiate and restart it. */
  public SiteToSite connection(String name, String localAddress) {
    // no identity given: our address on the uplink, as charon would use by default
    return new SiteToSite(name, localAddress, peer, localId.isEmpty() ? localAddress : localId, remoteId,
        certificates.map(c -> new SiteToSite.PubkeyAuth(c.certificate(), c.ca())), ikeProposals,
        espProposals, dpdDelay, ikeRekey, childRekey, localSubnets.stream().map(IpPrefix::toString).toList(),
        remoteSubnets.stream().map(IpPrefix::toString).toList(), true);
  }

  @Override
  public String toString() {
    // the PSK stays out of logs and DOT exports
    return "VpnPlan[peer=" + peer + ", local=" + localSubnets + ", remote=" + remoteSubnets + ", ike=" + ikeProposals
        + ", esp=" + espProposals + ", dpd=" + dpdDelay + "/" + dpdTimeout + ", backend=" + backend + ", natOther=" + natOtherTraffic
        + ", auth=" + (certificates.isPresent() ? "certificate" : "psk") + "]";
  }
}
