package dev.verge.hostos.linux;

import dev.verge.hostos.Conntrack;
import dev.verge.hostos.ConntrackContract;
import dev.verge.netlab.NetTopology;
import dev.verge.netlab.Netns;
import dev.verge.netlab.Root;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;

/** The conntrack contract on the kernel: real flows from a device namespace to two peers. */
class LinuxConntrackContractIT extends ConntrackContract {
  private static NetTopology topology;
  private static Netns device;
  private static Netns peerA;
  private LinuxConntrack conntrack;

  @BeforeAll
  static void buildTopology() {
    Assumptions.assumeTrue(Root.isRoot(), "needs root");
    topology = NetTopology.create("hostos-ctc");
    device = topology.namespace("dev");
    peerA = topology.namespace("a");
    Netns peerB = topology.namespace("b");
    topology.veth(device, "eth0", peerA, "eth0");
    topology.veth(device, "eth1", peerB, "eth0");
    device.address("eth0", "192.0.2.1/24").address("eth1", "198.51.100.1/24");
    peerA.address("eth0", PEER_A + "/24").defaultRoute("192.0.2.1");
    device.forwarding();
    peerB.address("eth0", PEER_B + "/24");
    device.execOk("sysctl", "-qw", "net.netfilter.nf_conntrack_acct=1");
    // An ip-family ruleset that uses conntrack makes the kernel track this namespace's IPv4 (only),
    // and marks the UDP flows to port 7000.
    device.execOk("nft", "add table ip track; add chain ip track out { type filter hook output priority 0; };"
        + " add rule ip track out ct state new udp dport 7000 ct mark set 7;"
        + " add chain ip track post { type nat hook postrouting priority 100; };"
        + " add rule ip track post oifname eth1 masquerade");
  }

  @AfterAll
  static void removeTopology() {
    if (topology != null) {
      topology.close();
    }
  }

  @BeforeEach
  void open() {
    conntrack = LinuxConntrack.inNamespace(device.name());
  }

  @AfterEach
  void emptyTheTable() {
    if (conntrack != null) {
      conntrack.close();
    }
    device.exec("conntrack", "-F");
  }

  @Override
  protected Conntrack conntrack() {
    return conntrack;
  }

  @Override
  protected void pingFromDevice(String peer) {
    if (!device.ping(peer, Duration.ofSeconds(2))) {
      throw new AssertionError("ping to " + peer + " unanswered");
    }
  }

  @Override
  protected void udpFromDevice(String peer, int port) {
    device.execOk("bash", "-c", "echo datagram > /dev/udp/" + peer + "/" + port);
  }

  @Override
  protected void pingFromAToBThroughDevice() {
    if (!peerA.ping(PEER_B, Duration.ofSeconds(2))) {
      throw new AssertionError("ping from A to B through the device unanswered");
    }
  }
}
