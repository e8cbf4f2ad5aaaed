package dev.verge.hostos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.verge.hostos.LinkSpec.Bond;
import dev.verge.hostos.LinkSpec.BondMode;
import dev.verge.hostos.LinkSpec.Bridge;
import dev.verge.hostos.LinkSpec.MacvlanMode;
import dev.verge.hostos.LinkSpec.Veth;
import dev.verge.hostos.NetEvent.Change;
import java.net.InetAddress;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

/**
 * What every {@link NetworkStack} must do, checked against the real kernel (as an IT inside a fresh
 * namespace) and against the sim, so the sim cannot drift from the kernel.
 */
public abstract class NetworkStackContract {
  private static final AtomicInteger NAMES = new AtomicInteger();

  /** The stack under test, empty but for loopback. */
  protected abstract NetworkStack stack();

  /** Whether this backend can create links of a kind (the linux run asks iproute2). */
  protected abstract boolean supports(String kind);

  /** A second namespace of the same backend, empty but for loopback, that links can move into. */
  protected abstract NetworkStack otherStack();

  /** The name {@link #otherStack()} is known by to {@link Links#moveToNamespace}. */
  protected abstract String otherNamespace();

  /**
   * Keeps a link from sending anything of its own (IPv6 autoconfiguration and its solicitations);
   * called before the link goes up.
   */
  protected abstract void silence(String link);

  /**
   * Makes {@code link} send {@code count} ICMP echo requests (98-byte frames) to {@code destination},
   * a neighbour with a static entry that nobody answers, and waits until they are sent.
   */
  protected abstract void sendPings(String link, String destination, int count);

  protected Link otherLink(String name) {
    return otherStack().link(name).orElseThrow(() -> new AssertionError("no link " + name + " there"));
  }

  /** A link name no other test uses (links of the Linux run share one namespace). */
  protected static String name(String prefix) {
    return prefix + NAMES.incrementAndGet();
  }

  protected Link link(String name) {
    return stack().link(name).orElseThrow(() -> new AssertionError("no link " + name));
  }

  protected static HostException refusal(ThrowingCallable call) {
    Throwable thrown = org.assertj.core.api.Assertions.catchThrowable(call);
    assertThat(thrown).isInstanceOf(HostException.class);
    return (HostException) thrown;
  }

  private String vethPair() {
    String a = name("va");
    stack().createLink(a, new Veth(a + "p"));
    return a;
  }

  // ---- batches

  @Test
  void aBatchGoesInOrderAndRefusesEachOperationAsItsSingleCallWould() {
    String a = name("ba");
    String missing = name("nosuch");
    IpPrefix prefix = IpPrefix.parse("192.0.2.7/24");
    List<Optional<HostException>> outcomes =
        stack().apply(List.of(
            new NetOperation.CreateLink(a, new Veth(a + "p")),
            new NetOperation.AddAddress(a, prefix), // needs the link created just before
            new NetOperation.AddAddress(a, prefix),
            new NetOperation.AddAddress(missing, prefix),
            new NetOperation.CreateLink(a, new Veth(a + "q")),
            new NetOperation.CreateLink("bad name", new Veth(a + "r")),
            new NetOperation.DeleteAddress(a + "p", prefix),
            new NetOperation.AddAddress(a + "p", prefix)));
    assertThat(outcomes).hasSize(8);
    assertThat(outcomes.get(0)).isEmpty();
    assertThat(outcomes.get(1)).isEmpty();
    assertThat(outcomes.get(7)).isEmpty();
    assertThat(stack().addresses(a)).extracting(Address::prefix).containsExactly(prefix);
    assertThat(stack().addresses(a + "p")).extracting(Address::prefix).containsExactly(prefix);
    // the same refusals, word for word, as the single calls in the state the batch left
    assertSameRefusal(outcomes.get(2), () -> stack().addAddress(a, prefix));
    assertSameRefusal(outcomes.get(3), () -> stack().addAddress(missing, prefix));
    assertSameRefusal(outcomes.get(4), () -> stack().createLink(a, new Veth(a + "q")));
    assertSameRefusal(outcomes.get(5), () -> stack().createLink("bad name", new Veth(a + "r")));
    assertThat(outcomes.get(6)).isPresent();
    assertThat(outcomes.get(6).get().getMessage())
        .startsWith("cannot delete address " + prefix + " on " + a + "p: ");
    assertThat(stack().link(a + "q")).isEmpty();
  }

  @Test
  void aRunOfDeletionsDeletesEveryLinkAndRefusesOnlyTheMissingOneNamingIt() {
    List<String> pairs = List.of(vethPair(), vethPair(), vethPair(), vethPair(), vethPair());
    String missing = name("nosuch");
    List<NetOperation> deletions = new java.util.ArrayList<>();
    pairs.forEach(a -> deletions.add(new NetOperation.DeleteLink(a)));
    deletions.add(2, new NetOperation.DeleteLink(missing));
    List<Optional<HostException>> outcomes = stack().apply(deletions);
    assertThat(outcomes.get(2).map(HostException::getMessage))
        .contains("cannot delete link " + missing + ": no link named " + missing + " (ENODEV)");
    assertThat(outcomes).filteredOn(Optional::isPresent).hasSize(1);
    for (String a : pairs) {
      assertThat(stack().link(a)).isEmpty();
      assertThat(stack().link(a + "p")).isEmpty();
    }
  }

  @Test
  void laterOperationsOfABatchSeeWhatEarlierDeletionsLeft() {
    String a = vethPair();
    IpPrefix prefix = IpPrefix.parse("198.51.100.9/32");
    List<Optional<HostException>> outcomes =
        stack().apply(List.of(
            new NetOperation.DeleteLink(a),
            new NetOperation.CreateLink(a, new Bridge(false)),
            new NetOperation.AddAddress(a, prefix),
            new NetOperation.AddAddress(a + "p", prefix)));
    assertThat(outcomes.subList(0, 3)).allMatch(Optional::isEmpty);
    assertThat(link(a).kind()).isEqualTo("bridge");
    assertThat(stack().addresses(a)).extracting(Address::prefix).containsExactly(prefix);
    assertThat(outcomes.get(3).map(HostException::errno)).contains(Errno.ENODEV);
  }

  private static void assertSameRefusal(Optional<HostException> batched, ThrowingCallable single) {
    assertThat(batched).isPresent();
    HostException alone = refusal(single);
    assertThat(batched.get().getMessage()).isEqualTo(alone.getMessage());
    assertThat(batched.get().errno()).isEqualTo(alone.errno());
  }

  // ---- links

  @Test
  void aVethPairIsTwoDownLinksThatNameEachOtherAsParent() {
    String a = vethPair();
    Link end = link(a);
    Link peer = link(a + "p");
    assertThat(end.kind()).isEqualTo("veth");
    assertThat(peer.kind()).isEqualTo("veth");
    assertThat(end.up()).isFalse();
    assertThat(end.parentIndex()).isEqualTo(peer.index());
    assertThat(peer.parentIndex()).isEqualTo(end.index());
    assertThat(stack().links()).extracting(Link::name).contains("lo", a, a + "p");
  }

