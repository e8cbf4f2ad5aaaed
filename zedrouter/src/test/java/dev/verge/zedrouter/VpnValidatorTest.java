package dev.verge.zedrouter;

import static dev.verge.zedrouter.Fixtures.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.hostos.vici.IpsecBackend;
import dev.verge.proto.config.v1.NetworkInstanceConfig;
import dev.verge.topics.v1.DeviceNetwork;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class VpnValidatorTest {
  static final DeviceNetwork PORTS = ports(port("eth0", "eth0", 0, "192.0.2.10/24", "192.0.2.1"));

  private static Map<String, NiValidator.Verdict> validate(NetworkInstanceConfig... configs) {
    Map<String, NetworkInstanceConfig> byUuid = new TreeMap<>();
    for (NetworkInstanceConfig c : configs) {
      byUuid.put(c.getId().getUuid(), c);
    }
    return NiValidator.validate(byUuid, PORTS, Set.of());
  }

  private static List<String> errors(NetworkInstanceConfig config) {
    return validate(config).get(config.getId().getUuid()).errors().stream().map(NiError::toString).toList();
  }

  @Test
  void aVpnNiIsALocalNiWithSafeTunnelDefaults() {
    NiValidator.Accepted ni = validate(vpn(NI1, "10.1.0.0/24", "eth0")).get(NI1).accepted().orElseThrow();
    assertThat(ni.kind()).isEqualTo(NiSpec.Kind.VPN);
    assertThat(ni.ip().orElseThrow().gateway().getHostAddress()).isEqualTo("10.1.0.1");
    VpnPlan plan = ni.vpn().orElseThrow();
    assertThat(plan.localSubnets()).hasToString("[10.1.0.0/24]"); // default: the NI's subnet
    assertThat(plan.remoteSubnets()).hasToString("[10.2.0.0/24]");
    assertThat(plan.ikeProposals()).containsExactly("aes256-sha256-modp3072");
    assertThat(plan.espProposals()).containsExactly("aes256-sha256-modp3072");
    // EVE's DPD: checked after 10 s of silence, dead after 30 s without an answer
    assertThat(plan.dpdDelay()).isEqualTo(Duration.ofSeconds(10));
    assertThat(plan.dpdTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(plan.natOtherTraffic()).isFalse();
    assertThat(plan.backend()).isEqualTo(IpsecBackend.LIBIPSEC);
    assertThat(plan.remoteId()).isEqualTo("198.51.100.2");
    assertThat(plan.toString()).doesNotContain("correct horse");
  }

  @Test
  void theDpdTimeoutIsCharonsRetransmissionScheduleAddingUpToIt() {
    VpnPlan plan = validate(withVpn(vpn(NI1, "10.1.0.0/24", "eth0"), v -> v.setDpdDelaySeconds(2).setDpdTimeoutSeconds(4)))
        .get(NI1).accepted().orElseThrow().vpn().orElseThrow();
    assertThat(plan.dpdDelay()).isEqualTo(Duration.ofSeconds(2));
    var charon = plan.charon(1);
    assertThat(charon.retransmitTries()).isEqualTo(3);
    // 0.337 s, then 1.8 times the last wait three times: 0.337 + 0.607 + 1.092 + 1.966 = 4.0 s
    assertThat(charon.retransmitTimeout()).isEqualTo(Duration.ofMillis(337));
    assertThat(charon.strongswanConf()).contains("retransmit_timeout = 0.337").contains("retransmit_tries = 3")
        .contains("retransmit_base = 1.8");
  }

  @Test
  void certificatesReplaceThePskAndEachBadPieceIsToldByField() {
    java.time.Duration day = java.time.Duration.ofDays(1);
    var ca = dev.verge.proto.Certificates.selfSigned("CA", true, day, dev.verge.proto.Certificates.newRsaKeyPair(1024));
    var device = dev.verge.proto.Certificates.issue(ca, "dev.example", List.of("dev.example"), day,
        dev.verge.proto.Certificates.newRsaKeyPair(1024));
    var other = dev.verge.proto.Certificates.issue(ca, "other", List.of("other"), day,
        dev.verge.proto.Certificates.newRsaKeyPair(1024));
    String cert = dev.verge.proto.Certificates.toPem(device.certificate());
    String key = dev.verge.proto.Certificates.toPem(device.keys().getPrivate());
    String caPem = dev.verge.proto.Certificates.toPem(ca.certificate());
    java.util.function.UnaryOperator<dev.verge.proto.config.v1.VpnSettings.Builder> good =
        v -> v.clearPsk().setLocalCertificate(cert).setLocalKey(key).setCaCertificate(caPem);

    VpnPlan plan = validate(withVpn(vpn(NI1, "10.1.0.0/24", "eth0"), good)).get(NI1).accepted().orElseThrow().vpn()
        .orElseThrow();
    assertThat(plan.certificates()).isPresent();
    assertThat(plan.certificates().get().key().type()).isEqualTo(dev.verge.hostos.vici.ViciClient.KeyType.RSA);
    assertThat(plan.connection("vpn-bn1", "192.0.2.10").toVici().section("local").orElseThrow().text("auth"))
        .isEqualTo("pubkey");
    assertThat(plan.toString()).contains("auth=certificate").doesNotContain("PRIVATE");

    assertThat(errors(withVpn(vpn(NI1, "10.1.0.0/24", "eth0"), v -> good.apply(v).clearLocalCertificate())))
        .containsExactly("MISSING_CERTIFICATE at vpn.local_certificate: certificate authentication needs the device's"
            + " certificate (PEM)");
    assertThat(errors(withVpn(vpn(NI1, "10.1.0.0/24", "eth0"), v -> good.apply(v).setLocalCertificate(
        "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n"))))
        .singleElement().asString().startsWith("BAD_CERTIFICATE at vpn.local_certificate: the device's certificate: not a"
            + " valid X.509 certificate");
    assertThat(errors(withVpn(vpn(NI1, "10.1.0.0/24", "eth0"), v -> good.apply(v).setLocalKey("not a key"))))
        .containsExactly("BAD_KEY at vpn.local_key: the device's private key: no PEM private key (-----BEGIN PRIVATE"
            + " KEY-----) in it");
    assertThat(errors(withVpn(vpn(NI1, "10.1.0.0/24", "eth0"), v -> good.apply(v)
        .setLocalKey(dev.verge.proto.Certificates.toPem(other.keys().getPrivate())))))
        .containsExactly("KEY_MISMATCH at vpn.local_key: the private key does not belong to the certificate of"
            + " CN=dev.example");
    assertThat(errors(withVpn(vpn(NI1, "10.1.0.0/24", "eth0"), v -> good.apply(v)
        .setLocalKey(dev.verge.proto.Certificates.toPem(dev.verge.proto.Certificates.newEcKeyPair().getPrivate())))))
        .singleElement().asString().startsWith("UNSUPPORTED_KEY at vpn.local_key: an ECDSA key needs strongSwan's openssl"
            + " plugin");
    assertThat(errors(withVpn(vpn(NI1, "10.1.0.0/24", "eth0"), v -> good.apply(v).setCaCertificate(cert))))
        .containsExactly("BAD_CERTIFICATE at vpn.ca_certificate: the peer's CA certificate (CN=dev.example) is not a CA"
            + " certificate (no basicConstraints CA:TRUE)");
    assertThat(errors(withVpn(vpn(NI1, "10.1.0.0/24", "eth0"), v -> good.apply(v).clearCaCertificate())))
        .containsExactly("MISSING_CERTIFICATE at vpn.ca_certificate: certificate authentication needs the peer's CA"
            + " certificate (PEM)");
    assertThat(errors(withVpn(vpn(NI1, "10.1.0.0/24", "eth0"), v -> good.apply(v).setPsk("correct horse battery"))))
        .containsExactly("AMBIGUOUS_AUTH at vpn.psk: give either a pre-shared key or certificates, not both");
  }

  @Test
  void aMissingPskIsRefusedPrecisely() {
    assertThat(errors(withVpn(vpn(NI1, "10.1.0.0/24", "eth0"), v -> v.clearPsk())))
        .containsExactly("MISSING_PSK at vpn.psk: a VPN network instance needs a pre-shared key");
    assertThat(errors(withVpn(vpn(NI1, "10.1.0.0/24", "eth0"), v -> v.clearPsk().setPskRef("site-a-psk"))))
        .containsExactly("MISSING_PSK at vpn.psk: a VPN network instance needs a pre-shared key"
            + " (psk_ref 'site-a-psk' names no config item)");
  }

  @Test
  void badAndOverlappingRemoteSubnetsAreRefused() {
    assertThat(errors(withVpn(vpn(NI1, "10.1.0.0/24", "eth0"), v -> v.clearRemoteSubnets().addRemoteSubnets("10.2.0/24"))))
        .containsExactly("BAD_SUBNET at vpn.remote_subnets[0]: '10.2.0/24' is not an IP prefix");
    assertThat(errors(withVpn(vpn(NI1, "10.1.0.0/24", "eth0"), v -> v.clearRemoteSubnets().addRemoteSubnets("10.2.0.9/24"))))
        .containsExactly("BAD_SUBNET at vpn.remote_subnets[0]: subnet 10.2.0.9/24 has host bits set (the network is 10.2.0.0/24)");
    assertThat(errors(withVpn(vpn(NI1, "10.1.0.0/24", "eth0"), v -> v.clearRemoteSubnets().addRemoteSubnets("10.1.0.128/25"))))
        .containsExactly("REMOTE_SUBNET_OVERLAP at vpn.remote_subnets[0]: remote subnet 10.1.0.128/25 overlaps the network"
            + " instance's own subnet 10.1.0.0/24");
    assertThat(errors(withVpn(vpn(NI1, "10.1.0.0/24", "eth0"), v -> v.clearRemoteSubnets().addRemoteSubnets("192.0.2.0/25"))))
        .containsExactly("REMOTE_SUBNET_OVERLAP at vpn.remote_subnets[0]: remote subnet 192.0.2.0/25 overlaps 192.0.2.0/24"
            + " of port eth0 (eth0)");
    assertThat(errors(withVpn(vpn(NI1, "10.1.0.0/24", "eth0"), v -> v.clearRemoteSubnets())))
        .containsExactly("MISSING_REMOTE_SUBNET at vpn.remote_subnets: a VPN network instance needs the subnets behind its peer");
  }

  @Test
  void aRemoteSubnetOfAnotherNiIsRefusedAndTheOtherNiRunsOn() {
    Map<String, NiValidator.Verdict> verdicts = validate(local(NI1, "10.2.0.0/24", "eth0"), vpn(NI2, "10.1.0.0/24", "eth0"));
    assertThat(verdicts.get(NI1).accepted()).isPresent();
    assertThat(verdicts.get(NI2).errors()).extracting(NiError::toString).containsExactly(
        "REMOTE_SUBNET_OVERLAP at vpn.remote_subnets[0]: remote subnet 10.2.0.0/24 overlaps subnet 10.2.0.0/24 of network"
            + " instance " + NI1);
  }

  @Test
  void unknownProposalsAndUplinksAreRefusedByName() {
    assertThat(errors(withVpn(vpn(NI1, "10.1.0.0/24", "eth0"), v -> v.addIkeProposals("aes256-sha256-ecp999"))))
        .singleElement().asString()
        .startsWith("UNKNOWN_PROPOSAL at vpn.ike_proposals[0]: proposal 'aes256-sha256-ecp999': unknown or unsupported"
            + " algorithm 'ecp999' (known: ");
    assertThat(errors(withVpn(vpn(NI1, "10.1.0.0/24", "eth0"), v -> v.addEspProposals("aes128-md5"))))
        .singleElement().asString().contains("unknown or unsupported algorithm 'md5'");
    assertThat(errors(withVpn(vpn(NI1, "10.1.0.0/24", "eth0"), v -> v.addIkeProposals("aes256-sha256"))))
        .containsExactly("UNKNOWN_PROPOSAL at vpn.ike_proposals[0]: IKE proposal 'aes256-sha256' names no Diffie-Hellman group");
    assertThat(errors(vpn(NI1, "10.1.0.0/24", "wan9")))
        .containsExactly("UNKNOWN_UPLINK_LABEL at port.name: port label 'wan9' names no port of the device (ports: eth0)");
    assertThat(errors(withVpn(vpn(NI1, "10.1.0.0/24", "eth0"), v -> v.setPeer("gw.example"))))
        .containsExactly("BAD_VPN_PEER at vpn.peer: peer 'gw.example' is not an IPv4 address");
  }
}
