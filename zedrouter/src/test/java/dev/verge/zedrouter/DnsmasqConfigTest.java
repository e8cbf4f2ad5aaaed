package dev.verge.zedrouter;

import static dev.verge.zedrouter.Fixtures.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.hostos.DaemonPaths;
import dev.verge.proto.config.v1.DnsEntry;
import dev.verge.topics.v1.DeviceNetwork;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DnsmasqConfigTest {
  static final DeviceNetwork PORTS = ports(port("eth0", "eth0", 0, "192.0.2.10/24", "192.0.2.1"));
  static final DaemonPaths PATHS = new DaemonPaths(Path.of("/c"), Path.of("/s"), Path.of("/r"), Path.of("/l"));

  @TempDir Path dir;

  private DnsmasqConfig config(String port) {
    var niConfig = local(NI1, "10.1.0.0/24", port).toBuilder()
        .addDns(DnsEntry.newBuilder().setHostName("printer").addAddresses("10.1.0.5")).build();
    NiSpec ni = NiValidator.validate(Map.of(NI1, niConfig), PORTS, Set.of()).get(NI1).accepted().orElseThrow().toSpec(1);
    var plans = AppPlanner.plan(Map.of(APP1, app(APP1, "Web Server", vif(NI1, ace(1, "host", "Example.COM")))),
        Map.of(NI1, ni), Map.of(), new Allocators(dir));
    return DnsmasqConfig.of(ni, plans.get(APP1).vifs());
  }

  @Test
  void aVifGetsAReservationAndItsAppsNameAndUpstreamsComeFromTheUplink() {
    DnsmasqConfig config = config("eth0");
    String mac = MacScheme.localVif(APP1, NI1, 1, 1).toString();
    assertThat(config.dhcpHostFiles()).containsExactly(Map.entry(mac.replace(':', '-'), mac + ",id:*,10.1.0.128,web-server\n"));
    assertThat(config.hostFiles()).containsExactly(Map.entry("printer", "10.1.0.5 printer\n"),
        Map.entry("router", "10.1.0.1 router\n"), Map.entry("web-server", "10.1.0.128 web-server\n"));
    List<String> lines = List.of(config.render(PATHS).split("\n"));
    assertThat(config.upstreamResolvConf()).endsWith("\nnameserver 192.0.2.1\n");
    assertThat(lines).noneMatch(l -> l.startsWith("server=") || l.equals("no-resolv"));
    assertThat(lines).contains("interface=bn1", "listen-address=10.1.0.1", "resolv-file=/c/upstream-resolv.conf",
        "dhcp-range=10.1.0.128,10.1.0.254,255.255.255.0,60m", "dhcp-option=option:router,10.1.0.1",
        "dhcp-option=option:dns-server,10.1.0.1", "dhcp-option=option:mtu,1500",
        "dhcp-hostsdir=/c/dhcp-hosts", "hostsdir=/c/hosts", "dhcp-leasefile=/s/leases", "pid-file=/r/dnsmasq.pid",
        "nftset=/example.com/4#inet#zedrouter-bn1#" + NiFirewall.hostSet("example.com"));
  }

  private static dev.verge.proto.config.v1.StaticRoute route(String destination, String gateway) {
    return dev.verge.proto.config.v1.StaticRoute.newBuilder().setDestination(destination).setGateway(gateway).build();
  }

  private NiSpec withRoutes(String port, dev.verge.proto.config.v1.StaticRoute... routes) {
    var niConfig = local(NI1, "10.1.0.0/24", port).toBuilder().addAllStaticRoutes(List.of(routes)).build();
    return NiValidator.validate(Map.of(NI1, niConfig), PORTS, Set.of()).get(NI1).accepted().orElseThrow().toSpec(1);
  }

  @Test
  void staticRoutesAreAnnouncedAsOption121ThroughTheGatewayOrTheAppThatRoutesWithTheDefaultRouteLast() {
    NiSpec ni = withRoutes("eth0", route("198.51.100.0/24", "192.0.2.2"), route("172.16.0.0/12", "10.1.0.5"),
        route("203.0.113.0/24", "192.168.99.1"));
    List<String> lines = List.of(DnsmasqConfig.of(ni, List.of()).render(PATHS).split("\n"));
    // the router beyond the uplink is reached through the device; the app router directly; the third
    // route's gateway is on no prefix of the uplink, so it is neither installed nor announced
    assertThat(lines).contains("dhcp-option=option:classless-static-route,198.51.100.0/24,10.1.0.1,"
        + "172.16.0.0/12,10.1.0.5,0.0.0.0/0,10.1.0.1");
    assertThat(NiGraph.installableRoutes(ni)).extracting(r -> r.destination().toString())
        .containsExactly("198.51.100.0/24", "172.16.0.0/12");
    // air-gapped: only the route through the app, and no default
    List<String> airGapped = List.of(DnsmasqConfig.of(withRoutes("", route("198.51.100.0/24", "192.0.2.2"),
        route("172.16.0.0/12", "10.1.0.5")), List.of()).render(PATHS).split("\n"));
    assertThat(airGapped).contains("dhcp-option=option:classless-static-route,172.16.0.0/12,10.1.0.5");
    // no static routes: no option 121, so the router option stands
    assertThat(config("eth0").render(PATHS)).doesNotContain("classless-static-route");
  }

  @Test
  void aBadStaticRouteIsAPreciseErrorOfTheNi() {
    var bad = local(NI1, "10.1.0.0/24", "eth0").toBuilder().addStaticRoutes(route("198.51.100.0/33", "192.0.2.2"))
        .addStaticRoutes(route("198.51.100.0/24", "gw")).addStaticRoutes(route("10.1.0.0/25", "10.1.0.5")).build();
    var verdict = NiValidator.validate(Map.of(NI1, bad), PORTS, Set.of()).get(NI1);
    assertThat(verdict.accepted()).isEmpty();
    assertThat(verdict.errors()).extracting(e -> e.fieldPath() + ": " + e.description()).containsExactly(
        "static_routes[0].destination: destination '198.51.100.0/33' is not an IP prefix",
        "static_routes[1].gateway: gateway 'gw' of 198.51.100.0/24 is not an IPv4 address",
        "static_routes[2].destination: destination 10.1.0.0/25 overlaps the network instance's own subnet 10.1.0.0/24");
  }

  @Test
  void anAirGappedNiAnnouncesNoRouterAndHasNoUpstream() {
    List<String> lines = List.of(config("").render(PATHS).split("\n"));
    assertThat(lines).contains("dhcp-option=option:router", "resolv-file=/c/upstream-resolv.conf");
    assertThat(config("").upstreamResolvConf()).doesNotContain("nameserver");
  }
}
