package dev.verge.nim;

import static dev.verge.nim.Configs.bond;
import static dev.verge.nim.Configs.dhcp;
import static dev.verge.nim.Configs.eth;
import static dev.verge.nim.Configs.staticNet;
import static dev.verge.nim.Configs.staticUplink;
import static dev.verge.nim.Configs.uplink;
import static dev.verge.nim.Configs.vlan;
import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.hostos.IpPrefix;
import dev.verge.hostos.LinkSpec;
import dev.verge.proto.config.v1.ArpMonitor;
import dev.verge.proto.config.v1.BondAdapter;
import dev.verge.proto.config.v1.MiiMonitor;
import dev.verge.proto.config.v1.NetworkConfig;
import dev.verge.proto.config.v1.PhysicalIo;
import dev.verge.proto.config.v1.SystemAdapter;
import dev.verge.proto.config.v1.VlanAdapter;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PortConfigReaderTest {
  static final String STATIC_NET = "00000000-0000-4000-8000-0000000000a1";

  static PortConfig read(List<PhysicalIo> io, List<VlanAdapter> vlans, List<BondAdapter> bonds,
      List<SystemAdapter> adapters, NetworkConfig... nets) {
    Map<String, NetworkConfig> networks = new java.util.TreeMap<>();
    for (NetworkConfig n : nets) {
      networks.put(n.getId().getUuid(), n);
    }
    return PortConfigReader.read(PortConfig.CONTROLLER, 1, io, vlans, bonds, adapters, networks);
  }

  @Test
  void twoDhcpUplinksInCostOrder() {
    PortConfig c = read(List.of(eth("eth0"), eth("eth1")), List.of(), List.of(),
        List.of(uplink("wan1", "eth1", 10, Configs.DHCP_NET), uplink("wan0", "eth0", 0, Configs.DHCP_NET)), dhcp());
    assertThat(c.errors()).isEmpty();
    assertThat(c.managementPorts()).extracting(Port::label).containsExactly("wan0", "wan1");
    assertThat(c.port("wan0").orElseThrow().addressing()).isEqualTo(new Port.Addressing.Dhcp());
    assertThat(c.port("wan1").orElseThrow().ifName()).isEqualTo("eth1");
  }

  @Test
  void staticPortWithMtuAndDns() {
    PortConfig c = read(List.of(eth("eth0")), List.of(), List.of(),
        List.of(staticUplink("wan0", "eth0", 0, STATIC_NET, "192.0.2.10")),
        staticNet(STATIC_NET, "192.0.2.0/24", "192.0.2.1", 1400, "192.0.2.53"));
    Port p = c.port("wan0").orElseThrow();
    assertThat(p.addressing()).isEqualTo(new Port.Addressing.Static(IpPrefix.parse("192.0.2.10/24"),
        Optional.of(IpPrefix.literal("192.0.2.1"))));
    assertThat(p.mtu()).isEqualTo(1400);
    assertThat(p.dnsServers()).containsExactly(IpPrefix.literal("192.0.2.53"));
  }

  @Test
  void badPortsGetPreciseErrorsAndTheOthersStay() {
    PortConfig c = read(
        List.of(eth("eth0"), eth("eth1"), eth("long", "averyverylongifname")),
        List.of(), List.of(),
        List.of(
            uplink("wan0", "eth0", 0, Configs.DHCP_NET),
            staticUplink("outside", "eth1", 0, STATIC_NET, "198.51.100.7"),
            uplink("ghost", "eth9", 0, Configs.DHCP_NET),
            uplink("toolong", "long", 0, Configs.DHCP_NET),
            uplink("pricey", "eth0", 300, Configs.DHCP_NET)),
        dhcp(), staticNet(STATIC_NET, "192.0.2.0/24", "192.0.2.1", 0));
    assertThat(c.errors()).containsExactlyInAnyOrderEntriesOf(Map.of(
        "outside", "static IP 198.51.100.7 is outside its subnet 192.0.2.0/24",
        "ghost", "unknown port label 'eth9': no physical I/O, VLAN or bond has it",
        "toolong", "interface name 'averyverylongifname' is 19 characters, at most 15",
        "pricey", "cost 300 is out of 0..255"));
    assertThat(c.ports()).extracting(Port::label).containsExactly("wan0");
  }

  @Test
  void mtuOutOfRangeAndBadDnsAreRefused() {
    PortConfig c = read(List.of(eth("eth0"), eth("eth1")), List.of(), List.of(),
        List.of(staticUplink("a", "eth0", 0, "n1", "192.0.2.10"), staticUplink("b", "eth1", 0, "n2", "192.0.2.11")),
        staticNet("n1", "192.0.2.0/24", "192.0.2.1", 70000), staticNet("n2", "192.0.2.0/24", "192.0.2.1", 0, "dns.example"));
    assertThat(c.errors()).containsEntry("a", "MTU 70000 is out of 68..65535")
        .containsEntry("b", "DNS server 'dns.example' is not an IP address");
  }

  @Test
  void vlansOverEthernetAndOverBond() {
    PortConfig c = read(List.of(eth("eth0"), eth("eth1"), eth("eth2")),
        List.of(vlan("v100", "eth0.100", "eth0", 100), vlan("v200", "bond0.200", "bond0", 200)),
        List.of(bond("bond0", "bond0", BondAdapter.Mode.MODE_ACTIVE_BACKUP, "eth1", "eth2")),
        List.of(uplink("mgmt100", "v100", 0, Configs.DHCP_NET), uplink("mgmt200", "v200", 5, Configs.DHCP_NET)),
        dhcp());
    assertThat(c.errors()).isEmpty();
    assertThat(c.ports()).extracting(Port::ifName)
        .containsExactly("eth0", "eth1", "eth2", "bond0", "bond0.200", "eth0.100");
    Port bond0 = c.byIfName("bond0").orElseThrow();
    // EVE's defaults: the first member is primary, MII monitoring every 100 ms for a failover mode.
    assertThat(bond0.bond().orElseThrow().spec()).isEqualTo(new LinkSpec.Bond(LinkSpec.BondMode.ACTIVE_BACKUP, 100, 0, 0,
        0, List.of(), LinkSpec.LacpRate.SLOW, Optional.of("eth1")));
    assertThat(c.byIfName("eth1").orElseThrow().master()).contains("bond0");
    assertThat(c.byIfName("eth0").orElseThrow().usage()).isEqualTo(Port.Usage.L2_ONLY);
    assertThat(c.port("mgmt200").orElseThrow().vlan()).contains(new Port.Vlan("bond0", 200));
  }

  @Test
  void bondModesAndMonitors() {
    BondAdapter unspecified = bond("b", "bond0", BondAdapter.Mode.MODE_UNSPECIFIED, "eth0");
    assertThat(PortConfigReader.Reading_bondSpec(unspecified).mode()).isEqualTo(LinkSpec.BondMode.BALANCE_RR);
    assertThat(PortConfigReader.Reading_bondSpec(unspecified).miimon()).isZero();
    for (var mode : List.of(BondAdapter.Mode.MODE_BALANCE_TLB, BondAdapter.Mode.MODE_BALANCE_ALB)) {
      assertThat(PortConfigReader.Reading_bondSpec(bond("b", "bond0", mode, "eth0")).miimon()).isEqualTo(100);
    }
    BondAdapter lacp = bond("b", "bond0", BondAdapter.Mode.MODE_802_3AD, "eth0").toBuilder()
        .setLacpRate(BondAdapter.LacpRate.LACP_RATE_FAST)
        .setMii(MiiMonitor.newBuilder().setIntervalMs(400).setUpdelayMs(800).setDowndelayMs(1200)).build();
    assertThat(PortConfigReader.Reading_bondSpec(lacp)).isEqualTo(new LinkSpec.Bond(LinkSpec.BondMode.LACP_802_3AD,
        400, 800, 1200, 0, List.of(), LinkSpec.LacpRate.FAST, Optional.empty()));
    BondAdapter arp = bond("b", "bond0", BondAdapter.Mode.MODE_BALANCE_XOR, "eth0").toBuilder()
        .setArp(ArpMonitor.newBuilder().setIntervalMs(250).addIpTargets("192.0.2.1")).build();
    assertThat(PortConfigReader.Reading_bondSpec(arp).arpInterval()).isEqualTo(250);
    assertThat(PortConfigReader.Reading_bondSpec(arp).arpTargets()).containsExactly(
        (java.net.Inet4Address) IpPrefix.literal("192.0.2.1"));
  }

  @Test
  void topologyErrors() {
    PortConfig c = read(List.of(eth("eth0"), eth("eth1"), eth("eth2"), eth("eth3")),
        List.of(vlan("v1", "eth3.7", "eth3", 7), vlan("v2", "eth3.7b", "eth3", 7), vlan("v3", "eth1.5", "eth1", 5),
            vlan("v4", "eth3.9", "eth3", 4095)),
        List.of(bond("bondA", "bond0", BondAdapter.Mode.MODE_ACTIVE_BACKUP, "eth0", "eth1"),
            bond("bondB", "bond1", BondAdapter.Mode.MODE_ACTIVE_BACKUP, "eth1", "eth2"),
            bond("bondC", "bond2", BondAdapter.Mode.MODE_BALANCE_ALB, "eth2").toBuilder()
                .setArp(ArpMonitor.newBuilder().setIntervalMs(100).addIpTargets("192.0.2.1")).build()),
        List.of(uplink("p1", "v1", 0, Configs.DHCP_NET), uplink("p2", "v2", 0, Configs.DHCP_NET),
            uplink("p3", "v3", 0, Configs.DHCP_NET), uplink("p4", "bondB", 0, Configs.DHCP_NET),
            uplink("p5", "eth0", 0, Configs.DHCP_NET), uplink("p6", "v4", 0, Configs.DHCP_NET),
            uplink("p7", "bondC", 0, Configs.DHCP_NET)),
        dhcp());
    assertThat(c.errors()).containsExactlyInAnyOrderEntriesOf(Map.of(
        "p2", "VLAN 'v2': duplicate VLAN id 7 on parent eth3: VLAN 'v1' has it already",
        "p3", "VLAN 'v3': parent 'eth1' is a member of bond bond0; a port cannot be both a bond member and a VLAN parent",
        "p4", "bond 'bondB': port 'eth1' is already a member of bond bond0; a port can be in one bond only",
        "p5", "'eth0' is a member of bond bond0: a bond member cannot carry IP config",
        "p6", "VLAN 'v4': VLAN id 4095 is out of 1..4094",
        "p7", "bond 'bondC': ARP monitoring does not work in mode BALANCE_ALB (use MII)"));
    assertThat(c.ports()).extracting(Port::label).contains("p1");
  }

  static PortConfig withProxy(List<String> proxies, List<String> exceptions) {
    NetworkConfig net = dhcp().toBuilder().setProxy(dev.verge.proto.config.v1.ProxyConfig.newBuilder()
        .addAllProxies(proxies).addAllExceptions(exceptions)).build();
    return read(List.of(eth("eth0")), List.of(), List.of(), List.of(uplink("wan0", "eth0", 0, Configs.DHCP_NET)), net);
  }

  @Test
  void anExplicitProxyWithExceptionsIsParsed() {
    PortConfig c = withProxy(List.of("http://proxy.example:3128", "http://[2001:db8::1]"), List.of(".corp.example", "10.0.0.1", "*"));
    assertThat(c.errors()).isEmpty();
    Port.Proxy proxy = c.port("wan0").orElseThrow().proxy().orElseThrow();
    assertThat(proxy.url()).isEqualTo("http://proxy.example:3128");
    assertThat(new Port.Proxy("p", 80, List.of("corp.example")).bypasses("ctl.CORP.example")).isTrue();
    assertThat(new Port.Proxy("p", 80, List.of("corp.example")).bypasses("corp.example")).isTrue();
    assertThat(new Port.Proxy("p", 80, List.of("corp.example")).bypasses("notcorp.example")).isFalse();
  }

  @Test
  void aBadProxyIsThePortsPreciseError() {
    assertThat(withProxy(List.of("http://proxy example:3128"), List.of()).errors())
        .containsEntry("wan0", "proxy URL 'http://proxy example:3128' does not parse: Illegal character in authority at index 7");
    assertThat(withProxy(List.of("proxy.example:3128"), List.of()).errors())
        .containsEntry("wan0", "proxy URL 'proxy.example:3128' does not parse: it needs scheme://host[:port]");
    assertThat(withProxy(List.of("socks5://proxy.example:1080"), List.of()).errors())
        .containsEntry("wan0", "proxy URL 'socks5://proxy.example:1080': scheme 'socks5' is not supported (only http, whose CONNECT tunnels TLS)");
    assertThat(withProxy(List.of("http://proxy.example:3128/x"), List.of()).errors())
        .containsEntry("wan0", "proxy URL 'http://proxy.example:3128/x' has a path or query; a proxy is scheme://host[:port]");
    assertThat(withProxy(List.of("http://proxy.example:3128"), List.of("bad_host!")).errors())
        .containsEntry("wan0", "proxy exception 'bad_host!' is not a host, a domain, an IP address or *");
    assertThat(withProxy(List.of(), List.of("corp.example")).errors())
        .containsEntry("wan0", "proxy exceptions without a proxy");
  }

  static PhysicalIo io(String label, PhysicalIo.Type type) {
    return eth(label).toBuilder().setType(type).build();
  }

  static PortConfig wireless(PhysicalIo.Type type, dev.verge.proto.config.v1.WirelessConfig.Builder config) {
    NetworkConfig net = dhcp().toBuilder().setWireless(config).build();
    return read(List.of(io("wlan0", type)), List.of(), List.of(), List.of(uplink("air", "wlan0", 50, Configs.DHCP_NET)), net);
  }

  static dev.verge.proto.config.v1.WirelessConfig.Builder wifi(dev.verge.proto.config.v1.WifiNetwork.Builder... nets) {
    var b = dev.verge.proto.config.v1.WirelessConfig.newBuilder().setType(dev.verge.proto.config.v1.WirelessConfig.Type.TYPE_WIFI);
    for (var n : nets) {
      b.addWifi(n);
    }
    return b;
  }

  static dev.verge.proto.config.v1.WifiNetwork.Builder psk(String ssid, String password) {
    return dev.verge.proto.config.v1.WifiNetwork.newBuilder().setSsid(ssid)
        .setKeyScheme(dev.verge.proto.config.v1.WifiNetwork.KeyScheme.KEY_SCHEME_WPA_PSK).setPassword(password);
  }

  static dev.verge.proto.config.v1.WirelessConfig.Builder cellular(dev.verge.proto.config.v1.CellularAccessPoint.Builder... aps) {
    var b = dev.verge.proto.config.v1.WirelessConfig.newBuilder()
        .setType(dev.verge.proto.config.v1.WirelessConfig.Type.TYPE_CELLULAR);
    for (var ap : aps) {
      b.addCellular(ap);
    }
    return b;
  }

  @Test
  void wifiAndCellularPortsAreModelledWithTheirNetworksButNoSecrets() {
    PortConfig w = wireless(PhysicalIo.Type.TYPE_WLAN, wifi(psk("site-wifi", "correct horse"), psk("backup", "battery staple")));
    assertThat(w.errors()).isEmpty();
    Port air = w.port("air").orElseThrow();
    assertThat(air.kind()).isEqualTo(Port.Kind.WIFI);
    assertThat(air.wireless()).contains(new Port.Wireless(Port.Kind.WIFI, List.of("site-wifi", "backup")));
    assertThat(air.toString()).doesNotContain("correct horse");

    PortConfig c = wireless(PhysicalIo.Type.TYPE_WWAN, cellular(dev.verge.proto.config.v1.CellularAccessPoint.newBuilder()
        .setSimSlot(1).setApn("internet.example").addPreferredPlmns("310-260")));
    assertThat(c.errors()).isEmpty();
    assertThat(c.port("air").orElseThrow().wireless()).contains(new Port.Wireless(Port.Kind.CELLULAR, List.of("internet.example")));
  }

  @Test
  void badWirelessSettingsAreThePortsPreciseError() {
    var ap = dev.verge.proto.config.v1.CellularAccessPoint.newBuilder().setSimSlot(1);
    assertThat(wireless(PhysicalIo.Type.TYPE_WLAN, dev.verge.proto.config.v1.WirelessConfig.newBuilder()).errors())
        .containsEntry("air", "a WiFi port needs a wireless config of type TYPE_WIFI with at least one SSID");
    assertThat(wireless(PhysicalIo.Type.TYPE_WLAN, wifi(psk("site", "short"))).errors())
        .containsEntry("air", "WiFi 'site': WPA-PSK needs a password of 8..63 characters or encrypted credentials");
    assertThat(wireless(PhysicalIo.Type.TYPE_WLAN, wifi(psk("x".repeat(33), "long enough"))).errors())
        .containsEntry("air", "SSID '" + "x".repeat(33) + "' is longer than 32 bytes");
    assertThat(wireless(PhysicalIo.Type.TYPE_WLAN, wifi(dev.verge.proto.config.v1.WifiNetwork.newBuilder().setSsid("corp")
        .setKeyScheme(dev.verge.proto.config.v1.WifiNetwork.KeyScheme.KEY_SCHEME_WPA_EAP).setPassword("secret"))).errors())
        .containsEntry("air", "WiFi 'corp': WPA-EAP needs an identity and a password or encrypted credentials");
    assertThat(wireless(PhysicalIo.Type.TYPE_WWAN, cellular(ap.clone())).errors())
        .containsEntry("air", "cellular access point for SIM slot 1 has no APN");
    assertThat(wireless(PhysicalIo.Type.TYPE_WWAN, cellular(ap.clone().setApn("apn").setAuth(
        dev.verge.proto.config.v1.CellularAccessPoint.Auth.AUTH_CHAP).setUsername("u"))).errors())
        .containsEntry("air", "cellular access point for SIM slot 1: CHAP needs a username and a password or encrypted credentials");
    assertThat(wireless(PhysicalIo.Type.TYPE_WWAN, cellular(ap.clone().setApn("a"), ap.clone().setApn("b"))).errors())
        .containsEntry("air", "two access points for SIM slot 1");
    assertThat(wireless(PhysicalIo.Type.TYPE_WWAN, cellular(ap.clone().setApn("a").addPreferredPlmns("310260x"))).errors())
        .containsEntry("air", "cellular access point for SIM slot 1: PLMN '310260x' is not MCC-MNC (e.g. 310-260)");
    assertThat(wireless(PhysicalIo.Type.TYPE_ETHERNET, wifi(psk("site", "long enough"))).errors())
        .containsEntry("air", "wireless config TYPE_WIFI on a ethernet port");
  }
}