  @Test
  void deletingOneVethEndDeletesItsPeer() {
    String a = vethPair();
    stack().deleteLink(a);
    assertThat(stack().link(a)).isEmpty();
    assertThat(stack().link(a + "p")).isEmpty();
  }

  @Test
  void aVethHasCarrierOnlyWhileBothEndsAreUp() {
    String a = vethPair();
    stack().setUp(a, true);
    assertThat(link(a).carrier()).isFalse();
    stack().setUp(a + "p", true);
    assertThat(link(a).carrier()).isTrue();
    stack().setUp(a + "p", false);
    assertThat(link(a).up()).isTrue();
    assertThat(link(a).carrier()).isFalse();
  }

  @Test
  void mtuChangesAndAnMtuOutOfRangeIsRefusedLeavingTheOldOne() {
    String a = vethPair();
    stack().setMtu(a, 9000);
    assertThat(link(a).mtu()).isEqualTo(9000);
    HostException tooBig = refusal(() -> stack().setMtu(a, 70_000));
    assertThat(tooBig.errno()).isEqualTo(Errno.EINVAL);
    assertThat(tooBig.getMessage()).startsWith("cannot set mtu " + a + " to 70000: ");
    assertThat(refusal(() -> stack().setMtu(a, 10)).errno()).isEqualTo(Errno.EINVAL);
    assertThat(link(a).mtu()).isEqualTo(9000);
  }

  @Test
  void macChangesAndAMulticastMacIsRefused() {
    String a = vethPair();
    stack().setMac(a, MacAddress.of("02:00:00:00:00:42"));
    assertThat(link(a).mac()).isEqualTo(MacAddress.of("02:00:00:00:00:42"));
    HostException multicast = refusal(() -> stack().setMac(a, MacAddress.of("01:00:5e:00:00:01")));
    assertThat(multicast.errno()).isEqualTo(Errno.EADDRNOTAVAIL);
    assertThat(link(a).mac()).isEqualTo(MacAddress.of("02:00:00:00:00:42"));
  }

  @Test
  void renameKeepsTheIndexAndRefusesATakenName() {
    String a = vethPair();
    String renamed = name("rn");
    int index = link(a).index();
    assertThat(refusal(() -> stack().rename(a, a + "p")).errno()).isEqualTo(Errno.EEXIST);
    stack().rename(a, renamed);
    assertThat(link(renamed).index()).isEqualTo(index);
    assertThat(stack().link(a)).isEmpty();
  }

  @Test
  void namesTheKernelWouldRejectAreRefusedAndNothingIsCreated() {
    List<Link> before = stack().links();
    HostException tooLong = refusal(() -> stack().createLink("sixteen-chars-xx", new Bridge(false)));
    assertThat(tooLong.errno()).isEqualTo(Errno.EINVAL);
    assertThat(tooLong.getMessage())
        .isEqualTo("cannot create bridge sixteen-chars-xx: interface name is 16 characters,"
            + " the kernel allows 15 (EINVAL)");
    assertThat(refusal(() -> stack().createLink("a/b", new Bridge(false))).errno())
        .isEqualTo(Errno.EINVAL);
    assertThat(refusal(() -> stack().createLink("ok0", new Veth("bad peer"))).errno())
        .isEqualTo(Errno.EINVAL);
    assertThat(stack().links()).isEqualTo(before);
  }

  @Test
  void aSecondLinkWithTheSameNameIsRefusedWithEexist() {
    String a = vethPair();
    HostException duplicate = refusal(() -> stack().createLink(a, new Bridge(false)));
    assertThat(duplicate.errno()).isEqualTo(Errno.EEXIST);
    assertThat(duplicate.operation()).isEqualTo("create bridge");
    assertThat(link(a).kind()).isEqualTo("veth");
  }

  @Test
  void changingAMissingLinkFailsWithEnodevNamingIt() {
    HostException missing = refusal(() -> stack().deleteLink("nosuch0"));
    assertThat(missing.errno()).isEqualTo(Errno.ENODEV);
    assertThat(missing.getMessage())
        .isEqualTo("cannot delete link nosuch0: no link named nosuch0 (ENODEV)");
    assertThat(refusal(() -> stack().setUp("nosuch0", true)).errno()).isEqualTo(Errno.ENODEV);
  }

  @Test
  void deletingABridgeReleasesItsPorts() {
    String bridge = name("br");
    String a = vethPair();
    stack().createLink(bridge, new Bridge(false));
    stack().setMaster(a, bridge);
    assertThat(link(a).masterIndex()).isEqualTo(link(bridge).index());
    stack().deleteLink(bridge);
    assertThat(link(a).hasMaster()).isFalse();
  }

  @Test
  void aPortLeavesItsBridgeWhenTheMasterIsCleared() {
    String bridge = name("br");
    String a = vethPair();
    stack().createLink(bridge, new Bridge(false));
    stack().setMaster(a, bridge);
    stack().clearMaster(a);
    assertThat(link(a).hasMaster()).isFalse();
  }

  @Test
  void enslavingToALinkThatCannotBeAMasterIsRefused() {
    String a = vethPair();
    String b = vethPair();
    assertThat(refusal(() -> stack().setMaster(a, b)).errno()).isEqualTo(Errno.EOPNOTSUPP);
    assertThat(link(a).hasMaster()).isFalse();
  }

  @Test
  void aMacvlanStacksOnItsParentAndGoesWithIt() {
    String a = vethPair();
    String mac = name("mv");
    stack().createLink(mac, new LinkSpec.Macvlan(a, MacvlanMode.BRIDGE));
    assertThat(link(mac).kind()).isEqualTo("macvlan");
    assertThat(link(mac).parentIndex()).isEqualTo(link(a).index());
    stack().deleteLink(a);
    assertThat(stack().link(mac)).isEmpty();
  }

  @Test
  void aMacvtapNeedsItsParent() {
    HostException missing =
        refusal(() -> stack().createLink("mvt0", new LinkSpec.Macvtap("nosuch0", MacvlanMode.VEPA)));
    assertThat(missing.errno()).isEqualTo(Errno.ENODEV);
    assertThat(stack().link("mvt0")).isEmpty();
  }

  @Test
  void aTapIsCreatedPersistentAndDeletedLikeAnyLink() {
    String tap = name("tap");
    stack().createLink(tap, new LinkSpec.Tap());
    assertThat(link(tap).kind()).isEqualTo("tun");
    assertThat(refusal(() -> stack().createLink(tap, new LinkSpec.Tap())).errno())
        .isEqualTo(Errno.EEXIST);
    stack().deleteLink(tap);
    assertThat(stack().link(tap)).isEmpty();
  }

