package dev.verge.hostos.vici;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A site-to-site IKEv2 connection with one tunnel-mode CHILD_SA, as {@code load-conn} takes it.
 *
 * @param name the connection's name (its CHILD_SA has the same name)
 * @param localAddress the address IKE is sent from ({@code %any} lets charon choose by route)
 * @param remoteAddress the peer gateway
 * @param localId our IKE identity
 * @param remoteId the identity the peer must prove
 * @param certificates empty: PSK authentication; else our certificate (its key loaded with
 *     {@code load-key}) and the CA the peer's certificate must chain to
 * @param ikeProposals IKE proposals in strongSwan's syntax ({@code aes256-sha256-modp3072})
 * @param espProposals ESP proposals
 * @param dpdDelay how often the peer is checked when idle; zero: never
 * @param rekeyTime IKE_SA rekey interval
 * @param childRekeyTime CHILD_SA rekey interval
 * @param localSubnets traffic selectors on our side
 * @param remoteSubnets traffic selectors on the peer's side
 * @param initiate whether charon brings it up itself (and again after DPD), or waits for the peer
 */
public record SiteToSite(
    String name,
    String localAddress,
    String remoteAddress,
    String localId,
    String remoteId,
    Optional<PubkeyAuth> certificates,
    List<String> ikeProposals,
    List<String> espProposals,
    Duration dpdDelay,
    Duration rekeyTime,
    Duration childRekeyTime,
    List<String> localSubnets,
    List<String> remoteSubnets,
    boolean initiate) {
  public SiteToSite {
    ikeProposals = List.copyOf(ikeProposals);
    espProposals = List.copyOf(espProposals);
    localSubnets = List.copyOf(localSubnets);
    remoteSubnets = List.copyOf(remoteSubnets);
  }

  /**
   * Certificate authentication: ours, sent to the peer, and the one CA whose certificates we accept
   * from it (pinned per connection, whatever else the charon trusts).
   */
  public record PubkeyAuth(Der certificate, Der ca) {}

  /** The connection as {@code load-conn} wants it: {@code {name: {...}}}'s inner section. */
  public ViciMessage toVici() {
    String auth = certificates.isPresent() ? "pubkey" : "psk";
    ViciMessage.Builder local = ViciMessage.builder().put("auth", auth).put("id", localId);
    certificates.ifPresent(c -> local.putDerList("certs", List.of(c.certificate())));
    ViciMessage.Builder remote = ViciMessage.builder().put("auth", auth).put("id", remoteId);
    certificates.ifPresent(c -> remote.putDerList("cacerts", List.of(c.ca())));
    ViciMessage child = ViciMessage.builder()
        .putList("local_ts", localSubnets)
        .putList("remote_ts", remoteSubnets)
        .putList("esp_proposals", espProposals)
        .put("rekey_time", childRekeyTime.toSeconds())
        .put("mode", "tunnel")
        // the peer gone: restart (we initiate) or wait for it to come back (it initiates)
        .put("dpd_action", initiate ? "restart" : "clear")
        .put("close_action", initiate ? "restart" : "none")
        .put("start_action", initiate ? "start" : "none")
        .build();
    return ViciMessage.builder()
        .put("version", 2)
        .putList("local_addrs", List.of(localAddress))
        .putList("remote_addrs", List.of(remoteAddress))
        .putList("proposals", ikeProposals)
        .put("dpd_delay", dpdDelay.toSeconds())
        .put("rekey_time", rekeyTime.toSeconds())
        // retry for ever: the tunnel comes back by itself once the peer does
        .put("keyingtries", 0)
        .put("unique", "replace")
        // the local address is pinned to an uplink's: a new uplink is a new tunnel, loaded by the
        // caller, not a MOBIKE roam (whose address updates would also stand in for DPD's checks)
        .put("mobike", false)
        .putSection("local", local.build())
        .putSection("remote", remote.build())
        .putSection("children", ViciMessage.builder().putSection(name, child).build())
        .build();
  }
}
