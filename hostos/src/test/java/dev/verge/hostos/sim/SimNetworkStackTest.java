package dev.verge.hostos.sim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.hostos.Errno;
import dev.verge.hostos.EventRecorder;
import dev.verge.hostos.HostException;
import dev.verge.hostos.IpPrefix;
import dev.verge.hostos.Link;
import dev.verge.hostos.MacAddress;
import dev.verge.hostos.VfSettings;
import dev.verge.hostos.LinkSpec;
import dev.verge.hostos.NetEvent.Change;
import dev.verge.hostos.NetEvents;
import dev.verge.hostos.NetworkStack;
import dev.verge.hostos.NetworkStackContract;
import dev.verge.hostos.NetEvent;
import dev.verge.testkit.UncaughtFailures;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The contract on the sim, which supports every kind, plus what only the sim can do: faults. */
class SimNetworkStackTest extends NetworkStackContract {
  private final SimKernel kernel = new SimKernel();
  private final SimKernel other = kernel.namespaces().create("other");

  @Override
  protected NetworkStack stack() {
    return kernel;
  }

  @Override
  protected NetworkStack otherStack() {
    return other;
  }

  @Override
  protected String otherNamespace() {
    return "other";
  }

  @Override
  protected void silence(String link) {
    // the sim sends nothing of its own
  }

  @Override
  protected void sendPings(String link, String destination, int count) {
    kernel.transmit(link, count, 98);
  }

  @Override
  protected boolean supports(String kind) {
    return true;
  }

  @AfterEach
  void closeKernel() {
    kernel.close();
    other.close();
  }

  @Test
  void synchronousDeliveryHandsEveryEventOverBeforeTheChangeReturns() {
    kernel.deliverEventsSynchronously();
    List<NetEvent> seen = new CopyOnWriteArrayList<>();
    List<String> threads = new CopyOnWriteArrayList<>();
    try (NetEvents.Subscription ignored = kernel.subscribe(e -> {
      seen.add(e);
      threads.add(Thread.currentThread().getName());
    })) {
      kernel.createLink("v1", new LinkSpec.Veth("v1p"));
      assertThat(seen).extracting(e -> ((NetEvent.LinkEvent) e).link().name()).containsExactly("v1", "v1p");
      kernel.setUp("v1", true);
      assertThat(seen).hasSize(3);
      assertThat(threads).containsOnly(Thread.currentThread().getName());
    }
  }

  @Test
  void awaitingDeliveryReturnsOnlyOnceASlowListenerHasSeenEveryEvent() {
    List<NetEvent> seen = new CopyOnWriteArrayList<>();
    try (NetEvents.Subscription ignored = kernel.subscribe(e -> {
      sleep(100);
      seen.add(e);
    })) {
      kernel.createLink("v1", new LinkSpec.Veth("v1p"));
      kernel.createLink("br1", new LinkSpec.Bridge(false));
      kernel.awaitEventsDelivered();
      assertThat(seen).extracting(e -> ((NetEvent.LinkEvent) e).link().name()).containsExactly("v1", "v1p", "br1");
    }
  }

  @Test
  void aListenerThatThrowsIsReportedAndTheNextEventsStillArrive() {
    UncaughtFailures.expect("listener bug on v1p");
    kernel.deliverEventsSynchronously();
    List<String> seen = new CopyOnWriteArrayList<>();
    try (NetEvents.Subscription ignored = kernel.subscribe(e -> {
      String name = ((NetEvent.LinkEvent) e).link().name();
      if (name.equals("v1p")) {
        throw new IllegalStateException("listener bug on " + name);
      }
      seen.add(name);
    })) {
      kernel.createLink("v1", new LinkSpec.Veth("v1p"));
      kernel.createLink("br1", new LinkSpec.Bridge(false));
    }
    assertThat(seen).containsExactly("v1", "br1");
    assertThat(UncaughtFailures.seen()).hasSize(1);
  }