  @Test
  void aVxlanIsCreatedWithItsKind() {
    String vx = name("vx");
    stack().createLink(vx, new LinkSpec.Vxlan(42, Optional.empty(), Optional.empty(), 4789, Optional.empty()));
    assertThat(link(vx).kind()).isEqualTo("vxlan");
  }

  @Test
  void aVlanNeedsItsParentAndGoesWithItOrIsPreciselyRefusedByAKernelWithout8021q() {
    String a = vethPair();
    String vlan = name("vl");
    if (!supports("vlan")) {
      HostException refused = refusal(() -> stack().createLink(vlan, new LinkSpec.Vlan(a, 100)));
      assertThat(refused.getMessage())
          .isEqualTo("cannot create vlan " + vlan + ": kernel has no 8021q support (EOPNOTSUPP)");
      assertThat(stack().link(vlan)).isEmpty();
      return;
    }
    assertThat(refusal(() -> stack().createLink(vlan, new LinkSpec.Vlan("nosuch0", 100))).errno())
        .isEqualTo(Errno.ENODEV);
    stack().createLink(vlan, new LinkSpec.Vlan(a, 100));
    assertThat(link(vlan).kind()).isEqualTo("vlan");
    assertThat(link(vlan).parentIndex()).isEqualTo(link(a).index());
    stack().deleteLink(a);
    assertThat(stack().link(vlan)).isEmpty();
  }

  @Test
  void deletingABondReleasesItsPortsOrBondsArePreciselyRefusedByAKernelWithoutBonding() {
    String bond = name("bond");
    if (!supports("bond")) {
      HostException refused =
          refusal(() -> stack().createLink(bond, Bond.of(BondMode.ACTIVE_BACKUP)));
      assertThat(refused.getMessage())
          .isEqualTo("cannot create bond " + bond + ": kernel has no bonding support (EOPNOTSUPP)");
      return;
    }
    String a = vethPair();
    stack().createLink(bond, Bond.of(BondMode.ACTIVE_BACKUP));
    stack().setMaster(a, bond);
    assertThat(link(a).masterIndex()).isEqualTo(link(bond).index());
    stack().deleteLink(bond);
    assertThat(link(a).hasMaster()).isFalse();
  }

  /** The active member follows carrier: the primary first, the other when the primary's far end goes down. */
  @Test
  void anActiveBackupBondSendsThroughItsPrimaryAndFailsOverWhenItLosesCarrier() {
    String bond = name("bab");
    String a = vethPair();
    String b = vethPair();
    Bond spec = new Bond(BondMode.ACTIVE_BACKUP, 100, 0, 0, 0, List.of(), LinkSpec.LacpRate.SLOW, Optional.of(a));
    if (!supports("bond")) {
      assertThat(refusal(() -> stack().createLink(bond, spec)).getMessage())
          .isEqualTo("cannot create bond " + bond + ": kernel has no bonding support (EOPNOTSUPP)");
      return;
    }
    stack().createLink(bond, spec);
    stack().setMaster(a, bond);
    stack().setMaster(b, bond);
    for (String up : List.of(a + "p", b + "p", a, b, bond)) {
      stack().setUp(up, true);
    }
    assertThat(refusal(() -> stack().bondActiveMember(a)).getMessage())
        .isEqualTo("cannot read the active member of " + a + ": " + a + " is not a bond (EOPNOTSUPP)");
    awaitActiveMember(bond, Optional.of(a));
    stack().setUp(a + "p", false); // the far end of a's cable: a loses carrier
    awaitActiveMember(bond, Optional.of(b));
    stack().setUp(b + "p", false);
    awaitActiveMember(bond, Optional.empty());
  }

  /** The kernel's MII monitor notices a carrier change within its interval (100 ms here). */
  private void awaitActiveMember(String bond, Optional<String> expected) {
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (!stack().bondActiveMember(bond).equals(expected) && System.nanoTime() < deadline) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
    assertThat(stack().bondActiveMember(bond)).as("active member of " + bond).isEqualTo(expected);
  }

  @Test
  void aVrfTakesPortsOrIsPreciselyRefusedByAKernelWithoutVrf() {
    String vrf = name("vrf");
    if (!supports("vrf")) {
      HostException refused = refusal(() -> stack().createLink(vrf, new LinkSpec.Vrf(100)));
      assertThat(refused.getMessage())
          .isEqualTo("cannot create vrf " + vrf + ": kernel has no vrf support (EOPNOTSUPP)");
      return;
    }
    String a = vethPair();
    stack().createLink(vrf, new LinkSpec.Vrf(100));
    stack().setMaster(a, vrf);
    assertThat(link(a).masterIndex()).isEqualTo(link(vrf).index());
  }

  @Test
  void aVlanFilteringBridgeIsCreatedOrPreciselyRefusedByAKernelWithoutIt() {
    String bridge = name("vfb");
    if (!supports("bridge-vlan-filtering")) {
      HostException refused = refusal(() -> stack().createLink(bridge, new Bridge(true)));
      assertThat(refused.getMessage())
          .isEqualTo("cannot create bridge " + bridge + ": " + Bridges.NO_VLAN_FILTERING + " (EOPNOTSUPP)");
      assertThat(stack().link(bridge)).isEmpty();
      return;
    }
    stack().createLink(bridge, new Bridge(true));
    assertThat(link(bridge).kind()).isEqualTo("bridge");
  }

  @Test
  void vfSettingsOnALinkWithoutVfsAreRefusedWithEopnotsupp() {
    String a = vethPair();
    HostException refused =
        refusal(() -> stack().setVf(a, VfSettings.of(0).withMac(MacAddress.of("02:00:00:00:00:01"))));
    assertThat(refused.getMessage())
        .isEqualTo("cannot set vf 0 of " + a + ": Operation not supported (EOPNOTSUPP)");
    assertThat(stack().vfs(a)).isEmpty();
  }

  // ---- counters

  @Test
  void countersCountExactlyTheFramesALinkSentAndItsVethPeerReceived() {
    String a = vethPair();
    silence(a);
    silence(a + "p");
    stack().setUp(a, true);
    stack().setUp(a + "p", true);
    stack().addAddress(a, IpPrefix.parse("192.0.2.1/24"));
    stack().addNeighbour(a, IpPrefix.literal("192.0.2.2"), link(a + "p").mac());
    assertThat(stack().stats(a)).isEqualTo(LinkStats.ZERO);
    assertThat(stack().stats(a + "p")).isEqualTo(LinkStats.ZERO);
    sendPings(a, "192.0.2.2", 3);
    assertThat(stack().stats(a)).isEqualTo(LinkStats.sent(3, 3 * 98));
    assertThat(stack().stats(a + "p")).isEqualTo(LinkStats.received(3, 3 * 98));
    assertThat(stack().stats()).containsEntry(a, LinkStats.sent(3, 3 * 98))
        .containsEntry(a + "p", LinkStats.received(3, 3 * 98)).containsKey("lo");
    assertThat(refusal(() -> stack().stats("nosuch0")).getMessage())
        .isEqualTo("cannot read stats of nosuch0: no link named nosuch0 (ENODEV)");
  }

