package dev.verge.hostos.linux;

import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.hostos.DaemonSpec;
import dev.verge.hostos.DaemonStatus;
import dev.verge.netlab.NetTopology;
import dev.verge.netlab.Netns;
import dev.verge.netlab.Root;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real daemon (dnsmasq) supervised inside a throw-away namespace. */
class ProcessSupervisorIT {
  @TempDir Path state;

  @Test
  void dnsmasqStartsReadyInItsNamespaceServesDhcpAndStopsCleanly() {
    Assumptions.assumeTrue(Root.isRoot(), "needs root");
    try (NetTopology topology = NetTopology.create("hostos-daemon");
        ProcessSupervisor supervisor = new ProcessSupervisor(state)) {
      Netns ns = topology.namespace("ni");
      Netns app = topology.namespace("app");
      topology.veth(ns, "eth0", app, "eth0");
      ns.address("eth0", "192.0.2.1/24");
      List<String> command = new ArrayList<>(ns.execPrefix());
      command.addAll(List.of("dnsmasq", "--keep-in-foreground", "--log-facility=-", "--conf-file=/dev/null",
          "--pid-file=", "--interface=eth0", "--bind-interfaces", "--except-interface=lo",
          "--dhcp-range=192.0.2.10,192.0.2.20,1h", "--port=0"));
      DaemonStatus status = supervisor.start(
          new DaemonSpec("dnsmasq", command, java.util.Optional.empty(), java.time.Duration.ofSeconds(10),
              DaemonSpec.RestartPolicy.NEVER).readyWhenLogShows("DHCP, IP range 192\\.0\\.2\\.10"));
      assertThat(status.running()).isTrue();
      assertThat(ns.execOk("ss", "-lunp")).contains(":67").contains("pid=" + status.pid());
      supervisor.stop("dnsmasq");
      assertThat(ns.execOk("ss", "-lunp")).doesNotContain("dnsmasq");
    }
  }
}
