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
 * @param certificate empty: PSK authentication; else the name of a loaded certificate to
 *     authenticate with (the peer is then checked against the loaded CAs)
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
    Optional<String> certificate,
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

  /** The connection as {@code load-conn} wants it: {@code {name: {...}}}'s inner section. */
  public ViciMessage toVici() {
    String auth = certificate.isPresent() ? "pubkey" : "psk";
    ViciMessage.Builder local = ViciMessage.builder().put("auth", auth).put("id", localId);
    certificate.ifPresent(cert -> local.putList("certs", List.of(cert)));
    ViciMessage remote = ViciMessage.builder().put("auth", auth).put("id", remoteId).build();
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
        .putSection("local", local.build())
        .putSection("remote", remote)
        .putSection("children", ViciMessage.builder().putSection(name, child).build())
        .build();
  }
}
