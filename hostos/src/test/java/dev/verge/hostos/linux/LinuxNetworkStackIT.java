package dev.verge.hostos.linux;

import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.hostos.BridgePortSettings;
import dev.verge.hostos.Errno;
import dev.verge.hostos.HostException;
import dev.verge.hostos.Link;
import dev.verge.hostos.LinkSpec;
import dev.verge.hostos.LinkSpec.BondMode;
import dev.verge.hostos.LinkSpec.LacpRate;
import dev.verge.hostos.NetEvent;
import dev.verge.hostos.NetEvents;
import dev.verge.hostos.NetworkStack;
import dev.verge.hostos.NetworkStackContract;
import dev.verge.netlab.Exec;
import dev.verge.netlab.NetTopology;
import dev.verge.netlab.Netns;
import dev.verge.netlab.Root;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Optional;
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
        new java.util.TreeMap<>(Map.of("vlan", probe("link", "pp0", "type", "vlan", "id", "5"),
            "bond", probe("type", "bond"),
            "vrf", probe("type", "vrf", "table", "77"),
            "bridge-vlan-filtering", probe("type", "bridge", "vlan_filtering", "1")));
    // which branch the capability-dependent tests take here, in the test log
    System.out.println("LinuxNetworkStackIT: kernel " + System.getProperty("os.version") + " supports " + kernelSupports);
    if (Boolean.getBoolean("verge.lab")) {
      // the lab VM's kernel has them all: a missing module must not pass as a precise refusal
      assertThat(kernelSupports).as("kernel features in the lab VM").doesNotContainValue(false);
    }
    stack = LinuxNetworkStack.inNamespace(namespace.name());
    otherNamespace = topology.namespace("other");
    otherStack = LinuxNetworkStack.inNamespace(otherNamespace.name());
  }

  /**
   * Asks iproute2, an independent witness, whether this kernel can make a kind of link. In a
   * namespace of its own: making a VRF, iproute2 also adds the l3mdev rule (pref 1000), which
   * must not show up in the rules the tests see.
   */
  private static boolean probe(String... typeArguments) {
    Netns probes = topology.namespace("probe" + PROBES.incrementAndGet());
    probes.ip("link", "add", "pp0", "type", "veth", "peer", "name", "pp1");
    List<String> command = new ArrayList<>(List.of("ip", "link", "add", "probe0"));
    command.addAll(List.of(typeArguments));
    return probes.exec(command.toArray(String[]::new)).ok();
  }

  private static final AtomicInteger PROBES = new AtomicInteger();

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

  /**
   * Every bond mode, MII and ARP monitoring, LACP rate and the primary port reach the kernel as
   * asked, with iproute2 as the witness; a kernel without bonding refuses each precisely.
   */
  @Test
  void bondModesMonitoringAndLacpRateReachTheKernelAsIproute2ShowsThemOrArePreciselyRefused() throws Exception {
    String member = name("bm");
    stack.createLink(member, new LinkSpec.Veth(member + "p"));
    List<Inet4Address> targets = List.of((Inet4Address) InetAddress.getByName("192.0.2.1"),
        (Inet4Address) InetAddress.getByName("192.0.2.2"));
    Map<LinkSpec.Bond, Map<String, Object>> expected = new java.util.LinkedHashMap<>();
    expected.put(new LinkSpec.Bond(BondMode.ACTIVE_BACKUP, 100, 200, 300, 0, List.of(), LacpRate.SLOW, Optional.of(member)),
        Map.of("mode", "active-backup", "miimon", 100, "updelay", 200, "downdelay", 300, "primary", member));
    expected.put(new LinkSpec.Bond(BondMode.ACTIVE_BACKUP, 0, 0, 0, 250, targets, LacpRate.SLOW, Optional.empty()),
        Map.of("mode", "active-backup", "miimon", 0, "arp_interval", 250, "arp_ip_target", List.of("192.0.2.1", "192.0.2.2")));
    expected.put(new LinkSpec.Bond(BondMode.LACP_802_3AD, 100, 0, 0, 0, List.of(), LacpRate.FAST, Optional.empty()),
        Map.of("mode", "802.3ad", "miimon", 100, "ad_lacp_rate", "fast"));
    expected.put(new LinkSpec.Bond(BondMode.LACP_802_3AD, 50, 0, 0, 0, List.of(), LacpRate.SLOW, Optional.empty()),
        Map.of("mode", "802.3ad", "miimon", 50, "ad_lacp_rate", "slow"));
    Map<BondMode, String> others = Map.of(BondMode.BALANCE_RR, "balance-rr", BondMode.BALANCE_XOR, "balance-xor",
        BondMode.BROADCAST, "broadcast", BondMode.BALANCE_TLB, "balance-tlb", BondMode.BALANCE_ALB, "balance-alb");
    others.forEach((mode, shown) -> expected.put(LinkSpec.Bond.of(mode), Map.of("mode", shown, "miimon", 100)));

    for (Map.Entry<LinkSpec.Bond, Map<String, Object>> bondCase : expected.entrySet()) {
      String bond = name("bo");
      if (!supports("bond")) {
        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> stack.createLink(bond, bondCase.getKey())))
            .isInstanceOf(HostException.class)
            .hasMessage("cannot create bond " + bond + ": kernel has no bonding support (EOPNOTSUPP)");
        continue;
      }
      stack.createLink(bond, bondCase.getKey());
      if (bondCase.getKey().primary().isPresent()) {
        stack.setMaster(member, bond); // the kernel shows a primary once it is a port
      }
      String json = namespace.execOk("ip", "-d", "-j", "link", "show", "dev", bond);
      Map<String, Object> shown = new com.fasterxml.jackson.databind.ObjectMapper()
          .readValue(json, new com.fasterxml.jackson.core.type.TypeReference<List<Map<String, Object>>>() {}).get(0);
      @SuppressWarnings("unchecked")
      Map<String, Object> data = (Map<String, Object>) ((Map<String, Object>) shown.get("linkinfo")).get("info_data");
      assertThat(data).as("%s for %s", json, bondCase.getKey()).containsAllEntriesOf(bondCase.getValue());
      stack.deleteLink(bond);
    }
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
