package dev.verge.netlab;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GuestVmIT {
  private static GuestImage image;

  @BeforeAll
  static void buildImage() {
    assumeThat(Root.isRoot()).as("taps and namespaces need root").isTrue();
    image = GuestImage.ensureBuilt();
  }

  @Test
  void guestOnATapInABridgeGetsALeaseAndFetchesFromTheUpstream(@TempDir Path docRoot) throws Exception {
    Files.writeString(docRoot.resolve("check.txt"), "guest-check-ok\n");
    try (NetTopology topo = NetTopology.create("guest")) {
      Netns host = topo.namespace("host");
      host.bridge("br0").tap("tap0").attach("tap0", "br0");
      UpstreamHost upstream = new UpstreamHost(host, "br0", "10.77.0.1/24");
      // A pool of one address: the guest's lease is known exactly.
      upstream.startDhcpAndDns("10.77.0.50", "10.77.0.50", Duration.ofMinutes(10));
      upstream.startHttp(docRoot);

      try (GuestVm vm =
          GuestVm.boot(
              host, "g1", image, List.of(GuestVm.Nic.virtio("tap0", "52:54:00:aa:00:01")),
              "wget:http://10.77.0.1/check.txt")) {
        Duration toLease = vm.awaitFirstLease(Duration.ofSeconds(90));
        String check = vm.awaitCheck(Duration.ofSeconds(60));
        Map<String, GuestVm.GuestAddress> addresses = vm.awaitAddresses(Duration.ofSeconds(10));

        assertThat(check).startsWith("VERGE-CHECK OK").contains("guest-check-ok");
        assertThat(addresses).containsOnlyKeys("eth0");
        assertThat(addresses.get("eth0")).isEqualTo(new GuestVm.GuestAddress("eth0", "52:54:00:aa:00:01", "10.77.0.50/24"));
        assertThat(Files.readAllLines(topo.workDir().resolve("host-dnsmasq/leases")))
            .singleElement().asString().contains(" 52:54:00:aa:00:01 10.77.0.50 ");
        System.out.printf("guest %s boot-to-lease %d ms%n", vm.accel(), toLease.toMillis());
      }
    }
  }

  @Test
  void aFailingCheckIsReportedOnTheConsole() {
    try (NetTopology topo = NetTopology.create("guestfail")) {
      Netns host = topo.namespace("host");
      host.bridge("br0").tap("tap0").attach("tap0", "br0");
      new UpstreamHost(host, "br0", "10.78.0.1/24")
          .startDhcpAndDns("10.78.0.50", "10.78.0.60", Duration.ofMinutes(10));
      try (GuestVm vm =
          GuestVm.boot(
              host, "g2", image, List.of(GuestVm.Nic.virtio("tap0", "52:54:00:aa:00:02")),
              "ping:10.78.0.99")) {
        assertThat(vm.awaitCheck(Duration.ofSeconds(120))).startsWith("VERGE-CHECK FAIL ping:10.78.0.99");
      }
    }
  }
}
