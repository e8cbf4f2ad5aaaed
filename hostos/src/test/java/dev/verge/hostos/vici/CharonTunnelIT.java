package dev.verge.hostos.vici;

import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.hostos.DaemonPaths;
import dev.verge.hostos.DaemonStatus;
import dev.verge.hostos.linux.ProcessSupervisor;
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

/**
 * Two charons at once, each in its own namespace and private mount namespace, a PSK IKEv2 tunnel
 * between them set up over VICI only, real pings through it (userspace ESP over TUN), counters
 * read back, and nothing left after the stop.
 */
class CharonTunnelIT {
  private static final Duration WAIT = Duration.ofSeconds(10);

  @TempDir Path deviceState;
  @TempDir Path gatewayState;

  @Test
  void twoCharonsBuildAPskTunnelOverViciAndLeaveNothingBehind() throws Exception {
    Assumptions.assumeTrue(Root.isRoot(), "needs root");
    boolean machinePidFileBefore = Files.exists(Path.of("/run/charon.pid"));
    try (NetTopology topology = NetTopology.create("hostos-vpn");
        ProcessSupervisor device = new ProcessSupervisor(deviceState, topology.namespace("dev").execPrefix());
        ProcessSupervisor gateway = new ProcessSupervisor(gatewayState, topology.namespace("gw").execPrefix())) {
      Netns dev = topology.get("dev");
      Netns gw = topology.get("gw");
      topology.veth(dev, "eth0", gw, "eth0");
      dev.address("eth0", "192.0.2.1/24");
      gw.address("eth0", "192.0.2.2/24");
      // the two sites' LANs, as addresses on loopback
      dev.address("lo", "10.1.0.1/32");
      gw.address("lo", "10.2.0.1/32");

      CharonSpec spec = CharonSpec.standard("charon", IpsecBackend.LIBIPSEC);
      DaemonStatus devCharon = start(device, spec);
      DaemonStatus gwCharon = start(gateway, spec);
      // both run at once, each with its pid file in its own run directory, none in the machine's
      assertThat(Files.readString(spec.pidFile(device.paths("charon"))).trim()).isEqualTo(Long.toString(devCharon.pid()));
      assertThat(Files.readString(spec.pidFile(gateway.paths("charon"))).trim()).isEqualTo(Long.toString(gwCharon.pid()));
      assertThat(Files.exists(Path.of("/run/charon.pid"))).isEqualTo(machinePidFileBefore);
      assertThat(dev.ip("link", "show")).contains("ipsec0");

      try (ViciClient devVici = Charons.connect(device, spec, WAIT);
          ViciClient gwVici = Charons.connect(gateway, spec, WAIT)) {
        gwVici.loadShared("psk-site", "IKE", "correct horse", List.of("dev.example", "gw.example"));
        gwVici.loadConn("site", connection("192.0.2.2", "192.0.2.1", "gw.example", "dev.example", "10.2.0.0/24", "10.1.0.0/24"));
        devVici.loadShared("psk-site", "IKE", "correct horse", List.of("dev.example", "gw.example"));
        devVici.loadConn("site", connection("192.0.2.1", "192.0.2.2", "dev.example", "gw.example", "10.1.0.0/24", "10.2.0.0/24"));

        ViciClient.InitiateResult up = devVici.initiate("site", "site", WAIT);
        assertThat(up.success()).as("initiate: %s", up.log()).isTrue();
        assertThat(dev.exec("ping", "-c", "3", "-i", "0.2", "-W", "2", "-I", "10.1.0.1", "10.2.0.1").exitCode()).isZero();

        List<IkeSa> sas = devVici.listSas("site");
        assertThat(sas).hasSize(1);
        IkeSa sa = sas.get(0);
        assertThat(sa.established()).isTrue();
        assertThat(sa.remoteHost()).isEqualTo("192.0.2.2");
        assertThat(sa.children()).singleElement().satisfies(child -> {
          assertThat(child.state()).isEqualTo("INSTALLED");
          assertThat(child.packetsOut()).isGreaterThanOrEqualTo(3);
          assertThat(child.packetsIn()).isGreaterThanOrEqualTo(3);
          assertThat(child.bytesOut()).isGreaterThanOrEqualTo(3 * 84);
        });
        assertThat(gwVici.listSas("").get(0).packetsIn()).isGreaterThanOrEqualTo(3);
        assertThat(devVici.stats().section("ikesas").orElseThrow().text("total")).isEqualTo("1");
        assertThat(dev.ip("route", "show", "table", "220")).contains("10.2.0.0/24 dev ipsec0");
      }

      device.stop("charon");
      gateway.stop("charon");
      assertThat(ProcessHandle.of(devCharon.pid()).map(ProcessHandle::isAlive).orElse(false)).isFalse();
      assertThat(ProcessHandle.of(gwCharon.pid()).map(ProcessHandle::isAlive).orElse(false)).isFalse();
      for (Netns ns : List.of(dev, gw)) {
        assertThat(ns.ip("link", "show")).doesNotContain("ipsec");
        assertThat(ns.exec("ip", "route", "show", "table", "220").stdout()).doesNotContain("10.");
        assertThat(ns.ip("rule", "show")).doesNotContain("lookup 220");
        assertThat(ns.exec("ss", "-lunp").stdout()).doesNotContain("charon");
      }
      assertThat(Files.exists(Path.of("/run/charon.pid"))).isEqualTo(machinePidFileBefore);
    }
  }

  private static DaemonStatus start(ProcessSupervisor supervisor, CharonSpec spec) {
    Charons.writeConfig(supervisor, spec);
    DaemonPaths paths = supervisor.paths(spec.name());
    DaemonStatus status = supervisor.start(spec.daemonSpec(paths));
    assertThat(status.running()).isTrue();
    return status;
  }

  private static ViciMessage connection(String local, String remote, String localId, String remoteId,
      String localNet, String remoteNet) {
    return new SiteToSite("site", local, remote, localId, remoteId, Optional.empty(),
        List.of("aes256-sha256-modp3072"), List.of("aes256-sha256"), Duration.ofSeconds(10),
        Duration.ofHours(4), Duration.ofHours(1), List.of(localNet), List.of(remoteNet), false).toVici();
  }
}
