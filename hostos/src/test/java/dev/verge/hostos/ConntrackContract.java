package dev.verge.hostos;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * What every {@link Conntrack} does, run on the sim and on Linux in a namespace. The world: a
 * device 192.0.2.1 facing peer A 192.0.2.2 and 198.51.100.1 facing peer B 198.51.100.2; only the
 * device's own IPv4 traffic is tracked, with counters on, and its UDP flows to port 7000 get ct
 * mark 7.
 */
public abstract class ConntrackContract {
  protected static final String PEER_A = "192.0.2.2";
  protected static final String PEER_B = "198.51.100.2";

  protected abstract Conntrack conntrack();

  /** The device pings the peer once (an answered echo: 84 bytes each way). */
  protected abstract void pingFromDevice(String peer);

  /** The device sends one UDP datagram to the peer's port (nobody answers it). */
  protected abstract void udpFromDevice(String peer, int port);

  /** Peer A pings peer B once through the device, which masquerades it out towards B. */
  protected abstract void pingFromAToBThroughDevice();

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

  private static Optional<FlowEvent.Flow> find(List<FlowEvent.Flow> flows, int protocol, String destination) {
    return flows.stream()
        .filter(f -> f.protocol() == protocol && f.destination().equals(IpPrefix.literal(destination)))
        .findFirst();
  }

  @Test
  void theDumpHoldsEachFlowWithItsTupleCountersAndMark() {
    pingFromDevice(PEER_A);
    udpFromDevice(PEER_B, 7000);
    List<FlowEvent.Flow> flows = conntrack().dump();
    assertThat(flows).hasSize(2);
    FlowEvent.Flow ping = find(flows, 1, PEER_A).orElseThrow();
    assertThat(ping.kind()).isEqualTo(FlowEvent.Kind.UPDATE);
    assertThat(ping.source()).isEqualTo(IpPrefix.literal("192.0.2.1"));
    assertThat(List.of(ping.packetsOriginal(), ping.bytesOriginal(), ping.packetsReply(), ping.bytesReply()))
        .containsExactly(1L, 84L, 1L, 84L);
    assertThat(ping.mark()).isZero();
    FlowEvent.Flow udp = find(flows, 17, PEER_B).orElseThrow();
    assertThat(udp.source()).isEqualTo(IpPrefix.literal("198.51.100.1"));
    assertThat(udp.destinationPort()).isEqualTo(7000);
    assertThat(udp.mark()).isEqualTo(7);
    assertThat(udp.packetsReply()).isZero();
  }

  @Test
  void aNewFlowIsAnnounced() throws Exception {
    try (NetEvents.Subscription ignored = conntrack().subscribe(events::add)) {
      pingFromDevice(PEER_A);
      FlowEvent.Flow created = await(f -> f.kind() == FlowEvent.Kind.NEW && f.protocol() == 1, "new ping flow");
      assertThat(created.destination()).isEqualTo(IpPrefix.literal(PEER_A));
      assertThat(conntrack().dump()).extracting(FlowEvent.Flow::id).containsExactly(created.id());
    }
  }

  @Test
  void deletingByDestinationRemovesOnlyThoseFlowsAndAnnouncesTheirDestruction() throws Exception {
    // Subscribed first: with nf_conntrack_events=2 (the default) the kernel announces only the
    // flows that began while someone listened.
    try (NetEvents.Subscription ignored = conntrack().subscribe(events::add)) {
      pingFromDevice(PEER_A);
      udpFromDevice(PEER_B, 7000);
      udpFromDevice(PEER_B, 7001);
      FlowFilter towardsB = new FlowFilter(Optional.empty(), Optional.empty(),
          Optional.of(IpPrefix.parse("198.51.100.0/24")), Optional.empty(), 0);
      assertThat(conntrack().delete(towardsB)).isEqualTo(2);
      FlowEvent.Flow first = await(f -> f.kind() == FlowEvent.Kind.DESTROY, "destroyed flow");
      FlowEvent.Flow second = await(f -> f.kind() == FlowEvent.Kind.DESTROY, "second destroyed flow");
      assertThat(List.of(first.destinationPort(), second.destinationPort())).containsExactlyInAnyOrder(7000, 7001);
      assertThat(second.destination()).isEqualTo(IpPrefix.literal(PEER_B));
      List<FlowEvent.Flow> left = conntrack().dump();
      assertThat(left).extracting(FlowEvent.Flow::destination).containsExactly(IpPrefix.literal(PEER_A));
    }
  }

  @Test
  void deletingByMarkAndBySourceMatchesExactly() {
    pingFromDevice(PEER_A);
    udpFromDevice(PEER_B, 7000);
    udpFromDevice(PEER_B, 7001);
    assertThat(conntrack().delete(FlowFilter.withMark(7, 0xff))).isEqualTo(1);
    assertThat(conntrack().dump()).noneMatch(f -> f.destinationPort() == 7000).hasSize(2);
    assertThat(conntrack().delete(FlowFilter.fromSource(IpPrefix.parse("192.0.2.1/32")))).isEqualTo(1);
    assertThat(conntrack().dump()).singleElement()
        .satisfies(f -> assertThat(f.destinationPort()).isEqualTo(7001));
    assertThat(conntrack().delete(FlowFilter.ALL)).isEqualTo(1);
    assertThat(conntrack().dump()).isEmpty();
    assertThat(conntrack().delete(FlowFilter.ALL)).isZero();
  }

  @Test
  void aForwardedMasqueradedFlowIsTrackedByItsOriginalTupleAndDeletedBySource() {
    pingFromAToBThroughDevice();
    pingFromDevice(PEER_A);
    FlowEvent.Flow forwarded = find(conntrack().dump(), 1, PEER_B).orElseThrow();
    assertThat(forwarded.source()).isEqualTo(IpPrefix.literal(PEER_A));
    assertThat(List.of(forwarded.packetsOriginal(), forwarded.packetsReply())).containsExactly(1L, 1L);
    assertThat(conntrack().delete(FlowFilter.fromSource(IpPrefix.parse(PEER_A + "/32")))).isEqualTo(1);
    assertThat(conntrack().dump()).singleElement()
        .satisfies(f -> assertThat(f.source()).isEqualTo(IpPrefix.literal("192.0.2.1")));
  }
}
