package dev.verge.bench;

import dev.verge.netlab.GuestImage;
import dev.verge.netlab.GuestVm;
import dev.verge.netlab.NetTopology;
import dev.verge.netlab.Netns;
import dev.verge.netlab.Root;
import dev.verge.netlab.UpstreamHost;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Boot-to-lease time of the guest image, with KVM and with TCG: QEMU start until the guest's
 * first DHCP lease is printed on its console. Median of {@link #RUNS} boots each.
 */
public final class GuestBenchmark {
  private static final int RUNS = 3;
  private static final Duration LEASE_TIMEOUT = Duration.ofSeconds(30);

  private GuestBenchmark() {}

  public static void main(String[] args) {
    if (!Root.isRoot()) {
      System.out.println("# guest: needs root (taps and namespaces); skipped");
      return;
    }
    GuestImage image = GuestImage.ensureBuilt();
    try (NetTopology topo = NetTopology.create("guestbench")) {
      Netns host = topo.namespace("host");
      host.bridge("br0").tap("tap0").attach("tap0", "br0");
      new UpstreamHost(host, "br0", "10.79.0.1/24")
          .startDhcpAndDns("10.79.0.50", "10.79.0.60", Duration.ofMinutes(10));
      for (GuestVm.Accel accel : GuestVm.Accel.values()) {
        measure(host, image, accel);
      }
    }
  }

  private static void measure(Netns host, GuestImage image, GuestVm.Accel accel) {
    String name = accel.name().toLowerCase();
    List<Long> millis = new ArrayList<>();
    for (int run = 0; run < RUNS; run++) {
      try (GuestVm vm =
          GuestVm.boot(host, "bench", image, List.of(GuestVm.Nic.virtio("tap0", "52:54:00:be:00:01")), null, accel)) {
        millis.add(vm.awaitFirstLease(LEASE_TIMEOUT).toMillis());
      } catch (IllegalStateException e) {
        System.out.println("# guest." + name + ": no lease within " + LEASE_TIMEOUT.toSeconds() + " s: "
            + e.getMessage().lines().findFirst().orElse(""));
        return;
      }
    }
    Collections.sort(millis);
    System.out.println("BENCH guest.boot_to_lease." + name + " " + millis.get(millis.size() / 2) + " ms");
  }
}
