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
    assertThat(lines).contains("interface=bn1", "listen-address=10.1.0.1", "server=192.0.2.1", "no-resolv",
        "dhcp-range=10.1.0.128,10.1.0.254,255.255.255.0,60m", "dhcp-option=option:router,10.1.0.1",
        "dhcp-option=option:dns-server,10.1.0.1", "dhcp-option=option:mtu,1500",
        "dhcp-hostsdir=/c/dhcp-hosts", "hostsdir=/c/hosts", "dhcp-leasefile=/s/leases", "pid-file=/r/dnsmasq.pid",
        "nftset=/example.com/4#inet#zedrouter-bn1#" + NiFirewall.hostSet("example.com"));
  }

  @Test
  void anAirGappedNiAnnouncesNoRouterAndHasNoUpstream() {
    List<String> lines = List.of(config("").render(PATHS).split("\n"));
    assertThat(lines).contains("dhcp-option=option:router").noneMatch(l -> l.startsWith("server="));
  }
}