  @Test
  void aLinkMovedBetweenSimNamespacesTakesAFreeIndexWhenItsOwnIsTaken() {
    kernel.createLink("v1", new LinkSpec.Veth("v1p"));
    other.createLink("o1", new LinkSpec.Bridge(false));
    other.createLink("o2", new LinkSpec.Bridge(false));
    int index = kernel.link("v1p").orElseThrow().index();
    assertThat(other.link("o2").orElseThrow().index()).isEqualTo(index);
    kernel.moveToNamespace("v1p", "other");
    assertThat(other.link("v1p").orElseThrow().index()).isEqualTo(4);
    assertThat(kernel.link("v1").orElseThrow().parentIndex()).isEqualTo(4);
    other.createLink("o3", new LinkSpec.Bridge(false));
    assertThat(other.link("o3").orElseThrow().index()).isEqualTo(5);
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Test
  void theNthCallOfAnOperationFailsWithThePlannedErrnoAndChangesNothing() {
    kernel.faults().failNth(SimOperation.CREATE_LINK, 2, Errno.ENOMEM);
    kernel.createLink("br1", new LinkSpec.Bridge(false));
    HostException injected = refusal(() -> kernel.createLink("br2", new LinkSpec.Bridge(false)));
    assertThat(injected.errno()).isEqualTo(Errno.ENOMEM);
    assertThat(injected.getMessage())
        .isEqualTo("cannot create bridge br2: injected fault: Cannot allocate memory (ENOMEM)");
    assertThat(kernel.link("br2")).isEmpty();
    kernel.createLink("br2", new LinkSpec.Bridge(false));
    assertThat(kernel.link("br2")).isPresent();
  }

  @Test
  void faultsCountEachOperationSeparately() {
    kernel.createLink("v1", new LinkSpec.Veth("v1p"));
    kernel.faults().failNth(SimOperation.ADD_ADDRESS, 1, Errno.ENOSPC);
    kernel.setUp("v1", true);
    assertThat(refusal(() -> kernel.addAddress("v1", IpPrefix.parse("192.0.2.1/24"))).errno())
        .isEqualTo(Errno.ENOSPC);
    assertThat(kernel.addresses("v1")).isEmpty();
  }

  @Test
  void unpluggingTheCableDropsCarrierAndSubscribersHearIt() {
    kernel.createLink("v1", new LinkSpec.Veth("v1p"));
    kernel.setUp("v1", true);
    kernel.setUp("v1p", true);
    EventRecorder events = new EventRecorder();
    try (NetEvents.Subscription ignored = kernel.subscribe(events)) {
      kernel.setCarrier("v1", false);
      events.awaitLink(Change.NEW, "v1", l -> l.up() && !l.carrier());
      assertThat(kernel.link("v1").map(Link::carrier)).contains(false);
      kernel.setCarrier("v1", true);
      events.awaitLink(Change.NEW, "v1", Link::carrier);
    }
  }

  @Test
  void vfSettingsOfAPhysicalNicAreKeptPerVfAndMergedWithWhatWasThere() {
    kernel.plugNic("eth0", 4);
    kernel.setVf("eth0", VfSettings.of(1).withMac(MacAddress.of("02:00:00:00:01:01")).withVlan(100));
    kernel.setVf("eth0", VfSettings.of(1).withTrust(true).withLinkState(VfSettings.LinkState.DISABLE));
    VfSettings vf = kernel.vfs("eth0").get(1);
    assertThat(vf.mac()).contains(MacAddress.of("02:00:00:00:01:01"));
    assertThat(vf.vlan()).contains(100);
    assertThat(vf.trust()).contains(true);
    assertThat(vf.spoofCheck()).contains(true);
    assertThat(vf.linkState()).contains(VfSettings.LinkState.DISABLE);
    assertThat(kernel.vfs("eth0")).hasSize(4);
    assertThat(refusal(() -> kernel.setVf("eth0", VfSettings.of(4).withTrust(true))).errno())
        .isEqualTo(Errno.EINVAL);
  }

  @Test
  void aVlanOnABondOnVethsFollowsTheCarrierOfThePorts() {
    kernel.createLink("v1", new LinkSpec.Veth("v1p"));
    kernel.createLink("bond0", LinkSpec.Bond.of(LinkSpec.BondMode.LACP_802_3AD));
    kernel.setMaster("v1", "bond0");
    kernel.createLink("bond0.7", new LinkSpec.Vlan("bond0", 7));
    for (String name : new String[] {"v1", "v1p", "bond0", "bond0.7"}) {
      kernel.setUp(name, true);
    }
    assertThat(kernel.link("bond0.7").map(Link::carrier)).contains(true);
    kernel.setCarrier("v1", false);
    assertThat(kernel.link("bond0").map(Link::carrier)).contains(false);
    assertThat(kernel.link("bond0.7").map(Link::carrier)).contains(false);
  }
}
