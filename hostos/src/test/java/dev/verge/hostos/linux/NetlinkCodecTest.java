package dev.verge.hostos.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.verge.hostos.Errno;
import dev.verge.hostos.IpPrefix;
import dev.verge.hostos.Link;
import dev.verge.hostos.MacAddress;
import dev.verge.hostos.VfSettings;
import dev.verge.hostos.Route;
import dev.verge.hostos.RouteType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Encoding and decoding of netlink messages, without a kernel. */
class NetlinkCodecTest {
  private final ByteBuffer buffer = ByteBuffer.allocate(4096);

  @Test
  void attributesArePaddedToFourBytesAndTheHeaderCarriesTheTotalLength() {
    ByteBuffer out =
        new NetlinkMessage(buffer, Rtnetlink.RTM_NEWLINK, 0x5, 77)
            .u8(0).u8(0).u16(0).u32(3).u32(1).u32(1)
            .attrString(Rtnetlink.IFLA_IFNAME, "eth0")
            .attrU32(Rtnetlink.IFLA_MTU, 1400)
            .finish();
    // 16 header + 16 ifinfomsg + (4 + 5 -> 12) name + 8 mtu
    assertThat(out.limit()).isEqualTo(52);
    assertThat(out.getInt(0)).isEqualTo(52);
    assertThat(out.getShort(4)).isEqualTo((short) Rtnetlink.RTM_NEWLINK);
    assertThat(out.getInt(8)).isEqualTo(77);
    NetlinkAttributes attributes = NetlinkAttributes.parse(out, 32, out.limit());
    assertThat(attributes.string(Rtnetlink.IFLA_IFNAME)).contains("eth0");
    assertThat(attributes.u32(Rtnetlink.IFLA_MTU, -1)).isEqualTo(1400);
    assertThat(attributes.has(Rtnetlink.IFLA_MASTER)).isFalse();
  }

  @Test
  void nestedAttributesCarryTheNestedFlagAndTheirOwnLength() {
    NetlinkMessage message = new NetlinkMessage(buffer, Rtnetlink.RTM_NEWLINK, 0, 1);
    int info = message.beginNested(Rtnetlink.IFLA_LINKINFO);
    message.attrString(Rtnetlink.IFLA_INFO_KIND, "veth");
    message.endNested(info);
    ByteBuffer out = message.finish();
    assertThat(out.getShort(16) & 0xffff).isEqualTo(4 + 12);
    assertThat(out.getShort(18) & 0xffff).isEqualTo(Rtnetlink.IFLA_LINKINFO | NetlinkMessage.NLA_F_NESTED);
    NetlinkAttributes outer = NetlinkAttributes.parse(out, 16, out.limit());
    assertThat(outer.nested(Rtnetlink.IFLA_LINKINFO).string(Rtnetlink.IFLA_INFO_KIND)).contains("veth");
  }

  @Test
  void aLinkMessageDecodesWithFlagsMasterAndKind() {
    NetlinkMessage message = new NetlinkMessage(buffer, Rtnetlink.RTM_NEWLINK, 0, 1)
        .u8(0).u8(0).u16(1).u32(7).u32(Rtnetlink.IFF_UP | Rtnetlink.IFF_LOWER_UP).u32(0)
        .attrString(Rtnetlink.IFLA_IFNAME, "p0")
        .attrU32(Rtnetlink.IFLA_MTU, 9000)
        .attr(Rtnetlink.IFLA_ADDRESS, new byte[] {2, 0, 0, 0, 0, 9})
        .attrU32(Rtnetlink.IFLA_MASTER, 3);
    int info = message.beginNested(Rtnetlink.IFLA_LINKINFO);
    message.attrString(Rtnetlink.IFLA_INFO_KIND, "veth").endNested(info);
    Link link = Rtnetlink.link(copy(message.finish()));
    assertThat(link.index()).isEqualTo(7);
    assertThat(link.name()).isEqualTo("p0");
    assertThat(link.kind()).isEqualTo("veth");
    assertThat(link.mtu()).isEqualTo(9000);
    assertThat(link.mac().value()).isEqualTo("02:00:00:00:00:09");
    assertThat(link.up()).isTrue();
    assertThat(link.carrier()).isTrue();
    assertThat(link.masterIndex()).isEqualTo(3);
  }

