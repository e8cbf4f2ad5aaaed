package dev.verge.hostos.linux;

import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.hostos.BridgePortSettings;
import dev.verge.hostos.Errno;
import dev.verge.hostos.HostException;
import dev.verge.hostos.Link;
import dev.verge.hostos.LinkSpec;
import dev.verge.hostos.NetEvent;
import dev.verge.hostos.NetEvents;
import dev.verge.hostos.NetworkStack;
import dev.verge.hostos.NetworkStackContract;
import dev.verge.netlab.Exec;
import dev.verge.netlab.NetTopology;
import dev.verge.netlab.Netns;
import dev.verge.netlab.Root;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The contract on the real kernel, inside a throw-away namespace entered only by our thread. */
class LinuxNetworkStackIT extends NetworkStackContract {
  private static NetTopology topology;
  private static Netns namespace;
  private static LinuxNetworkStack stack;
  private static Netns otherNamespace;
  private static LinuxNetworkStack otherStack;
  private static Map<String, Boolean> kernelSupports;

  @BeforeAll
  static void openNamespace() {
    Assumptions.assumeTrue(Root.isRoot(), "needs root");
    topology = NetTopology.create("hostos");
    namespace = topology.namespace("dev");
    kernelSupports =
        Map.of("vlan", probe("link", "pp0", "type", "vlan", "id", "5"),
            "bond", probe("type", "bond"),
            "vrf", probe("type", "vrf", "table", "77"),
            "bridge-vlan-filtering", probe("type", "bridge", "vlan_filtering", "1"));
    stack = LinuxNetworkStack.inNamespace(namespace.name());
    otherNamespace = topology.namespace("other");
    otherStack = LinuxNetworkStack.inNamespace(otherNamespace.name());
  }

  /** Asks iproute2, an independent witness, whether this kernel can make a kind of link. */
  private static boolean probe(String... typeArguments) {
    namespace.ip("link", "add", "pp0", "type", "veth", "peer", "name", "pp1");
    try {
      List<String> command = new ArrayList<>(List.of("ip", "link", "add", "probe0"));
      command.addAll(List.of(typeArguments));
      return namespace.exec(command.toArray(String[]::new)).ok();
    } finally {
      namespace.exec("ip", "link", "del", "probe0");
      namespace.ip("link", "del", "pp0");
    }
  }

  @AfterAll
  static void closeNamespace() {
    if (stack != null) {
      stack.close();
    }
    if (otherStack != null) {
      otherStack.close();
    }
    if (topology != null) {
      topology.close();
    }
  }

  @AfterEach
  void removeTestLinks() {
    removeLinks(stack);
    removeLinks(otherStack);
  }

  private static void removeLinks(LinuxNetworkStack stack) {
    for (Link link : stack.links()) {
      if (!link.name().equals("lo")) {
        try {
          stack.deleteLink(link.name());
        } catch (HostException e) {
          if (!e.errno().equals(Errno.ENODEV)) { // a veth peer goes with its other end
            throw e;
          }
        }
      }
    }
  }

  @Override
  protected NetworkStack stack() {
    return stack;
  }

  @Override
  protected NetworkStack otherStack() {
    return otherStack;
  }

  @Override
  protected String otherNamespace() {
    return otherNamespace.name();
  }

  @Override
  protected void silence(String link) {
    namespace.execOk("sysctl", "-qw", "net.ipv6.conf." + link + ".disable_ipv6=1");
  }

  @Override
  protected void sendPings(String link, String destination, int count) {
    // no answer comes, so ping exits non-zero; it has sent them all by then
    namespace.exec("ping", "-n", "-q", "-c", Integer.toString(count), "-i", "0.05", "-W", "1", "-I", link, destination);
  }

  @Test
  void bridgePortFlagsAgreeWithTheBridgeCommand() {
    String a = name("bp");
    String bridge = name("br");
    stack.createLink(a, new LinkSpec.Veth(a + "p"));
    stack.createLink(bridge, new LinkSpec.Bridge(false));
    stack.setMaster(a, bridge);
    stack.setBridgePort(a, BridgePortSettings.NONE.withLearning(false).withUnicastFlood(false)
        .withMulticastFlood(false).withHairpin(true).withIsolated(true).withNeighbourSuppression(true));
    String shown = namespace.execOk("bridge", "-d", "link", "show", "dev", a);
    assertThat(shown).contains("hairpin on").contains("learning off").contains(" flood off")
        .contains("mcast_flood off").contains("bcast_flood on").contains("neigh_suppress on").contains("isolated on");
    namespace.execOk("bridge", "link", "set", "dev", a, "isolated", "off", "bcast_flood", "off");
    assertThat(stack.bridgePort(a).isolated()).contains(false);
    assertThat(stack.bridgePort(a).broadcastFlood()).contains(false);
  }

  @Override
  protected boolean supports(String kind) {
    return kernelSupports.get(kind);
  }

  @Test
  void theStackActsInsideItsNamespaceAndNotInTheMachinesOwn() {
    String a = name("own");
    stack.createLink(a, new LinkSpec.Bridge(false));
    assertThat(namespace.ip("-o", "link", "show")).contains(a);
    assertThat(Exec.run("ip", "-o", "link", "show").stdout()).doesNotContain(": " + a + ":");
  }

  @Test
  void whatTheStackReportsAgreesWithIproute2() {
    String a = name("agree");
    stack.createLink(a, new LinkSpec.Veth(a + "p"));
    stack.setMtu(a, 1400);
    Link link = stack.link(a).orElseThrow();
    String shown = namespace.ip("-o", "link", "show", "dev", a);
    assertThat(shown).startsWith(link.index() + ": " + a + "@" + a + "p:").contains("mtu 1400")
        .contains("link/ether " + link.mac());
  }

  @Test
  void whenTheEventSocketOverflowsTheSubscriberGetsTheWholeStateAgainAndEndsUpRight()
      throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger resyncs = new AtomicInteger();
    Set<String> known = ConcurrentHashMap.newKeySet();
    try (NetEvents.Subscription ignored =
        stack.subscribe(
            event -> {
              awaitQuietly(release);
              if (event instanceof NetEvent.Resynced state) {
                resyncs.incrementAndGet();
                known.clear();
                state.links().forEach(l -> known.add(l.name()));
              } else if (event instanceof NetEvent.LinkEvent change) {
                if (change.change() == NetEvent.Change.DELETED) {
                  known.remove(change.link().name());
                } else {
                  known.add(change.link().name());
                }
              }
            },
            4096)) {
      // The listener holds the reader thread, so the tiny socket buffer must overflow.
      for (int i = 0; i < 60; i++) {
        stack.createLink("of" + i, new LinkSpec.Bridge(false));
      }
      release.countDown();
      Set<String> actual = new HashSet<>();
      stack.links().forEach(l -> actual.add(l.name()));
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!known.equals(actual) && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(resyncs.get()).as("Resynced events").isPositive();
      assertThat(known).isEqualTo(actual).contains("of0", "of59");
    }
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
