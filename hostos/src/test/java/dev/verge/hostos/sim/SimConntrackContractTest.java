package dev.verge.hostos.sim;

import dev.verge.hostos.Conntrack;
import dev.verge.hostos.ConntrackContract;
import dev.verge.hostos.FlowEvent;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;

/** The conntrack contract on the sim: the world's traffic is injected as the kernel would track it. */
class SimConntrackContractTest extends ConntrackContract {
  private final SimConntrack conntrack = new SimConntrack();
  private final AtomicInteger ports = new AtomicInteger(40000);

  @AfterEach
  void close() {
    conntrack.close();
  }

  @Override
  protected Conntrack conntrack() {
    return conntrack;
  }

  private static String deviceAddressFacing(String peer) {
    return peer.equals(PEER_A) ? "192.0.2.1" : "198.51.100.1";
  }

  @Override
  protected void pingFromDevice(String peer) {
    FlowEvent.Flow flow = conntrack.track(1, deviceAddressFacing(peer), ports.incrementAndGet(), peer, 0);
    conntrack.update(flow.id(), f -> new FlowEvent.Flow(f.kind(), f.id(), f.protocol(), f.source(),
        f.destination(), f.sourcePort(), f.destinationPort(), 1, 84, 1, 84, 0));
  }

  @Override
  protected void udpFromDevice(String peer, int port) {
    FlowEvent.Flow flow = conntrack.track(17, deviceAddressFacing(peer), ports.incrementAndGet(), peer, port);
    int mark = port == 7000 ? 7 : 0;
    conntrack.update(flow.id(), f -> new FlowEvent.Flow(f.kind(), f.id(), f.protocol(), f.source(),
        f.destination(), f.sourcePort(), f.destinationPort(), 1, 30, 0, 0, mark));
  }

  @Override
  protected void pingFromAToBThroughDevice() {
    FlowEvent.Flow flow = conntrack.track(1, PEER_A, ports.incrementAndGet(), PEER_B, 0);
    conntrack.update(flow.id(), f -> new FlowEvent.Flow(f.kind(), f.id(), f.protocol(), f.source(),
        f.destination(), f.sourcePort(), f.destinationPort(), 1, 84, 1, 84, 0));
  }
}