  // ---- bridges

  private String bridgeWithPort(String port) {
    String bridge = name("br");
    stack().createLink(bridge, new Bridge(false));
    stack().setMaster(port, bridge);
    return bridge;
  }

  @Test
  void aBridgePortStartsWithTheDefaultFlagsAndKeepsWhatIsSetLeavingTheRest() {
    String a = vethPair();
    bridgeWithPort(a);
    assertThat(stack().bridgePort(a)).isEqualTo(BridgePortSettings.DEFAULTS);
    stack().setBridgePort(a, BridgePortSettings.NONE.withLearning(false).withUnicastFlood(false)
        .withHairpin(true).withIsolated(true).withNeighbourSuppression(true));
    assertThat(stack().bridgePort(a)).isEqualTo(new BridgePortSettings(Optional.of(false), Optional.of(false),
        Optional.of(true), Optional.of(true), Optional.of(true), Optional.of(true), Optional.of(true)));
    stack().setBridgePort(a, BridgePortSettings.NONE.withMulticastFlood(false).withBroadcastFlood(false)
        .withLearning(true));
    assertThat(stack().bridgePort(a)).isEqualTo(new BridgePortSettings(Optional.of(true), Optional.of(false),
        Optional.of(false), Optional.of(false), Optional.of(true), Optional.of(true), Optional.of(true)));
  }

  @Test
  void aPortThatLeavesAndRejoinsItsBridgeHasTheDefaultFlagsAgain() {
    String a = vethPair();
    String bridge = bridgeWithPort(a);
    stack().setBridgePort(a, BridgePortSettings.NONE.withIsolated(true).withLearning(false));
    stack().clearMaster(a);
    stack().setMaster(a, bridge);
    assertThat(stack().bridgePort(a)).isEqualTo(BridgePortSettings.DEFAULTS);
  }

  @Test
  void portFlagsOfALinkOutsideABridgeAreRefused() {
    String a = vethPair();
    assertThat(refusal(() -> stack().setBridgePort(a, BridgePortSettings.NONE.withLearning(false))).getMessage())
        .isEqualTo("cannot set bridge port flags " + a + ": " + a + " is not a bridge port (EOPNOTSUPP)");
    assertThat(refusal(() -> stack().bridgePort(a)).getMessage())
        .isEqualTo("cannot read bridge port flags " + a + ": " + a + " is not a bridge port (EOPNOTSUPP)");
    assertThat(refusal(() -> stack().bridgePort("nosuch0")).errno()).isEqualTo(Errno.ENODEV);
  }

  @Test
  void vlanFilteringAndPortVlansFollowTheKernelOrArePreciselyRefusedWithoutIt() {
    String a = vethPair();
    String bridge = bridgeWithPort(a);
    if (!supports("bridge-vlan-filtering")) {
      assertThat(refusal(() -> stack().setVlanFiltering(bridge, true)).getMessage())
          .isEqualTo("cannot set vlan filtering " + bridge + " on: " + Bridges.NO_VLAN_FILTERING + " (EOPNOTSUPP)");
      assertThat(refusal(() -> stack().addBridgeVlans(a, BridgeVlanRange.tagged(10, 12))).getMessage())
          .isEqualTo("cannot add bridge vlans vids 10-12 on " + a + ": " + Bridges.NO_VLAN_FILTERING
              + " (EOPNOTSUPP)");
      assertThat(refusal(() -> stack().addBridgeVlans(bridge, BridgeVlanRange.tagged(10))).errno())
          .isEqualTo(Errno.EOPNOTSUPP);
      assertThat(stack().vlanFiltering(bridge)).isFalse();
      return;
    }
    // a bridge and each new port start with VLAN 1 as PVID, untagged
    assertThat(stack().bridgeVlans(a)).containsExactly(new BridgeVlan(1, true, true));
    assertThat(stack().bridgeVlans(bridge)).containsExactly(new BridgeVlan(1, true, true));
    stack().setVlanFiltering(bridge, true);
    assertThat(stack().vlanFiltering(bridge)).isTrue();
    stack().addBridgeVlans(a, BridgeVlanRange.tagged(10, 12));
    stack().addBridgeVlans(a, BridgeVlanRange.access(20)); // the PVID moves to 20
    stack().addBridgeVlans(a, new BridgeVlanRange(10, 10, false, true)); // 10 is re-flagged
    assertThat(stack().bridgeVlans(a)).containsExactly(new BridgeVlan(1, false, true), new BridgeVlan(10, false, true),
        new BridgeVlan(11, false, false), new BridgeVlan(12, false, false), new BridgeVlan(20, true, true));
    stack().deleteBridgeVlans(a, 11, 12);
    assertThat(stack().bridgeVlans(a)).extracting(BridgeVlan::vid).containsExactly(1, 10, 20);
    stack().deleteBridgeVlans(a, 30, 30); // not there: the kernel takes it as done
    assertThat(stack().bridgeVlans(a)).extracting(BridgeVlan::vid).containsExactly(1, 10, 20);
    stack().addBridgeVlans(bridge, BridgeVlanRange.tagged(10));
    assertThat(stack().bridgeVlans(bridge)).extracting(BridgeVlan::vid).containsExactly(1, 10);
    // leaving the bridge takes a port's VLANs; a link outside a bridge has none to set
    stack().clearMaster(a);
    assertThat(refusal(() -> stack().addBridgeVlans(a, BridgeVlanRange.tagged(10))).getMessage())
        .isEqualTo("cannot add bridge vlans vid 10 on " + a + ": " + a + " is neither a bridge nor a bridge port"
            + " (EOPNOTSUPP)");
    stack().setMaster(a, bridge);
    assertThat(stack().bridgeVlans(a)).containsExactly(new BridgeVlan(1, true, true));
    stack().setVlanFiltering(bridge, false);
    assertThat(stack().vlanFiltering(bridge)).isFalse();
  }

  @Test
  void vlanFilteringBelongsToBridgesOnly() {
    String a = vethPair();
    assertThat(refusal(() -> stack().setVlanFiltering(a, true)).getMessage())
        .isEqualTo("cannot set vlan filtering " + a + " on: " + a + " is not a bridge (EOPNOTSUPP)");
    assertThat(refusal(() -> stack().bridgeVlans(a)).errno()).isEqualTo(Errno.EOPNOTSUPP);
  }

  // ---- moving links between namespaces