  /**
   * The VLAN listing of a bridge port as a kernel with VLAN filtering sends it (RTEXT_FILTER_BRVLAN_COMPRESSED:
   * ranges as a begin and an end entry); this machine's kernel has none to send.
   */
  @Test
  void aBridgeVlanListingExpandsCompressedRanges() {
    NetlinkMessage message = new NetlinkMessage(buffer, Rtnetlink.RTM_NEWLINK, 0, 1)
        .u8(Rtnetlink.AF_BRIDGE).u8(0).u16(0).u32(7).u32(0).u32(0);
    int spec = message.beginNested(Rtnetlink.IFLA_AF_SPEC);
    message.attr(Rtnetlink.IFLA_BRIDGE_VLAN_INFO, vlanInfo(Rtnetlink.BRIDGE_VLAN_INFO_PVID
        | Rtnetlink.BRIDGE_VLAN_INFO_UNTAGGED, 1));
    message.attr(Rtnetlink.IFLA_BRIDGE_VLAN_INFO, vlanInfo(Rtnetlink.BRIDGE_VLAN_INFO_RANGE_BEGIN, 10));
    message.attr(Rtnetlink.IFLA_BRIDGE_VLAN_INFO, vlanInfo(Rtnetlink.BRIDGE_VLAN_INFO_RANGE_END, 12));
    message.attr(Rtnetlink.IFLA_BRIDGE_VLAN_INFO, vlanInfo(Rtnetlink.BRIDGE_VLAN_INFO_UNTAGGED, 20));
    message.endNested(spec);
    assertThat(Rtnetlink.bridgeVlans(copy(message.finish()))).containsExactly(
        new dev.verge.hostos.BridgeVlan(1, true, true), new dev.verge.hostos.BridgeVlan(10, false, false),
        new dev.verge.hostos.BridgeVlan(11, false, false), new dev.verge.hostos.BridgeVlan(12, false, false),
        new dev.verge.hostos.BridgeVlan(20, false, true));
  }

  private static byte[] vlanInfo(int flags, int vid) {
    return ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putShort((short) flags).putShort((short) vid).array();
  }

  @Test
  void aRouteMessageTakesItsTableFromRtaTableOverTheHeaderByte() {
    ByteBuffer out = new NetlinkMessage(buffer, Rtnetlink.RTM_NEWROUTE, 0, 1)
        .u8(Rtnetlink.AF_INET).u8(24).u8(0).u8(0).u8(Rtnetlink.RT_TABLE_COMPAT)
        .u8(3).u8(0).u8(1).u32(0)
        .attrU32(Rtnetlink.RTA_TABLE, 1000)
        .attr(Rtnetlink.RTA_DST, new byte[] {(byte) 198, 51, 100, 0})
        .attr(Rtnetlink.RTA_GATEWAY, new byte[] {(byte) 192, 0, 2, 9})
        .attrU32(Rtnetlink.RTA_OIF, 4)
        .attrU32(Rtnetlink.RTA_PRIORITY, 50)
        .finish();
    Route route = Rtnetlink.route(copy(out));
    assertThat(route.destination()).isEqualTo(IpPrefix.parse("198.51.100.0/24"));
    assertThat(route.gateway()).contains(IpPrefix.literal("192.0.2.9"));
    assertThat(route.table()).isEqualTo(1000);
    assertThat(route.metric()).isEqualTo(50);
    assertThat(route.linkIndex()).isEqualTo(4);
    assertThat(route.type()).isEqualTo(RouteType.UNICAST);
  }

  @Test
  void messagesOfABatchFollowEachOtherAlignedEachWithItsOwnLengthAndSequence() {
    new NetlinkMessage(buffer, Rtnetlink.RTM_DELLINK, 0x5, 41)
        .u8(0).u8(0).u16(0).u32(0).u32(0).u32(0)
        .attrString(Rtnetlink.IFLA_IFNAME, "ab") // 16 + 16 + (4 + 3 -> 8)
        .end();
    new NetlinkMessage(buffer, Rtnetlink.RTM_NEWADDR, 0x5, 42).u8(2).u8(32).u8(0).u8(0).u32(7).end();
    buffer.flip();
    assertThat(buffer.limit()).isEqualTo(40 + 24);
    assertThat(buffer.getInt(0)).isEqualTo(40);
    assertThat(buffer.getInt(8)).isEqualTo(41);
    assertThat(buffer.getInt(40)).isEqualTo(24);
    assertThat(buffer.getShort(44)).isEqualTo((short) Rtnetlink.RTM_NEWADDR);
    assertThat(buffer.getInt(48)).isEqualTo(42);
  }

  @Test
  void aLinkIsDeletedByNameWithIndexZeroAndTheKernelsEnodevNamesTheLink() {
    NetlinkSocket.Request request = LinuxNetworkStack.deleteRequest("veth7");
    NetlinkMessage message = new NetlinkMessage(buffer, request.type(), request.flags(), 1);
    request.body().accept(message);
    ByteBuffer out = message.finish();
    assertThat(out.getShort(4)).isEqualTo((short) Rtnetlink.RTM_DELLINK);
    assertThat(out.getInt(16 + 4)).isZero();
    assertThat(NetlinkAttributes.parse(out, 32, out.limit()).string(Rtnetlink.IFLA_IFNAME))
        .contains("veth7");
    assertThat(request.failure().of(Errno.ENODEV, Optional.empty()).getMessage())
        .isEqualTo("cannot delete link veth7: no link named veth7 (ENODEV)");
    assertThat(request.failure().of(Errno.EBUSY, Optional.of("in use")).getMessage())
        .isEqualTo("cannot delete link veth7: in use (EBUSY)");
  }

