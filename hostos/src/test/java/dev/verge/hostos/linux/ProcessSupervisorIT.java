package dev.verge.hostos.linux;

import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.hostos.DaemonPaths;
import dev.verge.hostos.DaemonSpec;
import dev.verge.hostos.DaemonStatus;
import dev.verge.netlab.DhcpClient;
import dev.verge.netlab.NetTopology;
import dev.verge.netlab.Netns;
import dev.verge.netlab.Root;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real daemon (dnsmasq) supervised inside a throw-away namespace, serving a real DHCP client. */
class ProcessSupervisorIT {
  @TempDir Path state;

  @Test
  void dnsmasqStartsReadyInItsNamespaceGivesAClientTheExactLeaseAndStopsCleanly() throws Exception {
    Assumptions.assumeTrue(Root.isRoot(), "needs root");
    try (NetTopology topology = NetTopology.create("hostos-daemon");
        ProcessSupervisor supervisor = new ProcessSupervisor(state, topology.namespace("ni").execPrefix())) {
      Netns ns = topology.get("ni");
      Netns app = topology.namespace("app");
      topology.veth(ns, "eth0", app, "eth0");
      ns.address("eth0", "192.0.2.1/24");
      DaemonPaths paths = supervisor.paths("dnsmasq");
      // one address in the range: the client can only get exactly this one
      DaemonStatus status = supervisor.start(
          new DaemonSpec("dnsmasq", List.of("dnsmasq", "--keep-in-foreground", "--log-facility=-",
              "--conf-file=/dev/null", "--pid-file=", "--interface=eth0", "--bind-interfaces",
              "--except-interface=lo", "--dhcp-range=192.0.2.10,192.0.2.10,1h", "--port=0",
              "--dhcp-leasefile=" + paths.state().resolve("leases")),
              Optional.empty(), Duration.ofSeconds(10), DaemonSpec.RestartPolicy.NEVER)
              .readyWhenLogShows("DHCP, IP range 192\\.0\\.2\\.10"));
      assertThat(status.running()).isTrue();
      assertThat(ns.execOk("ss", "-lunp")).contains(":67").contains("pid=" + status.pid());

      DhcpClient.Lease lease = DhcpClient.obtain(app, "eth0", Duration.ofSeconds(15));
      assertThat(lease.cidr()).isEqualTo("192.0.2.10/24");
      assertThat(lease.router()).isEqualTo("192.0.2.1");
      assertThat(app.ipv4Addresses("eth0")).containsExactly("192.0.2.10/24");
      // dnsmasq kept its lease where it was told to: in its own state directory
      assertThat(Files.readString(paths.state().resolve("leases"))).contains(" 192.0.2.10 ");

      supervisor.stop("dnsmasq");
      assertThat(ns.execOk("ss", "-lunp")).doesNotContain("dnsmasq");
      assertThat(ProcessHandle.of(status.pid()).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    }
  }
}
