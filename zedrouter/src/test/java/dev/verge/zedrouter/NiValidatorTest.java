package dev.verge.zedrouter;

import static dev.verge.zedrouter.Fixtures.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.proto.config.v1.NetworkInstanceConfig;
import dev.verge.topics.v1.DeviceNetwork;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class NiValidatorTest {
  static final DeviceNetwork PORTS = ports(port("eth0", "eth0", 0, "192.0.2.10/24", "192.0.2.1"),
      l2Port("lan", "eth1"));

  private static Map<String, NiValidator.Verdict> validate(Map<String, NetworkInstanceConfig> configs, Set<String> running) {
    return NiValidator.validate(configs, PORTS, running);
  }

  private static List<String> errors(NetworkInstanceConfig config) {
    return validate(Map.of(config.getId().getUuid(), config), Set.of()).get(config.getId().getUuid()).errors().stream()
        .map(NiError::toString).toList();
  }

  private static NiSpec.LocalIp ip(NetworkInstanceConfig config) {
    return validate(Map.of(config.getId().getUuid(), config), Set.of()).get(config.getId().getUuid()).accepted()
        .orElseThrow().ip().orElseThrow();
  }

  @Test
  void evesDefaultsFillTheGatewayAndTheDhcpRange() {
    NiSpec.LocalIp big = ip(local(NI1, "10.1.0.0/24", "eth0"));
    assertThat(big.gateway().getHostAddress()).isEqualTo("10.1.0.1");
    assertThat(big.rangeStart().getHostAddress()).isEqualTo("10.1.0.128"); // >= 16 addresses: from the middle
    assertThat(big.rangeEnd().getHostAddress()).isEqualTo("10.1.0.254");

    NiSpec.LocalIp sixteen = ip(local(NI1, "10.1.0.16/28", "eth0"));
    assertThat(sixteen.rangeStart().getHostAddress()).isEqualTo("10.1.0.24");
    assertThat(sixteen.rangeEnd().getHostAddress()).isEqualTo("10.1.0.30");

    NiSpec.LocalIp small = ip(local(NI1, "10.1.0.8/29", "eth0"));
    assertThat(small.gateway().getHostAddress()).isEqualTo("10.1.0.9");
    assertThat(small.rangeStart().getHostAddress()).isEqualTo("10.1.0.10"); // < 16: from +2
    assertThat(small.rangeEnd().getHostAddress()).isEqualTo("10.1.0.14");
  }

  @Test
  void badPrefixesAreRefusedNamingTheValue() {
    assertThat(errors(local(NI1, "10.1.0.0/33", "eth0")))
        .containsExactly("BAD_SUBNET at ip.subnet: subnet '10.1.0.0/33' is not an IP prefix");
    assertThat(errors(local(NI1, "10.1", "eth0")))
        .containsExactly("BAD_SUBNET at ip.subnet: subnet '10.1' is not an IP prefix");
    assertThat(errors(local(NI1, "10.1.0.5/24", "eth0")))
        .containsExactly("BAD_SUBNET at ip.subnet: subnet 10.1.0.5/24 has host bits set (the network is 10.1.0.0/24)");
    assertThat(errors(local(NI1, "10.1.0.0/31", "eth0"))).containsExactly("SUBNET_TOO_SMALL at ip.subnet: subnet"
        + " 10.1.0.0/31 has fewer than 4 addresses (network, gateway, one app, broadcast)");
    assertThat(errors(local(NI1, "fd00::/64", "eth0"))).containsExactly("UNSUPPORTED_IPV6 at ip.subnet: subnet"
        + " fd00:0:0:0:0:0:0:0/64 is IPv6; zedrouter runs IPv4 local network instances only for now");
    assertThat(errors(local(NI1, "", "eth0")))
        .containsExactly("MISSING_SUBNET at ip.subnet: a local network instance needs a subnet");
  }

  @Test
  void aGatewayOrDhcpRangeOutsideTheSubnetIsRefused() {
    NetworkInstanceConfig gw = local(NI1, "10.1.0.0/24", "eth0");
    gw = gw.toBuilder().setIp(gw.getIp().toBuilder().setGateway("10.2.0.1")).build();
    assertThat(errors(gw)).containsExactly("BAD_GATEWAY at ip.gateway: gateway 10.2.0.1 is not a host address of subnet 10.1.0.0/24");

    assertThat(errors(withRange(local(NI1, "10.1.0.0/24", "eth0"), "10.1.0.100", "10.1.1.20"))).containsExactly(
        "BAD_DHCP_RANGE at ip.dhcp_range: DHCP range 10.1.0.100-10.1.1.20 is not inside the host addresses of subnet 10.1.0.0/24");
    assertThat(errors(withRange(local(NI1, "10.1.0.0/24", "eth0"), "10.1.0.200", "10.1.0.100")))
        .containsExactly("BAD_DHCP_RANGE at ip.dhcp_range: DHCP range 10.1.0.200-10.1.0.100 starts after it ends");
    assertThat(errors(withRange(local(NI1, "10.1.0.0/24", "eth0"), "10.1.0.1", "10.1.0.100")))
        .containsExactly("BAD_DHCP_RANGE at ip.dhcp_range: DHCP range 10.1.0.1-10.1.0.100 contains the gateway 10.1.0.1");
    NiSpec.LocalIp custom = ip(withRange(local(NI1, "10.1.0.0/24", "eth0"), "10.1.0.10", "10.1.0.20"));
    assertThat(custom.rangeStart().getHostAddress() + "-" + custom.rangeEnd().getHostAddress())
        .isEqualTo("10.1.0.10-10.1.0.20");
  }

  @Test
  void anUnknownUplinkLabelIsRefusedListingThePortsThereAre() {
    assertThat(errors(local(NI1, "10.1.0.0/24", "wan9"))).containsExactly(
        "UNKNOWN_UPLINK_LABEL at port.name: port label 'wan9' names no port of the device (ports: eth0, lan)");
  }

  @Test
  void aSubnetOverlappingAPortIsRefused() {
    assertThat(errors(local(NI1, "192.0.2.0/25", "eth0"))).containsExactly(
        "SUBNET_OVERLAPS_PORT at ip.subnet: subnet 192.0.2.0/25 overlaps 192.0.2.0/24 of port eth0 (eth0)");
  }

  @Test
  void ofTwoOverlappingNisTheRunningOneKeepsItsSubnetElseTheLowerUuid() {
    Map<String, NetworkInstanceConfig> configs = Map.of(
        NI1, local(NI1, "10.1.0.0/16", "eth0"),
        NI2, local(NI2, "10.1.5.0/24", "eth0"),
        NI3, local(NI3, "10.3.0.0/24", "eth0"));

    Map<String, NiValidator.Verdict> fresh = validate(configs, Set.of());
    assertThat(fresh.get(NI1).accepted()).isPresent();
    assertThat(fresh.get(NI3).accepted()).isPresent();
    assertThat(fresh.get(NI2).errors()).extracting(NiError::toString).containsExactly("SUBNET_OVERLAP at ip.subnet:"
        + " subnet 10.1.5.0/24 overlaps subnet 10.1.0.0/16 of network instance " + NI1);

    Map<String, NiValidator.Verdict> ni2First = validate(configs, Set.of(NI2));
    assertThat(ni2First.get(NI2).accepted()).isPresent();
    assertThat(ni2First.get(NI1).errors()).extracting(NiError::reason).containsExactly("SUBNET_OVERLAP");
    assertThat(ni2First.get(NI3).accepted()).isPresent();
  }

  @Test
  void aSwitchNiBridgesOnlyAnL2OnlyPortNamedByItsOwnLabel() {
    assertThat(validate(Map.of(NI1, switchNi(NI1, "lan")), Set.of()).get(NI1).accepted().orElseThrow().uplink()
        .ifName()).contains("eth1");
    assertThat(errors(switchNi(NI1, "eth0"))).containsExactly("SWITCH_PORT_HAS_IP at port.name: port eth0 (eth0)"
        + " carries the device's own IP traffic (192.0.2.10/24); a switch network instance only bridges L2-only ports");
    assertThat(errors(switchNi(NI1, "uplink"))).containsExactly("SWITCH_NEEDS_ONE_PORT at port.name: a switch network"
        + " instance bridges one port, named by its own label, not the shared label 'uplink'");
  }

  @Test
  void mtuBelowTheMinimumOrAboveThePortIsRefused() {
    assertThat(errors(local(NI1, "10.1.0.0/24", "eth0").toBuilder().setMtu(576).build()))
        .containsExactly("BAD_MTU at mtu: MTU 576 is below the minimum of 1280");
    assertThat(errors(local(NI1, "10.1.0.0/24", "eth0").toBuilder().setMtu(9000).build()))
        .containsExactly("MTU_ABOVE_PORT at mtu: MTU 9000 is above the MTU 1500 of port eth0");
    assertThat(validate(Map.of(NI1, local(NI1, "10.1.0.0/24", "")), Set.of()).get(NI1).accepted().orElseThrow().mtu())
        .isEqualTo(1500);
  }

  @Test
  void inactiveNisAreLeftOutAndAVpnNiWithoutTunnelSettingsIsRefused() {
    assertThat(validate(Map.of(NI1, local(NI1, "10.1.0.0/24", "eth0").toBuilder().setActivate(false).build()), Set.of()))
        .isEmpty();
    assertThat(errors(local(NI1, "10.1.0.0/24", "eth0").toBuilder().setType(NetworkInstanceConfig.Type.TYPE_VPN).build()))
        .containsExactly("MISSING_VPN_PEER at vpn.peer: a VPN network instance needs the peer gateway's address",
            "MISSING_PSK at vpn.psk: a VPN network instance needs a pre-shared key",
            "MISSING_REMOTE_SUBNET at vpn.remote_subnets: a VPN network instance needs the subnets behind its peer");
  }
}