  @Test
  void aVethEndMovedAwayLeavesHereArrivesDownThereWithoutItsAddressAndKeepsThePair() {
    String a = vethPair();
    stack().setUp(a + "p", true);
    stack().addAddress(a + "p", IpPrefix.parse("192.0.2.9/24"));
    int index = link(a + "p").index();
    EventRecorder here = new EventRecorder();
    EventRecorder there = new EventRecorder();
    try (NetEvents.Subscription ignored = stack().subscribe(here);
        NetEvents.Subscription ignoredToo = otherStack().subscribe(there)) {
      stack().moveToNamespace(a + "p", otherNamespace());
      // as for a deletion: its address goes first, then the link
      here.await(NetEvent.AddressEvent.class, e -> e.change() == Change.DELETED
          && e.address().equals(new Address(index, IpPrefix.parse("192.0.2.9/24"))), "address gone with the move");
      here.awaitLink(Change.DELETED, a + "p", l -> l.index() == index);
      there.awaitLink(Change.NEW, a + "p", l -> l.index() == index && !l.up());
    }
    assertThat(stack().link(a + "p")).isEmpty();
    Link moved = otherLink(a + "p");
    assertThat(moved.index()).isEqualTo(index); // free there, so kept
    assertThat(moved.up()).isFalse();
    assertThat(moved.kind()).isEqualTo("veth");
    assertThat(otherStack().addresses(a + "p")).isEmpty();
    // the pair spans the namespaces: each end names the other's index, carrier needs both up
    assertThat(link(a).parentIndex()).isEqualTo(index);
    assertThat(moved.parentIndex()).isEqualTo(link(a).index());
    stack().setUp(a, true);
    otherStack().setUp(a + "p", true);
    assertThat(link(a).carrier()).isTrue();
    assertThat(otherLink(a + "p").carrier()).isTrue();
    otherStack().setUp(a + "p", false);
    assertThat(link(a).carrier()).isFalse();
    stack().deleteLink(a);
    assertThat(otherStack().link(a + "p")).isEmpty();
  }

  @Test
  void aPortMovedAwayLeavesItsBridgeAndTheBridgeItselfCannotMove() {
    String bridge = name("br");
    String a = vethPair();
    stack().createLink(bridge, new Bridge(false));
    stack().setMaster(a + "p", bridge);
    stack().moveToNamespace(a + "p", otherNamespace());
    assertThat(otherLink(a + "p").hasMaster()).isFalse();
    HostException immutable = refusal(() -> stack().moveToNamespace(bridge, otherNamespace()));
    assertThat(immutable.getMessage()).isEqualTo("cannot move link " + bridge + " to namespace "
        + otherNamespace() + ": The interface netns is immutable (EINVAL)");
    assertThat(refusal(() -> stack().moveToNamespace("lo", otherNamespace())).errno()).isEqualTo(Errno.EINVAL);
    assertThat(link(bridge).kind()).isEqualTo("bridge");
    otherStack().deleteLink(a + "p");
  }

  @Test
  void aMoveIntoAMissingNamespaceOrOntoATakenNameIsRefusedAndTheLinkStays() {
    String a = vethPair();
    HostException missing = refusal(() -> stack().moveToNamespace(a, "vg-nosuch-ns"));
    assertThat(missing.getMessage())
        .isEqualTo("cannot move link " + a + " to namespace vg-nosuch-ns: no namespace named vg-nosuch-ns (ENOENT)");
    assertThat(refusal(() -> stack().moveToNamespace(a, "../" + otherNamespace())).getMessage())
        .isEqualTo("cannot move link " + a + " to namespace ../" + otherNamespace()
            + ": not a valid namespace name (EINVAL)");
    String b = vethPair();
    stack().moveToNamespace(b, otherNamespace());
    stack().rename(b + "p", name("keep"));
    String taken = b;
    String c = name("vc");
    stack().createLink(taken, new Veth(c));
    HostException clash = refusal(() -> stack().moveToNamespace(taken, otherNamespace()));
    assertThat(clash.getMessage()).isEqualTo("cannot move link " + taken + " to namespace " + otherNamespace()
        + ": An interface with the same name exists in the target netns (EEXIST)");
    assertThat(link(taken).kind()).isEqualTo("veth");
    assertThat(refusal(() -> stack().moveToNamespace("nosuch0", otherNamespace())).errno()).isEqualTo(Errno.ENODEV);
    otherStack().deleteLink(b);
  }

  // ---- addresses
  // ---- addresses

  @Test
  void addressesAreAddedListedAndDeleted() {
    String a = vethPair();
    IpPrefix prefix = IpPrefix.parse("192.0.2.1/24");
    stack().addAddress(a, prefix);
    assertThat(stack().addresses(a)).contains(new Address(link(a).index(), prefix));
    stack().deleteAddress(a, prefix);
    assertThat(stack().addresses(a)).extracting(Address::prefix).doesNotContain(prefix);
  }

  @Test
  void aDuplicateAddressIsRefusedWithEexist() {
    String a = vethPair();
    stack().addAddress(a, IpPrefix.parse("192.0.2.1/24"));
    HostException duplicate = refusal(() -> stack().addAddress(a, IpPrefix.parse("192.0.2.1/24")));
    assertThat(duplicate.errno()).isEqualTo(Errno.EEXIST);
    assertThat(duplicate.getMessage()).startsWith("cannot add address 192.0.2.1/24 on " + a + ": ");
    assertThat(stack().addresses(a)).hasSize(1);
  }

  @Test
  void anAddressNeedsItsLink() {
    HostException missing =
        refusal(() -> stack().addAddress("nosuch0", IpPrefix.parse("192.0.2.1/24")));
    assertThat(missing.errno()).isEqualTo(Errno.ENODEV);
  }

  @Test
  void addressesVanishWithTheirLinkAndSubscribersHearIt() {
    String a = vethPair();
    IpPrefix prefix = IpPrefix.parse("192.0.2.7/24");
    stack().addAddress(a + "p", prefix);
    int index = link(a + "p").index();
    EventRecorder events = new EventRecorder();
    try (NetEvents.Subscription ignored = stack().subscribe(events)) {
      stack().deleteLink(a);
      events.await(NetEvent.AddressEvent.class,
          e -> e.change() == Change.DELETED && e.address().equals(new Address(index, prefix)),
          "address deleted with its link");
    }
  }

  // ---- routes

  /** A veth end that is up with 192.0.2.1/24, so 192.0.2.0/24 is connected. */
  private String connectedLink() {
    String a = vethPair();
    stack().setUp(a, true);
    stack().addAddress(a, IpPrefix.parse("192.0.2.1/24"));
    return a;
  }

  private static Optional<Route> find(List<Route> routes, String destination) {
    IpPrefix prefix = IpPrefix.parse(destination);
    return routes.stream().filter(r -> r.destination().equals(prefix)).findFirst();
  }

  @Test
  void anUpLinkWithAnAddressHasAConnectedRouteInTheMainTable() {
    String a = connectedLink();
    Route connected = find(stack().routes(RouteRequest.MAIN_TABLE), "192.0.2.0/24").orElseThrow();
    assertThat(connected.linkIndex()).isEqualTo(link(a).index());
    assertThat(connected.gateway()).isEmpty();
  }

