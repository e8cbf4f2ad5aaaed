package dev.verge.hostos.linux;

import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.hostos.DhcpEvent;
import dev.verge.hostos.DhcpLease;
import dev.verge.hostos.DhcpOptions;
import dev.verge.hostos.IpPrefix;
import dev.verge.netlab.Exec;
import dev.verge.netlab.NetTopology;
import dev.verge.netlab.Netns;
import dev.verge.netlab.Root;
import dev.verge.netlab.UpstreamHost;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * A LinuxHost's DHCP client (busybox udhcpc under its supervisor, in its namespace) against a real
 * dnsmasq upstream: the exact lease is reported, and nothing is changed, inside or outside.
 */
class DhcpClientsIT {
  @Test
  void theClientReportsTheExactLeaseRenewsOnRequestChangesNothingAndEndsWhenStopped() throws Exception {
    Assumptions.assumeTrue(Root.isRoot(), "needs root");
    Path resolvConf = Path.of("/etc/resolv.conf");
    String resolvBefore = Files.exists(resolvConf) ? Files.readString(resolvConf) : "";
    long resolvModified = Files.exists(resolvConf) ? Files.getLastModifiedTime(resolvConf).toMillis() : 0;
    String rootAddresses = Exec.run("ip", "-o", "addr", "show").stdout();
    String rootRoutes = Exec.run("ip", "route", "show", "table", "all").stdout();
    ExecutorService loop = Executors.newSingleThreadExecutor(r -> new Thread(r, "agent-loop"));
    LinkedBlockingQueue<DhcpEvent> events = new LinkedBlockingQueue<>();
    try (NetTopology topology = NetTopology.create("hostos-dhcp")) {
      Netns device = topology.namespace("dev");
      Netns upstream = topology.namespace("up");
      topology.veth(device, "eth0", upstream, "eth0");
      UpstreamHost server = new UpstreamHost(upstream, "eth0", "192.0.2.1/24")
          .dhcpOption("option:ntp-server,192.0.2.123,192.0.2.124");
      server.startDhcpAndDns("192.0.2.50", "192.0.2.50", Duration.ofHours(1));
      try (LinuxHost host = LinuxHost.inNamespace(device.name(),
          LinuxHostSettings.under(Files.createDirectories(topology.workDir().resolve("state"))))) {
        host.dhcp().start("eth0", DhcpOptions.DEFAULT.withHostname("edge-1"), loop, events::add);
        DhcpLease expected = new DhcpLease(IpPrefix.parse("192.0.2.50/24"), List.of(IpPrefix.literal("192.0.2.1")),
            List.of(IpPrefix.literal("192.0.2.1")), Optional.empty(), Duration.ofHours(1),
            Optional.of(IpPrefix.literal("192.0.2.1")),
            List.of(IpPrefix.literal("192.0.2.123"), IpPrefix.literal("192.0.2.124"))); // option 42, asked for
        assertThat(events.poll(20, TimeUnit.SECONDS)).isEqualTo(new DhcpEvent.Bound("eth0", expected));

        host.dhcp().renew("eth0");
        assertThat(events.poll(20, TimeUnit.SECONDS)).isEqualTo(new DhcpEvent.Renewed("eth0", expected));

        // the client changed nothing: no address, no route, in its namespace or anywhere else
        assertThat(device.ipv4Addresses("eth0")).isEmpty();
        assertThat(device.ip("-4", "route", "show", "table", "all")).doesNotContain("192.0.2.1")
            .doesNotContain("default");
        assertThat(upstream.execOk("cat", server.namespace().topologyWorkDir()
            .resolve("up-dnsmasq").resolve("leases").toString())).contains("192.0.2.50").contains("edge-1");

        long pid = host.daemons().status("dhcpc-eth0").orElseThrow().pid();
        host.dhcp().stop("eth0");
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
        assertThat(device.exec("pgrep", "-f", "udhcpc -f -i eth0").stdout()).isBlank();
      }
    } finally {
      loop.shutdownNow();
    }
    assertThat(Files.exists(resolvConf) ? Files.readString(resolvConf) : "").isEqualTo(resolvBefore);
    assertThat(Files.exists(resolvConf) ? Files.getLastModifiedTime(resolvConf).toMillis() : 0)
        .isEqualTo(resolvModified);
    assertThat(Exec.run("ip", "-o", "addr", "show").stdout()).isEqualTo(rootAddresses);
    assertThat(Exec.run("ip", "route", "show", "table", "all").stdout()).isEqualTo(rootRoutes);
    assertThat(events).isEmpty();
  }
}
