package dev.verge.hostos.linux;

import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.hostos.FlowEvent;
import dev.verge.hostos.IpPrefix;
import dev.verge.hostos.NetEvents;
import dev.verge.netlab.NetTopology;
import dev.verge.netlab.Netns;
import dev.verge.netlab.Root;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Real flows between two throw-away namespaces, seen through ctnetlink events. */
class ConntrackEventsIT {
  private final LinkedBlockingQueue<FlowEvent> events = new LinkedBlockingQueue<>();

  private FlowEvent.Flow await(Predicate<FlowEvent.Flow> matching, String what) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < deadline) {
      FlowEvent event = events.poll(100, TimeUnit.MILLISECONDS);
      if (event instanceof FlowEvent.Flow flow && matching.test(flow)) {
        return flow;
      }
    }
    throw new AssertionError("no flow event: " + what);
  }

  @Test
  void aPingIsANewFlowAndItsDestructionCarriesCountersAndMark() throws Exception {
    Assumptions.assumeTrue(Root.isRoot(), "needs root");
    try (NetTopology topology = NetTopology.create("hostos-ct")) {
      Netns device = topology.namespace("dev");
      Netns upstream = topology.namespace("up");
      topology.veth(device, "eth0", upstream, "eth0");
      device.address("eth0", "192.0.2.1/24");
      upstream.address("eth0", "192.0.2.2/24");
      device.execOk("sysctl", "-qw", "net.netfilter.nf_conntrack_acct=1");
      // A ruleset that uses conntrack makes the kernel track this namespace, and marks the flow.
      device.execOk("nft", "add table inet flows; add chain inet flows out { type filter hook output priority 0; };"
          + " add rule inet flows out ct state new ct mark set 42");
      try (ConntrackEvents conntrack = ConntrackEvents.inNamespace(device.name());
          NetEvents.Subscription ignored = conntrack.subscribe(events::add)) {
        assertThat(device.ping("192.0.2.2", Duration.ofSeconds(2))).isTrue();
        FlowEvent.Flow created = await(f -> f.kind() == FlowEvent.Kind.NEW && f.protocol() == 1, "new icmp flow");
        assertThat(created.source()).isEqualTo(IpPrefix.literal("192.0.2.1"));
        assertThat(created.destination()).isEqualTo(IpPrefix.literal("192.0.2.2"));
        device.execOk("conntrack", "-D", "-p", "icmp");
        FlowEvent.Flow destroyed =
            await(f -> f.kind() == FlowEvent.Kind.DESTROY && f.id() == created.id(), "destroyed icmp flow");
        assertThat(destroyed.packetsOriginal()).isEqualTo(1);
        assertThat(destroyed.packetsReply()).isEqualTo(1);
        assertThat(destroyed.bytesOriginal()).isEqualTo(84); // 20 IP + 8 ICMP + 56 payload
        assertThat(destroyed.mark()).isEqualTo(42);
      }
    }
  }
}