  @Test
  void aRouteViaAGatewayGoesIntoItsTableWithItsMetric() {
    String a = connectedLink();
    stack().addRoute(RouteRequest.via("198.51.100.0/24", "192.0.2.9").inTable(100).withMetric(50));
    Route route = find(stack().routes(100), "198.51.100.0/24").orElseThrow();
    assertThat(route.gateway()).contains(IpPrefix.literal("192.0.2.9"));
    assertThat(route.metric()).isEqualTo(50);
    assertThat(route.linkIndex()).isEqualTo(link(a).index());
    assertThat(route.type()).isEqualTo(RouteType.UNICAST);
    assertThat(find(stack().routes(RouteRequest.MAIN_TABLE), "198.51.100.0/24")).isEmpty();
    stack().deleteRoute(RouteRequest.via("198.51.100.0/24", "192.0.2.9").inTable(100).withMetric(50));
    assertThat(find(stack().routes(100), "198.51.100.0/24")).isEmpty();
  }

  @Test
  void aRouteViaAnUnreachableGatewayIsRefusedWithEnetunreach() {
    connectedLink();
    HostException unreachable =
        refusal(() -> stack().addRoute(RouteRequest.via("198.51.100.0/24", "203.0.113.1").inTable(100)));
    assertThat(unreachable.errno()).isEqualTo(Errno.ENETUNREACH);
    assertThat(unreachable.getMessage())
        .startsWith("cannot add route 198.51.100.0/24 via 203.0.113.1 table 100: ");
    assertThat(find(stack().routes(100), "198.51.100.0/24")).isEmpty();
  }

  @Test
  void aRouteThroughADownLinkIsRefusedWithEnetdown() {
    String a = vethPair();
    HostException down =
        refusal(() -> stack().addRoute(RouteRequest.onLink("198.51.100.0/24", a).inTable(100)));
    assertThat(down.errno()).isEqualTo(Errno.ENETDOWN);
  }

  @Test
  void aBlackholeRouteNeedsNeitherDeviceNorGateway() {
    RouteRequest blackhole = new RouteRequest(IpPrefix.parse("203.0.113.0/24"), Optional.empty(),
        Optional.empty(), 100, 10, RouteType.BLACKHOLE);
    stack().addRoute(blackhole);
    try {
      Route route = find(stack().routes(100), "203.0.113.0/24").orElseThrow();
      assertThat(route.type()).isEqualTo(RouteType.BLACKHOLE);
      assertThat(route.linkIndex()).isZero();
      assertThat(route.metric()).isEqualTo(10);
    } finally {
      stack().deleteRoute(blackhole);
    }
    assertThat(find(stack().routes(100), "203.0.113.0/24")).isEmpty();
  }

  @Test
  void routesVanishWithTheirLink() {
    String a = connectedLink();
    stack().addRoute(RouteRequest.onLink("198.51.100.0/24", a).inTable(100));
    assertThat(find(stack().routes(100), "198.51.100.0/24")).isPresent();
    stack().deleteLink(a);
    assertThat(find(stack().routes(100), "198.51.100.0/24")).isEmpty();
    assertThat(find(stack().routes(RouteRequest.MAIN_TABLE), "192.0.2.0/24")).isEmpty();
  }

  @Test
  void aSecondIdenticalRouteIsRefusedWithEexist() {
    String a = connectedLink();
    stack().addRoute(RouteRequest.onLink("198.51.100.0/24", a).inTable(100));
    assertThat(refusal(() -> stack().addRoute(RouteRequest.onLink("198.51.100.0/24", a).inTable(100))).errno())
        .isEqualTo(Errno.EEXIST);
  }

  @Test
  void aRouteKeepsItsPreferredSourceScopeAndProtocol() {
    String a = connectedLink();
    stack().addRoute(RouteRequest.onLink("203.0.113.0/24", a).inTable(100).withPreferredSource("192.0.2.1")
        .withProtocol(200));
    stack().addRoute(RouteRequest.via("198.51.100.0/24", "192.0.2.9").inTable(100));
    Route direct = find(stack().routes(100), "203.0.113.0/24").orElseThrow();
    assertThat(direct.preferredSource()).contains(IpPrefix.literal("192.0.2.1"));
    assertThat(direct.scope()).isEqualTo(RouteScope.LINK);
    assertThat(direct.protocol()).isEqualTo(200);
    Route viaGateway = find(stack().routes(100), "198.51.100.0/24").orElseThrow();
    assertThat(viaGateway.preferredSource()).isEmpty();
    assertThat(viaGateway.scope()).isEqualTo(RouteScope.UNIVERSE);
    assertThat(viaGateway.protocol()).isEqualTo(Route.PROTOCOL_BOOT);
  }

  @Test
  void aPreferredSourceMustBeAnAddressOfThisHost() {
    String a = connectedLink();
    String down = vethPair();
    stack().addAddress(down, IpPrefix.parse("198.51.100.1/24"));
    HostException refused = refusal(() -> stack().addRoute(
        RouteRequest.onLink("203.0.113.0/24", a).inTable(100).withPreferredSource("192.0.2.77")));
    assertThat(refused.getMessage()).isEqualTo("cannot add route 203.0.113.0/24 dev " + a
        + " table 100 src 192.0.2.77: Invalid prefsrc address (EINVAL)");
    assertThat(find(stack().routes(100), "203.0.113.0/24")).isEmpty();
    // an address on a link that is down still counts: it has its local route
    stack().addRoute(RouteRequest.onLink("203.0.113.0/24", a).inTable(100).withPreferredSource("198.51.100.1"));
    assertThat(find(stack().routes(100), "203.0.113.0/24").orElseThrow().preferredSource())
        .contains(IpPrefix.literal("198.51.100.1"));
  }

  @Test
  void theKernelsOwnRoutesForAnAddressCarryItsProtocolScopeAndSource() {
    String a = connectedLink();
    String down = vethPair();
    stack().addAddress(down, IpPrefix.parse("198.51.100.1/24"));
    Optional<InetAddress> source = Optional.of(IpPrefix.literal("192.0.2.1"));
    int index = link(a).index();
    assertThat(find(stack().routes(RouteRequest.MAIN_TABLE), "192.0.2.0/24")).contains(
        new Route(IpPrefix.parse("192.0.2.0/24"), Optional.empty(), index, RouteRequest.MAIN_TABLE, 0,
            RouteType.UNICAST, source, RouteScope.LINK, Route.PROTOCOL_KERNEL));
    assertThat(find(stack().routes(255), "192.0.2.1/32")).contains(
        new Route(IpPrefix.parse("192.0.2.1/32"), Optional.empty(), index, 255, 0, RouteType.LOCAL, source,
            RouteScope.HOST, Route.PROTOCOL_KERNEL));
    assertThat(find(stack().routes(255), "192.0.2.255/32")).contains(
        new Route(IpPrefix.parse("192.0.2.255/32"), Optional.empty(), index, 255, 0, RouteType.BROADCAST,
            source, RouteScope.LINK, Route.PROTOCOL_KERNEL));
    // a link that is down has the local route of its address, but no subnet or broadcast route
    assertThat(find(stack().routes(255), "198.51.100.1/32")).isPresent();
    assertThat(find(stack().routes(RouteRequest.MAIN_TABLE), "198.51.100.0/24")).isEmpty();
    assertThat(find(stack().routes(255), "198.51.100.255/32")).isEmpty();
  }

