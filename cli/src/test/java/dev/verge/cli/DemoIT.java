package dev.verge.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import dev.verge.netlab.Exec;
import dev.verge.netlab.ExecResult;
import dev.verge.netlab.NetTopology;
import dev.verge.netlab.Root;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The README's main command, run as a user would: every step must really happen. */
class DemoIT {

  @Test
  void theDemoRunsEveryStepAndLeavesNothingBehind() {
    assumeThat(Root.isRoot()).as("the demo's namespaces need root").isTrue();
    List<String> before = NetTopology.listNamespaces();
    ExecResult demo =
        Exec.run(
            List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), VergeCommand.class.getName(), "demo", "--once"),
            Duration.ofMinutes(5)); // the demo boots two guest VMs under TCG

    assertThat(demo.exitCode()).as(demo.stdout() + demo.stderr()).isZero();
    // As root the demo must run in namespace mode (not fall back to loopback): the controller and
    // the node in namespaces of their own, the node reaching the controller over its uplink.
    assertThat(demo.stdout())
        .containsPattern("Running as root: the controller is in vg-\\d+-\\d+-upstream \\(203\\.0\\.113\\.1\\), the node in "
            + "vg-\\d+-\\d+-device, with two uplinks")
        .doesNotContain("Not root")
        .contains("controller serving devices on 203.0.113.1:7443");
    assertThat(demo.stdout())
        .contains("the device verified the signature and acknowledged hash")
        // the uplink's lease from the upstream's dnsmasq, and nim's verified choice of it
        .contains("eth0 (DHCP) 203.0.113.2/24 via 203.0.113.1 <- controller traffic")
        .contains("eth1 (DHCP) 100.64.0.2/24 via 100.64.0.1")
        .containsPattern("switch-1: ONLINE, bridge bn\\d+")
        .contains("on an L2 segment without DHCP: no address") // the app's VIF on the switch NI
        // the app's ACL dropped its guest's ping and counted it
        .containsPattern("packet\\(s\\) dropped by the implicit drop at the end of its ACL; ACE counters: allow-web \\d+")
        .contains("VERGE-CHECK FAIL ping:203.0.113.1")
        // failover on the node itself: eth0 cut, everything moves to eth1 and the controller is reached again
        .containsPattern("nim: controller traffic on eth1 \\d+ ms after the cut")
        .containsPattern("zedrouter: local-1 NATs out of eth1 \\d+ ms after the cut")
        .containsPattern("zedagent: connected to the controller again over eth1 \\d+ ms after the cut")
        .containsPattern("nim: back on eth0 \\d+ ms after the link came back; the controller session runs from")
        .contains("zedrouter: local-1 stays on eth1 until eth0 has answered its probes for 120 s")
        .contains("zedagent/NetworkInstanceConfig 00000000-0000-4000-8000-000000000b01: local-1")
        .contains("(OVERLAPPING_SUBNET)")
        .contains("node connected=false")
        .contains("the config was applied 1 time(s) in total")
        .contains("{\"applied\":true}")
        .contains("info config_apply/current: config ").contains("accepted=true")
        .contains("verge_controller_devices_connected 1")
        .contains("VERGE-CHECK OK ping:192.0.2.1") // the app VM domainmgr booted pinged the upstream
        .contains("Demo complete");
    // the VPN step: the node's tunnel to the remote site's gateway is up, as verge node status shows it...
    assertThat(demo.stdout())
        .contains("site-vpn     vpn     ONLINE")
        .contains("vpn ESTABLISHED peer 198.51.100.2 from 203.0.113.2 (libipsec)")
        .contains("the gateway's charon: IKE_SA ESTABLISHED with 203.0.113.2")
        // ...the app on the VPN NI fetched the remote LAN host's page, and the SA counted it both ways
        .contains("VERGE-CHECK OK wget:http://10.2.0.5/ hello from the remote site LAN")
        .containsPattern("vpn ESTABLISHED peer 198\\.51\\.100\\.2 .* in [1-9]\\d* B/[1-9]\\d* pkts out [1-9]\\d* B/[1-9]\\d* pkts");
    // and both charons (the node's, the gateway's) ended with the demo: no charon, no TUN device left
    java.util.regex.Matcher cleaned = java.util.regex.Pattern
        .compile("Cleaned up: charon pids \\[(\\d+), (\\d+)\\] ended, the namespaces \\[.*site.*\\] and the TUN devices")
        .matcher(demo.stdout());
    assertThat(cleaned.find()).as("the demo's clean-up line").isTrue();
    for (String pid : List.of(cleaned.group(1), cleaned.group(2))) {
      assertThat(ProcessHandle.of(Long.parseLong(pid)).map(ProcessHandle::isAlive).orElse(false))
          .as("charon " + pid + " after the demo").isFalse();
    }
    assertThat(NetTopology.listNamespaces()).as("namespaces after the demo").isEqualTo(before);
  }
}