  @Test
  void aNameNoLinkCanHaveIsRefusedWithEnodevBeforeAnythingIsSent() {
    assertThatThrownBy(() -> LinuxNetworkStack.deleteRequest("sixteen-chars-xx"))
        .hasMessage("cannot delete link sixteen-chars-xx: no link named sixteen-chars-xx (ENODEV)");
  }

  @Test
  void truncatedAttributesAreIgnoredRatherThanReadPastTheEnd() {
    ByteBuffer bad = ByteBuffer.allocate(12).order(ByteOrder.nativeOrder());
    bad.putShort((short) 8).putShort((short) 3).putInt(0).putShort((short) 40).putShort((short) 4);
    NetlinkAttributes attributes = NetlinkAttributes.parse(bad, 0, 12);
    assertThat(attributes.has(3)).isTrue();
    assertThat(attributes.has(4)).isFalse();
  }

  /**
   * A VF change on the PF as the kernel's do_setvfinfo reads it; no SR-IOV device here, so the
   * bytes are checked against the structs (ifla_vf_mac, ifla_vf_vlan, ifla_vf_spoofchk, ifla_vf_trust).
   */
  @Test
  void vfSettingsEncodeAsNestedVfInfoWithOneStructPerFieldSet() {
    NetlinkMessage message = new NetlinkMessage(buffer, Rtnetlink.RTM_NEWLINK, 0, 1)
        .u8(0).u8(0).u16(0).u32(7).u32(0).u32(0);
    VfSettings settings = VfSettings.of(3).withMac(MacAddress.of("02:00:00:00:00:aa")).withVlan(100)
        .withSpoofCheck(false).withTrust(true);
    LinuxNetworkStack.vfInfoList(message, settings);
    ByteBuffer out = message.finish();
    assertThat(out.limit()).isEqualTo(32 + 88);
    assertThat(out.getShort(32) & 0xffff).isEqualTo(88);
    assertThat(out.getShort(34) & 0xffff).isEqualTo(Rtnetlink.IFLA_VFINFO_LIST | NetlinkMessage.NLA_F_NESTED);
    assertThat(out.getShort(36) & 0xffff).isEqualTo(84);
    assertThat(out.getShort(38) & 0xffff).isEqualTo(Rtnetlink.IFLA_VF_INFO | NetlinkMessage.NLA_F_NESTED);
    // IFLA_VF_MAC: struct ifla_vf_mac { u32 vf; u8 mac[32]; }
    assertThat(out.getShort(40)).isEqualTo((short) 40);
    assertThat(out.getShort(42)).isEqualTo((short) Rtnetlink.IFLA_VF_MAC);
    assertThat(out.getInt(44)).isEqualTo(3);
    byte[] mac = new byte[32];
    out.duplicate().position(48).get(mac);
    assertThat(mac).startsWith(2, 0, 0, 0, 0, (byte) 0xaa).endsWith(new byte[26]);
    // IFLA_VF_VLAN: struct ifla_vf_vlan { u32 vf; u32 vlan; u32 qos; }
    assertThat(out.getShort(80)).isEqualTo((short) 16);
    assertThat(out.getShort(82)).isEqualTo((short) Rtnetlink.IFLA_VF_VLAN);
    assertThat(new int[] {out.getInt(84), out.getInt(88), out.getInt(92)}).containsExactly(3, 100, 0);
    // IFLA_VF_SPOOFCHK and IFLA_VF_TRUST: { u32 vf; u32 setting; }
    assertThat(out.getShort(98)).isEqualTo((short) Rtnetlink.IFLA_VF_SPOOFCHK);
    assertThat(new int[] {out.getInt(100), out.getInt(104)}).containsExactly(3, 0);
    assertThat(out.getShort(110)).isEqualTo((short) Rtnetlink.IFLA_VF_TRUST);
    assertThat(new int[] {out.getInt(112), out.getInt(116)}).containsExactly(3, 1);
    // and the decoder of the kernel's VF listing reads the same layout back
    assertThat(Rtnetlink.vfs(copy(out))).containsExactly(settings);
  }

  @Test
  void vfSettingsLeaveOutTheFieldsNotSet() {
    NetlinkMessage message = new NetlinkMessage(buffer, Rtnetlink.RTM_NEWLINK, 0, 1)
        .u8(0).u8(0).u16(0).u32(7).u32(0).u32(0);
    LinuxNetworkStack.vfInfoList(message, VfSettings.of(0).withVlan(5));
    ByteBuffer out = message.finish();
    assertThat(out.getShort(32) & 0xffff).isEqualTo(4 + 4 + 16);
    assertThat(out.getShort(42)).isEqualTo((short) Rtnetlink.IFLA_VF_VLAN);
  }

  private static ByteBuffer copy(ByteBuffer message) {
    ByteBuffer copy = ByteBuffer.allocate(message.limit()).order(ByteOrder.nativeOrder());
    return copy.put(message).flip();
  }
}