  @Test
  void scopesAreCheckedAsTheKernelChecksThem() {
    String a = connectedLink();
    String down = vethPair();
    // a host-scope route only names its device, which may be down
    stack().addRoute(RouteRequest.onLink("203.0.113.0/24", down).inTable(100).withScope(RouteScope.HOST));
    assertThat(find(stack().routes(100), "203.0.113.0/24").orElseThrow().scope()).isEqualTo(RouteScope.HOST);
    assertThat(refusal(() -> stack().addRoute(RouteRequest.onLink("203.0.113.0/24", down).inTable(101)))
        .getMessage()).endsWith(": Device for nexthop is not up (ENETDOWN)");
    assertThat(refusal(() -> stack().addRoute(
            RouteRequest.via("198.51.100.0/24", "192.0.2.9").inTable(100).withScope(RouteScope.HOST)))
        .getMessage()).endsWith(": Route with host scope can not have a gateway (EINVAL)");
    HostException linkScopeGateway = refusal(() -> stack().addRoute(
        RouteRequest.via("198.51.100.0/24", "192.0.2.9").inTable(100).withScope(RouteScope.LINK)));
    assertThat(linkScopeGateway.getMessage()).endsWith(": Nexthop has invalid gateway (ENETUNREACH)");
    assertThat(refusal(() -> stack().addRoute(
            RouteRequest.onLink("198.51.100.0/24", a).inTable(100).withScope(RouteScope.NOWHERE)))
        .getMessage()).endsWith(": Invalid scope (EINVAL)");
    HostException noNexthop = refusal(() -> stack().addRoute(new RouteRequest(IpPrefix.parse("198.51.100.0/24"),
        Optional.empty(), Optional.empty(), 100, 0, RouteType.UNICAST)));
    assertThat(noNexthop.getMessage()).isEqualTo("cannot add route 198.51.100.0/24 table 100: No such device (ENODEV)");
  }

  @Test
  void aGatewayMayBeReachedThroughADeviceRouteOfTheSameTableButNotOfAnother() {
    String a = connectedLink();
    stack().addRoute(RouteRequest.onLink("203.0.113.0/24", a).inTable(100));
    stack().addRoute(RouteRequest.via("198.51.100.0/24", "203.0.113.1").inTable(100));
    assertThat(find(stack().routes(100), "198.51.100.0/24").orElseThrow().linkIndex()).isEqualTo(link(a).index());
    assertThat(refusal(() -> stack().addRoute(RouteRequest.via("198.51.100.0/24", "203.0.113.1").inTable(101)))
        .errno()).isEqualTo(Errno.ENETUNREACH);
  }

  @Test
  void replacingARouteChangesTheOneWithTheSameMetricInOneStepAndAddsWhereThereIsNone() {
    String a = connectedLink();
    RouteRequest old = RouteRequest.via("198.51.100.0/24", "192.0.2.9").inTable(100).withMetric(5);
    stack().replaceRoute(old); // nothing there: added
    assertThat(find(stack().routes(100), "198.51.100.0/24").orElseThrow().gateway())
        .contains(IpPrefix.literal("192.0.2.9"));
    EventRecorder events = new EventRecorder();
    try (NetEvents.Subscription ignored = stack().subscribe(events)) {
      stack().replaceRoute(RouteRequest.via("198.51.100.0/24", "192.0.2.10").inTable(100).withMetric(5)
          .withProtocol(Route.PROTOCOL_STATIC));
      events.await(NetEvent.RouteEvent.class, e -> e.change() == Change.NEW && e.route().metric() == 5
          && e.route().gateway().equals(Optional.of(IpPrefix.literal("192.0.2.10"))), "the replacement");
      stack().addRoute(RouteRequest.onLink("203.0.113.0/24", a).inTable(100));
      events.await(NetEvent.RouteEvent.class, e -> e.change() == Change.NEW && e.route().table() == 100
          && e.route().destination().equals(IpPrefix.parse("203.0.113.0/24")), "the marker route");
      // the kernel announces a replacement as NEW only: no deletion of the old route came before the marker
      assertThat(events.seen()).noneMatch(e -> e instanceof NetEvent.RouteEvent r && r.change() == Change.DELETED);
    }
    stack().replaceRoute(RouteRequest.via("198.51.100.0/24", "192.0.2.11").inTable(100).withMetric(6));
    List<Route> routes = stack().routes(100).stream()
        .filter(r -> r.destination().equals(IpPrefix.parse("198.51.100.0/24"))).toList();
    assertThat(routes).extracting(Route::metric, r -> r.gateway().orElseThrow().getHostAddress(), Route::protocol)
        .containsExactlyInAnyOrder(tuple(5, "192.0.2.10", Route.PROTOCOL_STATIC), tuple(6, "192.0.2.11",
            Route.PROTOCOL_BOOT));
  }

  @Test
  void anIpv6RouteHasUniverseScopeAndTheKernelsDefaultMetric() {
    String a = vethPair();
    String down = vethPair();
    stack().setUp(a, true);
    stack().addRoute(RouteRequest.onLink("2001:db8:1::/48", a).inTable(100));
    Route route = find(stack().routes(100), "2001:db8:1::/48").orElseThrow();
    assertThat(route.metric()).isEqualTo(1024);
    assertThat(route.scope()).isEqualTo(RouteScope.UNIVERSE);
    assertThat(route.linkIndex()).isEqualTo(link(a).index());
    assertThat(refusal(() -> stack().addRoute(RouteRequest.onLink("2001:db8:2::/48", down).inTable(100)))
        .getMessage()).endsWith(": Nexthop device is not up (ENETDOWN)");
  }

  // ---- neighbours

  @Test
  void aPermanentNeighbourIsListedWithItsMacAndASecondOneForTheAddressIsRefused() {
    String a = vethPair();
    java.net.InetAddress address = IpPrefix.literal("192.0.2.5");
    MacAddress mac = MacAddress.of("02:00:00:00:00:05");
    stack().addNeighbour(a, address, mac);
    assertThat(stack().neighbours(a))
        .contains(new Neighbour(link(a).index(), address, Optional.of(mac), true));
    HostException duplicate = refusal(() -> stack().addNeighbour(a, address, mac));
    assertThat(duplicate.errno()).isEqualTo(Errno.EEXIST);
    assertThat(duplicate.getMessage()).startsWith("cannot add neighbour 192.0.2.5 on " + a + ": ");
    stack().deleteNeighbour(a, address);
    assertThat(stack().neighbours(a)).extracting(Neighbour::address).doesNotContain(address);
  }

  @Test
  void deletingAMissingNeighbourFailsWithEnoent() {
    String a = vethPair();
    assertThat(refusal(() -> stack().deleteNeighbour(a, IpPrefix.literal("192.0.2.6"))).errno())
        .isEqualTo(Errno.ENOENT);
    assertThat(refusal(() -> stack().neighbours("nosuch0")).errno()).isEqualTo(Errno.ENODEV);
  }

  // ---- rules

  @Test
  void aSourceRuleSitsBetweenTheDefaultRulesAndASecondIdenticalOneIsRefused() {
    Rule rule = Rule.from("10.1.0.0/16", 100, 100);
    // the defaults (0, 32766, 32767), and on a kernel where a VRF was made in this namespace the
    // l3mdev rule (1000) its driver adds and never removes
    List<Integer> before = stack().rules(false).stream().map(Rule::priority).toList();
    assertThat(before).contains(0, 32766, 32767).doesNotContain(100);
    stack().addRule(rule);
    try {
      List<Integer> expected = new java.util.ArrayList<>(before);
      expected.add(100);
      expected.sort(null);
      assertThat(stack().rules(false)).extracting(Rule::priority).containsExactlyElementsOf(expected);
      assertThat(stack().rules(false)).contains(rule);
      HostException duplicate = refusal(() -> stack().addRule(rule));
      assertThat(duplicate.errno()).isEqualTo(Errno.EEXIST);
      assertThat(duplicate.getMessage()).startsWith("cannot add rule 100: from 10.1.0.0/16 lookup 100: ");
    } finally {
      stack().deleteRule(rule);
    }
    assertThat(stack().rules(false)).doesNotContain(rule);
  }

  @Test
  void aRuleOnAnInputInterfaceAndMarkOutlivesTheLinkItNames() {
    String a = vethPair();
    Rule rule = new Rule(false, 101, Optional.empty(), Optional.of(IpPrefix.parse("198.51.100.0/24")),
        Optional.of(a), 7, 1000);
    stack().addRule(rule);
    try {
      stack().deleteLink(a);
      assertThat(stack().rules(false)).contains(rule);
    } finally {
      stack().deleteRule(rule);
    }
  }

  @Test
  void aRuleWithOutputInterfaceMaskedMarkAndSuppressionIsListedAsAdded() {
    String a = vethPair();
    Rule rule = Rule.all(false, 100, 150).withOutputInterface(a).withFwmark(0x10, 0xff).withSuppressPrefixLength(0);
    Rule anyMarkWithLowBitsClear = Rule.all(false, 101, 151).withFwmark(0, 0xff);
    Rule exactMark = new Rule(false, 152, Optional.empty(), Optional.empty(), Optional.empty(), 7, 102);
    stack().addRule(rule);
    stack().addRule(anyMarkWithLowBitsClear);
    stack().addRule(exactMark);
    try {
      assertThat(stack().rules(false)).containsSubsequence(rule, anyMarkWithLowBitsClear, exactMark);
      assertThat(exactMark.fwmask()).isEqualTo(Rule.ALL_BITS);
      HostException duplicate = refusal(() -> stack().addRule(rule));
      assertThat(duplicate.getMessage()).startsWith("cannot add rule 150: from all fwmark 0x10/0xff oif " + a
          + " lookup 100 suppress_prefixlength 0: ");
      assertThat(duplicate.errno()).isEqualTo(Errno.EEXIST);
      // the same rule with another mask is another rule
      stack().addRule(rule.withFwmark(0x10, 0xf0));
      stack().deleteRule(rule.withFwmark(0x10, 0xf0));
      assertThat(stack().rules(false)).contains(rule).doesNotContain(rule.withFwmark(0x10, 0xf0));
      // a deletion matches on what it names: another output interface is not this rule...
      assertThat(refusal(() -> stack().deleteRule(rule.withOutputInterface("lo"))).errno()).isEqualTo(Errno.ENOENT);
      // ...but what it leaves out (interfaces, mark, suppression) matches anything
      stack().deleteRule(Rule.all(false, 100, 150));
      assertThat(stack().rules(false)).doesNotContain(rule);
      stack().deleteRule(Rule.all(false, 102, 152));
      assertThat(stack().rules(false)).doesNotContain(exactMark);
    } finally {
      for (Rule added : List.of(rule, anyMarkWithLowBitsClear, exactMark)) {
        if (stack().rules(false).contains(added)) {
          stack().deleteRule(added);
        }
      }
    }
    assertThat(stack().rules(false)).extracting(Rule::priority).doesNotContain(150, 151, 152);
  }

  @Test
  void ipv6RulesAreKeptApartFromIpv4Rules() {
    Rule rule = Rule.from("2001:db8::/32", 100, 102);
    stack().addRule(rule);
    try {
      assertThat(stack().rules(true)).contains(rule).extracting(Rule::priority).contains(0, 32766);
      assertThat(stack().rules(false)).doesNotContain(rule);
    } finally {
      stack().deleteRule(rule);
    }
  }

  @Test
  void deletingAMissingRuleFailsWithEnoent() {
    assertThat(refusal(() -> stack().deleteRule(Rule.from("10.9.0.0/16", 100, 109))).errno())
        .isEqualTo(Errno.ENOENT);
  }

  // ---- events

  @Test
  void subscribersHearOfLinksComingCarrierChangesAndLinksGoing() {
    EventRecorder events = new EventRecorder();
    try (NetEvents.Subscription ignored = stack().subscribe(events)) {
      String a = vethPair();
      events.awaitLink(Change.NEW, a, l -> !l.up());
      stack().setUp(a, true);
      stack().setUp(a + "p", true);
      events.awaitLink(Change.NEW, a, Link::carrier);
      stack().setUp(a + "p", false);
      events.awaitLink(Change.NEW, a, l -> l.up() && !l.carrier());
      stack().deleteLink(a);
      events.awaitLink(Change.DELETED, a, l -> true);
    }
  }

  @Test
  void subscribersHearOfAddressesAndRoutes() {
    EventRecorder events = new EventRecorder();
    try (NetEvents.Subscription ignored = stack().subscribe(events)) {
      String a = connectedLink();
      IpPrefix prefix = IpPrefix.parse("192.0.2.1/24");
      events.await(NetEvent.AddressEvent.class,
          e -> e.change() == Change.NEW && e.address().prefix().equals(prefix), "address added");
      stack().addRoute(RouteRequest.onLink("198.51.100.0/24", a).inTable(100));
      events.await(NetEvent.RouteEvent.class,
          e -> e.change() == Change.NEW && e.route().table() == 100, "route added");
      stack().deleteAddress(a, prefix);
      events.await(NetEvent.AddressEvent.class,
          e -> e.change() == Change.DELETED && e.address().prefix().equals(prefix), "address deleted");
    }
  }
}
