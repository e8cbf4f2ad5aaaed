package dev.verge.hostos.linux;

import static dev.verge.hostos.linux.NetlinkMessage.NLM_F_CREATE;
import static dev.verge.hostos.linux.NetlinkMessage.NLM_F_EXCL;
import static dev.verge.hostos.linux.NetlinkMessage.NLM_F_REPLACE;
import static dev.verge.hostos.linux.Rtnetlink.*;

import com.sun.jna.LastErrorException;
import dev.verge.hostos.Address;
import dev.verge.hostos.BridgePortSettings;
import dev.verge.hostos.BridgeVlan;
import dev.verge.hostos.BridgeVlanRange;
import dev.verge.hostos.Bridges;
import dev.verge.hostos.Errno;
import dev.verge.hostos.HostException;
import dev.verge.hostos.IpPrefix;
import dev.verge.hostos.Link;
import dev.verge.hostos.LinkNames;
import dev.verge.hostos.LinkStats;
import dev.verge.hostos.LinkSpec;
import dev.verge.hostos.MacAddress;
import dev.verge.hostos.NetEvent;
import dev.verge.hostos.NetOperation;
import dev.verge.hostos.Neighbour;
import dev.verge.hostos.NetworkStack;
import dev.verge.hostos.Route;
import dev.verge.hostos.RouteRequest;
import dev.verge.hostos.RouteScope;
import dev.verge.hostos.RouteType;
import dev.verge.hostos.Rule;
import dev.verge.hostos.VfSettings;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.function.Consumer;

/**
 * The real kernel's network stack, spoken to over rtnetlink sockets (no {@code ip} process per
 * operation). Bound to one namespace for its whole life: the one it was opened in.
 */
public final class LinuxNetworkStack implements NetworkStack {
  private final NamespaceThread namespace;
  private final NetlinkSocket socket;
  private final DeletionLanes lanes;

  private LinuxNetworkStack(NamespaceThread namespace) {
    this.namespace = namespace;
    this.socket = inNamespace(() -> NetlinkSocket.open(NetlinkSocket.NETLINK_ROUTE, 0));
    this.lanes =
        new DeletionLanes(() -> inNamespace(() -> NetlinkSocket.open(NetlinkSocket.NETLINK_ROUTE, 0)));
  }

  /** The namespace this JVM (thread) runs in: the normal case, the node runs under ip netns exec. */
  public static LinuxNetworkStack inCurrentNamespace() {
    return new LinuxNetworkStack(NamespaceThread.current());
  }

  /** A named namespace ({@code ip netns add <name>}), entered on a dedicated thread only. */
  public static LinuxNetworkStack inNamespace(String netnsName) {
    return NamespaceThread.open(netnsName, LinuxNetworkStack::new);
  }

  /** Runs work where sockets and tun handles must be opened: inside the stack's namespace. */
  <T> T inNamespace(Callable<T> work) {
    return namespace.call(work);
  }

  // ---- links

  @Override
  public void createLink(String name, LinkSpec spec) {
    if (spec instanceof LinkSpec.Tap) {
      createTap(name, spec);
      return;
    }
    socket.execute(createRequest(name, spec, this::requireIndex));
  }

  private void createTap(String name, LinkSpec spec) {
    String operation = "create " + spec.noun();
    LinkNames.requireValid(operation, name);
    TapDevices.create(this, socket, name, operation);
  }

  /** Finds a link's index, or refuses the operation naming the link that is missing. */
  private interface IndexLookup {
    int require(String operation, String object, String linkName);
  }

  private NetlinkSocket.Request createRequest(String name, LinkSpec spec, IndexLookup lookup) {
    String operation = "create " + spec.noun();
    LinkNames.requireValid(operation, name);
    if (spec instanceof LinkSpec.Veth veth) {
      LinkNames.requireValid(operation, veth.peerName());
    }
    int parent = spec.parent().map(p -> lookup.require(operation, name, p)).orElse(0);
    int primary =
        spec instanceof LinkSpec.Bond bond
            ? bond.primary().map(p -> lookup.require(operation, name, p)).orElse(0)
            : 0;
    NetlinkSocket.Failure failure =
        (errno, text) ->
            errno.equals(Errno.EOPNOTSUPP)
                ? new HostException(operation, name, errno,
                    spec instanceof LinkSpec.Bridge bridge && bridge.vlanFiltering() ? Bridges.NO_VLAN_FILTERING
                        : "kernel has no " + spec.kernelModule() + " support")
                : new HostException(operation, name, errno, text.orElse(errno.description()));
    return new NetlinkSocket.Request(
        RTM_NEWLINK,
        NLM_F_CREATE | NLM_F_EXCL,
        m -> {
          linkHeader(m, 0, 0, 0);
          m.attrString(IFLA_IFNAME, name);
          if (parent != 0 && !(spec instanceof LinkSpec.Vxlan)) {
            m.attrU32(IFLA_LINK, parent);
          }
          LinkInfoEncoder.encode(m, spec, parent, primary);
        },
        failure);
  }

  @Override
  public void deleteLink(String name) {
    socket.execute(deleteRequest(name));
  }

  /**
   * Deletes by name (IFLA_IFNAME, index 0): the kernel looks the name up when it gets there, so no
   * lookup first, and a batch may delete what its earlier requests created.
   */
  static NetlinkSocket.Request deleteRequest(String name) {
    HostException missing =
        new HostException("delete link", name, Errno.ENODEV, "no link named " + name);
    if (name.isEmpty() || name.length() > LinkNames.MAX_LENGTH) {
      throw missing; // no link can have that name; the kernel would only say the attribute is bad
    }
    return new NetlinkSocket.Request(
        RTM_DELLINK, 0,
        m -> {
          linkHeader(m, 0, 0, 0);
          m.attrString(IFLA_IFNAME, name);
        },
        (errno, text) ->
            errno.equals(Errno.ENODEV) ? missing : failure("delete link", name).of(errno, text));
  }

  @Override
  public void setUp(String name, boolean up) {
    String operation = up ? "set link up" : "set link down";
    int index = requireIndex(operation, name, name);
    socket.execute(
        RTM_NEWLINK, 0, m -> linkHeader(m, index, up ? IFF_UP : 0, IFF_UP),
        failure(operation, name));
  }

  @Override
  public void setMtu(String name, int mtu) {
    changeLink("set mtu", name, name + " to " + mtu, m -> m.attrU32(IFLA_MTU, mtu));
  }

  @Override
  public void setMac(String name, MacAddress mac) {
    changeLink("set mac", name, name + " to " + mac, m -> m.attr(IFLA_ADDRESS, mac.bytes()));
  }

  @Override
  public void setMaster(String name, String master) {
    String object = name + " to " + master;
    int masterIndex = requireIndex("set master", object, master);
    changeLink("set master", name, object, m -> m.attrU32(IFLA_MASTER, masterIndex));
  }

  @Override
  public void clearMaster(String name) {
    changeLink("clear master", name, name, m -> m.attrU32(IFLA_MASTER, 0));
  }

  @Override
  public void rename(String name, String newName) {
    String object = name + " to " + newName;
    LinkNames.requireValid("rename", newName);
    changeLink("rename", name, object, m -> m.attrString(IFLA_IFNAME, newName));
  }

  @Override
  public void moveToNamespace(String name, String namespace) {
    String object = name + " to namespace " + namespace;
    LinkNames.requireValidNamespace("move link", object, namespace);
    int index = requireIndex("move link", object, name);
    int fd;
    try {
      fd = LibC.INSTANCE.open("/run/netns/" + namespace, LibC.O_RDONLY | LibC.O_CLOEXEC);
    } catch (LastErrorException e) {
      Errno errno = Errno.of(e.getErrorCode());
      throw new HostException("move link", object, errno,
          errno.equals(Errno.ENOENT) ? "no namespace named " + namespace : errno.description());
    }
    try {
      socket.execute(
          RTM_NEWLINK, 0,
          m -> {
            linkHeader(m, index, 0, 0);
            m.attrU32(IFLA_NET_NS_FD, fd);
          },
          moveFailure(object));
    } finally {
      LibC.INSTANCE.close(fd);
    }
  }

  private void changeLink(
      String operation, String name, String object, Consumer<NetlinkMessage> attributes) {
    int index = requireIndex(operation, object, name);
    socket.execute(
        RTM_NEWLINK, 0,
        m -> {
          linkHeader(m, index, 0, 0);
          attributes.accept(m);
        },
        failure(operation, object));
  }

  @Override
  public List<Link> links() {
    return socket.dump(RTM_GETLINK, m -> linkHeader(m, 0, 0, 0), failure("list", "links")).stream()
        .filter(message -> type(message) == RTM_NEWLINK)
        .map(Rtnetlink::link)
        .toList();
  }

  @Override
  public Optional<Link> link(String name) {
    Optional<Integer> index = socket.indexOf(name);
    if (index.isEmpty()) {
      return Optional.empty();
    }
    try {
      return socket.execute(RTM_GETLINK, 0, m -> linkHeader(m, index.get(), 0, 0),
              failure("get link", name)).stream()
          .filter(message -> type(message) == RTM_NEWLINK)
          .map(Rtnetlink::link)
          .findFirst();
    } catch (HostException e) {
      if (e.errno().equals(Errno.ENODEV)) {
        return Optional.empty(); // deleted between the two calls
      }
      throw e;
    }
  }

  /** The name of a link by index, as this namespace knows it now. */
  public Optional<String> linkName(int index) {
    return socket.nameOf(index);
  }

  private static void linkHeader(NetlinkMessage m, int index, int flags, int change) {
    m.u8(AF_UNSPEC).u8(0).u16(0).u32(index).u32(flags).u32(change);
  }

  // ---- counters

  @Override
  public LinkStats stats(String name) {
    return Rtnetlink.stats(getLink("read stats of", name));
  }

  @Override
  public Map<String, LinkStats> stats() {
    Map<String, LinkStats> all = new TreeMap<>();
    for (ByteBuffer message : socket.dump(RTM_GETLINK, m -> linkHeader(m, 0, 0, 0), failure("list", "link stats"))) {
      if (type(message) == RTM_NEWLINK) {
        all.put(Rtnetlink.link(message).name(), Rtnetlink.stats(message));
      }
    }
    return all;
  }

  /** The kernel's RTM_NEWLINK answer about one link; ENODEV if there is none. */
  @Override
  public Optional<String> bondActiveMember(String bond) {
    String operation = "read the active member of";
    ByteBuffer message = getLink(operation, bond);
    if (!Rtnetlink.link(message).kind().equals("bond")) {
      throw new HostException(operation, bond, Errno.EOPNOTSUPP, bond + " is not a bond");
    }
    int active = Rtnetlink.bondActiveMember(message);
    return active == 0 ? Optional.empty()
        : links().stream().filter(l -> l.index() == active).map(Link::name).findFirst();
  }

  private ByteBuffer getLink(String operation, String name) {
    int index = requireIndex(operation, name, name);
    return socket.execute(RTM_GETLINK, 0, m -> linkHeader(m, index, 0, 0), failure(operation, name)).stream()
        .filter(message -> type(message) == RTM_NEWLINK)
        .findFirst()
        .orElseThrow(() -> new HostException(operation, name, Errno.ENODEV, "no link named " + name));
  }

  // ---- bridges

  @Override
  public void setBridgePort(String port, BridgePortSettings settings) {
    String operation = "set bridge port flags";
    int index = requireIndex(operation, port, port);
    socket.execute(
        RTM_SETLINK, 0,
        m -> {
          bridgeHeader(m, index);
          int info = m.beginNested(IFLA_PROTINFO);
          settings.learning().ifPresent(on -> m.attrU8(IFLA_BRPORT_LEARNING, on ? 1 : 0));
          settings.unicastFlood().ifPresent(on -> m.attrU8(IFLA_BRPORT_UNICAST_FLOOD, on ? 1 : 0));
          settings.multicastFlood().ifPresent(on -> m.attrU8(IFLA_BRPORT_MCAST_FLOOD, on ? 1 : 0));
          settings.broadcastFlood().ifPresent(on -> m.attrU8(IFLA_BRPORT_BCAST_FLOOD, on ? 1 : 0));
          settings.hairpin().ifPresent(on -> m.attrU8(IFLA_BRPORT_MODE, on ? 1 : 0));
          settings.isolated().ifPresent(on -> m.attrU8(IFLA_BRPORT_ISOLATED, on ? 1 : 0));
          settings.neighbourSuppression().ifPresent(on -> m.attrU8(IFLA_BRPORT_NEIGH_SUPPRESS, on ? 1 : 0));
          m.endNested(info);
        },
        // the kernel's only reason to refuse port flags with EOPNOTSUPP: the link has no bridge
        (errno, text) -> errno.equals(Errno.EOPNOTSUPP)
            ? new HostException(operation, port, errno, port + " is not a bridge port")
            : failure(operation, port).of(errno, text));
  }

  @Override
  public BridgePortSettings bridgePort(String port) {
    String operation = "read bridge port flags";
    return bridgeEntry(operation, port, 0)
        .flatMap(Rtnetlink::bridgePort)
        .orElseThrow(() -> new HostException(operation, port, Errno.EOPNOTSUPP, port + " is not a bridge port"));
  }

  /** A link's entry in the AF_BRIDGE dump (bridge ports; bridges too when VLANs are asked for). */
  private Optional<ByteBuffer> bridgeEntry(String operation, String name, int extMask) {
    int index = requireIndex(operation, name, name);
    return socket.dump(RTM_GETLINK,
            m -> {
              bridgeHeader(m, 0);
              if (extMask != 0) {
                m.attrU32(IFLA_EXT_MASK, extMask);
              }
            },
            failure(operation, name)).stream()
        .filter(message -> type(message) == RTM_NEWLINK && Rtnetlink.linkIndex(message) == index)
        .findFirst();
  }

  private static void bridgeHeader(NetlinkMessage m, int index) {
    m.u8(AF_BRIDGE).u8(0).u16(0).u32(index).u32(0).u32(0);
  }

  @Override
  public void setVlanFiltering(String bridge, boolean on) {
    String operation = "set vlan filtering";
    String object = bridge + (on ? " on" : " off");
    requireBridge(operation, object, bridge);
    int index = requireIndex(operation, object, bridge);
    socket.execute(
        RTM_NEWLINK, 0,
        m -> {
          linkHeader(m, index, 0, 0);
          int info = m.beginNested(IFLA_LINKINFO);
          m.attrString(IFLA_INFO_KIND, "bridge");
          int data = m.beginNested(IFLA_INFO_DATA);
          m.attrU8(IFLA_BR_VLAN_FILTERING, on ? 1 : 0).endNested(data).endNested(info);
        },
        vlanFailure(operation, object));
  }

  @Override
  public boolean vlanFiltering(String bridge) {
    return Rtnetlink.vlanFiltering(requireBridge("read vlan filtering of", bridge, bridge));
  }

  private ByteBuffer requireBridge(String operation, String object, String name) {
    ByteBuffer message = getLink(operation, name);
    if (!Rtnetlink.link(message).kind().equals("bridge")) {
      throw new HostException(operation, object, Errno.EOPNOTSUPP, name + " is not a bridge");
    }
    return message;
  }

  @Override
  public void addBridgeVlans(String link, BridgeVlanRange vlans) {
    changeBridgeVlans(RTM_SETLINK, "add bridge vlans", link, vlans);
  }

  @Override
  public void deleteBridgeVlans(String link, int first, int last) {
    changeBridgeVlans(RTM_DELLINK, "delete bridge vlans", link, new BridgeVlanRange(first, last, false, false));
  }

  private void changeBridgeVlans(int type, String operation, String link, BridgeVlanRange vlans) {
    String object = (type == RTM_DELLINK ? (vlans.first() == vlans.last() ? "vid " + vlans.first()
        : "vids " + vlans.first() + "-" + vlans.last()) : vlans.toString()) + " on " + link;
    Link target = Rtnetlink.link(getLink(operation, link));
    boolean self = target.kind().equals("bridge");
    if (!self && !masterIsBridge(target)) {
      throw new HostException(operation, object, Errno.EOPNOTSUPP, link + " is neither a bridge nor a bridge port");
    }
    int flags = (vlans.pvid() ? BRIDGE_VLAN_INFO_PVID : 0) | (vlans.untagged() ? BRIDGE_VLAN_INFO_UNTAGGED : 0);
    socket.execute(
        type, 0,
        m -> {
          bridgeHeader(m, target.index());
          int spec = m.beginNested(IFLA_AF_SPEC);
          if (self) {
            m.attrU16(IFLA_BRIDGE_FLAGS, BRIDGE_FLAGS_SELF);
          }
          if (vlans.first() == vlans.last()) {
            m.attr(IFLA_BRIDGE_VLAN_INFO, vlanInfo(flags, vlans.first()));
          } else {
            m.attr(IFLA_BRIDGE_VLAN_INFO, vlanInfo(flags | BRIDGE_VLAN_INFO_RANGE_BEGIN, vlans.first()));
            m.attr(IFLA_BRIDGE_VLAN_INFO, vlanInfo(flags | BRIDGE_VLAN_INFO_RANGE_END, vlans.last()));
          }
          m.endNested(spec);
        },
        vlanFailure(operation, object));
  }

  /** struct bridge_vlan_info { __u16 flags; __u16 vid; } */
  private static byte[] vlanInfo(int flags, int vid) {
    return java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.nativeOrder())
        .putShort((short) flags).putShort((short) vid).array();
  }

  private boolean masterIsBridge(Link link) {
    return link.hasMaster()
        && links().stream().anyMatch(l -> l.index() == link.masterIndex() && l.kind().equals("bridge"));
  }

  @Override
  public List<BridgeVlan> bridgeVlans(String link) {
    String operation = "list bridge vlans of";
    return bridgeEntry(operation, link, RTEXT_FILTER_BRVLAN_COMPRESSED)
        .map(Rtnetlink::bridgeVlans)
        .orElseThrow(() -> new HostException(operation, link, Errno.EOPNOTSUPP,
            link + " is neither a bridge nor a bridge port"));
  }

  /** VLAN requests fail with EOPNOTSUPP (only) where the kernel was built without VLAN filtering. */
  private static NetlinkSocket.Failure vlanFailure(String operation, String object) {
    return (errno, text) -> errno.equals(Errno.EOPNOTSUPP)
        ? new HostException(operation, object, errno, Bridges.NO_VLAN_FILTERING)
        : failure(operation, object).of(errno, text);
  }

  // ---- SR-IOV virtual functions

  @Override
  public void setVf(String pf, VfSettings settings) {
    String object = settings.vf() + " of " + pf;
    changeLink("set vf", pf, object, m -> vfInfoList(m, settings));
  }

  /** IFLA_VFINFO_LIST { IFLA_VF_INFO { MAC, VLAN, SPOOFCHK, TRUST, LINK_STATE } }, only the fields set. */
  static void vfInfoList(NetlinkMessage m, VfSettings settings) {
    int vf = settings.vf();
    int list = m.beginNested(IFLA_VFINFO_LIST);
    int info = m.beginNested(IFLA_VF_INFO);
    settings.mac().ifPresent(mac -> {
      byte[] value = new byte[4 + 32]; // struct ifla_vf_mac { __u32 vf; __u8 mac[32]; }
      java.nio.ByteBuffer.wrap(value).order(java.nio.ByteOrder.nativeOrder()).putInt(vf).put(mac.bytes());
      m.attr(IFLA_VF_MAC, value);
    });
    settings.vlan().ifPresent(vlan -> vfValues(m, IFLA_VF_VLAN, vf, vlan, 0)); // vf, vlan, qos
    settings.spoofCheck().ifPresent(on -> vfValues(m, IFLA_VF_SPOOFCHK, vf, on ? 1 : 0));
    settings.trust().ifPresent(on -> vfValues(m, IFLA_VF_TRUST, vf, on ? 1 : 0));
    settings.linkState().ifPresent(state -> vfValues(m, IFLA_VF_LINK_STATE, vf, state.ordinal()));
    m.endNested(info).endNested(list);
  }

  private static void vfValues(NetlinkMessage m, int type, int... values) {
    java.nio.ByteBuffer value =
        java.nio.ByteBuffer.allocate(4 * values.length).order(java.nio.ByteOrder.nativeOrder());
    for (int v : values) {
      value.putInt(v);
    }
    m.attr(type, value.array());
  }

  @Override
  public List<VfSettings> vfs(String pf) {
    int index = requireIndex("list vfs of", pf, pf);
    return socket.execute(RTM_GETLINK, 0,
            m -> {
              linkHeader(m, index, 0, 0);
              m.attrU32(IFLA_EXT_MASK, RTEXT_FILTER_VF);
            },
            failure("list vfs of", pf)).stream()
        .filter(message -> type(message) == RTM_NEWLINK)
        .findFirst()
        .map(Rtnetlink::vfs)
        .orElse(List.of());
  }

  // ---- addresses

  @Override
  public void addAddress(String link, IpPrefix prefix) {
    socket.execute(addressRequest(true, link, prefix, this::requireIndex));
  }

  @Override
  public void deleteAddress(String link, IpPrefix prefix) {
    socket.execute(addressRequest(false, link, prefix, this::requireIndex));
  }

  private static NetlinkSocket.Request addressRequest(
      boolean add, String link, IpPrefix prefix, IndexLookup lookup) {
    String operation = add ? "add address" : "delete address";
    String object = prefix + " on " + link;
    int index = lookup.require(operation, object, link);
    byte[] raw = prefix.address().getAddress();
    return new NetlinkSocket.Request(
        add ? RTM_NEWADDR : RTM_DELADDR, add ? NLM_F_CREATE | NLM_F_EXCL : 0,
        m -> {
          m.u8(prefix.isIpv4() ? AF_INET : AF_INET6).u8(prefix.length()).u8(0).u8(0).u32(index);
          m.attr(IFA_LOCAL, raw).attr(IFA_ADDRESS, raw);
        },
        failure(operation, object));
  }

  @Override
  public List<Address> addresses(String link) {
    int index = requireIndex("list addresses of", link, link);
    return allAddresses().stream().filter(a -> a.linkIndex() == index).toList();
  }

  List<Address> allAddresses() {
    return socket.dump(RTM_GETADDR, m -> m.u8(AF_UNSPEC).zeros(7), failure("list", "addresses"))
        .stream()
        .filter(message -> type(message) == RTM_NEWADDR)
        .map(Rtnetlink::address)
        .toList();
  }

  // ---- batches

  @Override
  public List<Optional<HostException>> apply(List<NetOperation> operations) {
    Batch batch = new Batch(operations.size());
    for (int slot = 0; slot < operations.size(); slot++) {
      try {
        batch.add(slot, operations.get(slot));
      } catch (HostException refused) {
        batch.failures[slot] = refused;
      }
    }
    batch.send();
    return Arrays.stream(batch.failures).map(Optional::ofNullable).toList();
  }

  /**
   * Requests waiting to go out together. They go when a later operation must see their effect (it
   * looks up a link they create, or one they may have deleted), and when a run of deletions starts
   * or ends, since a run goes out over the {@link DeletionLanes}.
   */
  private final class Batch {
    final HostException[] failures;
    private final List<NetlinkSocket.Request> pending = new ArrayList<>();
    private final List<Integer> slots = new ArrayList<>();
    private final Set<String> created = new HashSet<>();
    private boolean deleting;

    Batch(int size) {
      failures = new HostException[size];
    }

    void add(int slot, NetOperation operation) {
      if (operation instanceof NetOperation.DeleteLink delete) {
        queue(slot, deleteRequest(delete.name()), true);
      } else if (operation instanceof NetOperation.CreateLink create) {
        if (create.spec() instanceof LinkSpec.Tap) {
          send(); // not a netlink request: made through /dev/net/tun, in order
          createTap(create.name(), create.spec());
          return;
        }
        queue(slot, createRequest(create.name(), create.spec(), this::lookUp), false);
        created.add(create.name());
        if (create.spec() instanceof LinkSpec.Veth veth) {
          created.add(veth.peerName());
        }
      } else if (operation instanceof NetOperation.AddAddress add) {
        queue(slot, addressRequest(true, add.link(), add.prefix(), this::lookUp), false);
      } else if (operation instanceof NetOperation.DeleteAddress delete) {
        queue(slot, addressRequest(false, delete.link(), delete.prefix(), this::lookUp), false);
      }
    }

    private int lookUp(String operation, String object, String linkName) {
      if (deleting || created.contains(linkName)) {
        send();
      }
      return requireIndex(operation, object, linkName);
    }

    private void queue(int slot, NetlinkSocket.Request request, boolean deletion) {
      if (deletion != deleting) {
        send();
      }
      deleting = deletion;
      pending.add(request);
      slots.add(slot);
    }

    void send() {
      if (pending.isEmpty()) {
        return;
      }
      List<HostException> outcomes =
          deleting && pending.size() > 1 ? lanes.executeAll(pending) : socket.executeAll(pending);
      for (int i = 0; i < outcomes.size(); i++) {
        if (outcomes.get(i) != null) {
          failures[slots.get(i)] = outcomes.get(i);
        }
      }
      pending.clear();
      slots.clear();
      created.clear();
      deleting = false;
    }
  }

  // ---- routes

  @Override
  public void addRoute(RouteRequest route) {
    changeRoute(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, "add route", route);
  }

  @Override
  public void replaceRoute(RouteRequest route) {
    changeRoute(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, "replace route", route);
  }

  @Override
  public void deleteRoute(RouteRequest route) {
    changeRoute(RTM_DELROUTE, 0, "delete route", route);
  }

  private void changeRoute(int type, int flags, String operation, RouteRequest route) {
    String object = route.toString();
    int index = route.device().map(d -> requireIndex(operation, object, d)).orElse(0);
    IpPrefix destination = route.destination();
    boolean adding = type == RTM_NEWROUTE;
    // Deleting with scope NOWHERE and protocol 0 matches a route of any scope and protocol.
    int scope = adding ? route.effectiveScope().code() : RouteScope.NOWHERE.code();
    socket.execute(
        type, flags,
        m -> {
          m.u8(destination.isIpv4() ? AF_INET : AF_INET6).u8(destination.length()).u8(0).u8(0);
          m.u8(route.table() < 256 ? route.table() : RT_TABLE_COMPAT);
          m.u8(adding ? route.protocol() : 0).u8(scope).u8(route.type().code()).u32(0);
          m.attrU32(RTA_TABLE, route.table());
          if (destination.length() > 0) {
            m.attr(RTA_DST, destination.address().getAddress());
          }
          route.gateway().ifPresent(g -> m.attr(RTA_GATEWAY, g.getAddress()));
          route.preferredSource().ifPresent(s -> m.attr(RTA_PREFSRC, s.getAddress()));
          if (index != 0) {
            m.attrU32(RTA_OIF, index);
          }
          if (route.metric() != 0) {
            m.attrU32(RTA_PRIORITY, route.metric());
          }
        },
        failure(operation, object));
  }

  @Override
  public List<Route> routes(int table) {
    return allRoutes().stream().filter(r -> r.table() == table).toList();
  }

  List<Route> allRoutes() {
    return socket.dump(RTM_GETROUTE, m -> m.u8(AF_UNSPEC).zeros(11), failure("list", "routes"))
        .stream()
        .filter(message -> type(message) == RTM_NEWROUTE && !isCloned(message))
        .map(Rtnetlink::route)
        .toList();
  }

  // ---- neighbours

  @Override
  public void addNeighbour(String link, InetAddress address, MacAddress mac) {
    String object = address.getHostAddress() + " on " + link;
    int index = requireIndex("add neighbour", object, link);
    socket.execute(
        RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_EXCL,
        m -> {
          neighbourHeader(m, address, index, NUD_PERMANENT);
          m.attr(NDA_DST, address.getAddress()).attr(NDA_LLADDR, mac.bytes());
        },
        failure("add neighbour", object));
  }

  @Override
  public void deleteNeighbour(String link, InetAddress address) {
    String object = address.getHostAddress() + " on " + link;
    int index = requireIndex("delete neighbour", object, link);
    socket.execute(
        RTM_DELNEIGH, 0,
        m -> {
          neighbourHeader(m, address, index, 0);
          m.attr(NDA_DST, address.getAddress());
        },
        failure("delete neighbour", object));
  }

  @Override
  public List<Neighbour> neighbours(String link) {
    int index = requireIndex("list neighbours of", link, link);
    return socket.dump(RTM_GETNEIGH, m -> m.u8(AF_UNSPEC).zeros(11), failure("list", "neighbours"))
        .stream()
        .filter(message -> type(message) == RTM_NEWNEIGH)
        .map(Rtnetlink::neighbour)
        .filter(n -> n.linkIndex() == index)
        .toList();
  }

  private static void neighbourHeader(NetlinkMessage m, InetAddress address, int index, int state) {
    m.u8(address instanceof Inet4Address ? AF_INET : AF_INET6).u8(0).u16(0).u32(index).u16(state).u8(0).u8(0);
  }

  // ---- rules

  @Override
  public void addRule(Rule rule) {
    changeRule(RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, "add rule", rule);
  }

  @Override
  public void deleteRule(Rule rule) {
    changeRule(RTM_DELRULE, 0, "delete rule", rule);
  }

  private void changeRule(int type, int flags, String operation, Rule rule) {
    socket.execute(
        type, flags,
        m -> {
          m.u8(rule.ipv6() ? AF_INET6 : AF_INET);
          m.u8(rule.to().map(IpPrefix::length).orElse(0)).u8(rule.from().map(IpPrefix::length).orElse(0));
          m.u8(0).u8(rule.table() < 256 ? rule.table() : 0).u8(0).u8(0).u8(FR_ACT_TO_TBL).u32(0);
          m.attrU32(FRA_PRIORITY, rule.priority()).attrU32(FRA_TABLE, rule.table());
          rule.from().ifPresent(p -> m.attr(FRA_SRC, p.address().getAddress()));
          rule.to().ifPresent(p -> m.attr(FRA_DST, p.address().getAddress()));
          rule.inputInterface().ifPresent(i -> m.attrString(FRA_IIFNAME, i));
          rule.outputInterface().ifPresent(o -> m.attrString(FRA_OIFNAME, o));
          if (rule.fwmark() != 0 || rule.fwmask() != 0) {
            m.attrU32(FRA_FWMARK, rule.fwmark()).attrU32(FRA_FWMASK, rule.fwmask());
          }
          if (rule.suppressPrefixLength() >= 0) {
            m.attrU32(FRA_SUPPRESS_PREFIXLEN, rule.suppressPrefixLength());
          }
        },
        failure(operation, rule.toString()));
  }

  @Override
  public List<Rule> rules(boolean ipv6) {
    return socket.dump(RTM_GETRULE, m -> m.u8(ipv6 ? AF_INET6 : AF_INET).zeros(11), failure("list", "rules"))
        .stream()
        .filter(message -> type(message) == RTM_NEWRULE)
        .map(Rtnetlink::rule)
        .toList();
  }

  // ---- events

  @Override
  public Subscription subscribe(Consumer<NetEvent> listener) {
    return subscribe(listener, 0);
  }

  /**
   * Subscribes with a given socket receive buffer (0: the system default). A small buffer makes
   * overflow (and so a {@link NetEvent.Resynced}) likely; tests use that.
   */
  public Subscription subscribe(Consumer<NetEvent> listener, int receiveBufferBytes) {
    NetlinkSocket events =
        inNamespace(
            () -> {
              NetlinkSocket opened =
                  NetlinkSocket.open(
                      NetlinkSocket.NETLINK_ROUTE,
                      groupMask(RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR,
                          RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE));
              if (receiveBufferBytes > 0) {
                opened.setReceiveBuffer(receiveBufferBytes);
              }
              return opened;
            });
    return new NetlinkEventStream<>(events, Rtnetlink::event, listener, this::snapshot);
  }

  private NetEvent snapshot() {
    return new NetEvent.Resynced(links(), allAddresses(), allRoutes());
  }

  // ---- helpers

  private int requireIndex(String operation, String object, String linkName) {
    try {
      return socket.indexOf(linkName)
          .orElseThrow(
              () -> new HostException(operation, object, Errno.ENODEV, "no link named " + linkName));
    } catch (LastErrorException e) {
      Errno errno = Errno.of(e.getErrorCode());
      throw new HostException(operation, object, errno, errno.description());
    }
  }

  /**
   * A refused move, worded as kernels since 6.3 word it in their extended ack, so that older
   * kernels (6.1: bare errno) give the same precise message.
   */
  private static NetlinkSocket.Failure moveFailure(String object) {
    return (errno, text) -> new HostException("move link", object, errno, text.orElseGet(() -> {
      if (errno.equals(Errno.EEXIST)) {
        return "An interface with the same name exists in the target netns";
      }
      if (errno.equals(Errno.EINVAL)) {
        return "The interface netns is immutable";
      }
      return errno.description();
    }));
  }

  static NetlinkSocket.Failure failure(String operation, String object) {
    return (errno, text) -> new HostException(operation, object, errno, text.orElse(errno.description()));
  }

  /** The thread inside this stack's namespace (the caller's own for the current namespace). */
  NamespaceThread namespaceThread() {
    return namespace;
  }

  @Override
  public void close() {
    lanes.close();
    socket.close();
    namespace.close();
  }

  /** Encodes IFLA_LINKINFO for each kind. */
  private static final class LinkInfoEncoder {
    static void encode(NetlinkMessage m, LinkSpec spec, int parent, int primary) {
      int info = m.beginNested(IFLA_LINKINFO);
      m.attrString(IFLA_INFO_KIND, spec.kind());
      if (spec instanceof LinkSpec.Veth veth) {
        int data = m.beginNested(IFLA_INFO_DATA);
        int peer = m.beginNested(VETH_INFO_PEER);
        linkHeader(m, 0, 0, 0);
        m.attrString(IFLA_IFNAME, veth.peerName());
        m.endNested(peer).endNested(data);
      } else if (spec instanceof LinkSpec.Bridge bridge && bridge.vlanFiltering()) {
        // Only sent when wanted: kernels without VLAN filtering refuse even "off".
        int data = m.beginNested(IFLA_INFO_DATA);
        m.attrU8(IFLA_BR_VLAN_FILTERING, 1).endNested(data);
      } else if (spec instanceof LinkSpec.Vlan vlan) {
        int data = m.beginNested(IFLA_INFO_DATA);
        m.attrU16(IFLA_VLAN_ID, vlan.vlanId()).endNested(data);
      } else if (spec instanceof LinkSpec.Macvlan macvlan) {
        macvlanMode(m, macvlan.mode());
      } else if (spec instanceof LinkSpec.Macvtap macvtap) {
        macvlanMode(m, macvtap.mode());
      } else if (spec instanceof LinkSpec.Bond bond) {
        bond(m, bond, primary);
      } else if (spec instanceof LinkSpec.Vxlan vxlan) {
        int data = m.beginNested(IFLA_INFO_DATA);
        m.attrU32(IFLA_VXLAN_ID, vxlan.vni());
        vxlan.local().ifPresent(a -> m.attr(IFLA_VXLAN_LOCAL, a.getAddress()));
        vxlan.remote().ifPresent(a -> m.attr(IFLA_VXLAN_GROUP, a.getAddress()));
        if (parent != 0) {
          m.attrU32(IFLA_VXLAN_LINK, parent);
        }
        m.attrBe16(IFLA_VXLAN_PORT, vxlan.port());
        m.endNested(data);
      } else if (spec instanceof LinkSpec.Vrf vrf) {
        int data = m.beginNested(IFLA_INFO_DATA);
        m.attrU32(IFLA_VRF_TABLE, vrf.table()).endNested(data);
      }
      m.endNested(info);
    }

    private static void macvlanMode(NetlinkMessage m, LinkSpec.MacvlanMode mode) {
      int data = m.beginNested(IFLA_INFO_DATA);
      m.attrU32(IFLA_MACVLAN_MODE, mode.code()).endNested(data);
    }

    private static void bond(NetlinkMessage m, LinkSpec.Bond bond, int primary) {
      int data = m.beginNested(IFLA_INFO_DATA);
      m.attrU8(IFLA_BOND_MODE, bond.mode().code());
      m.attrU32(IFLA_BOND_MIIMON, bond.miimon());
      if (bond.miimon() > 0) {
        // the kernel refuses the delays, even zero ones, with EPERM when MII monitoring is off
        m.attrU32(IFLA_BOND_UPDELAY, bond.updelay());
        m.attrU32(IFLA_BOND_DOWNDELAY, bond.downdelay());
      }
      if (bond.arpInterval() > 0) {
        // ARP monitoring is refused (EACCES), even a zero interval, in 802.3ad, tlb and alb modes
        m.attrU32(IFLA_BOND_ARP_INTERVAL, bond.arpInterval());
      }
      if (!bond.arpTargets().isEmpty()) {
        int targets = m.beginNested(IFLA_BOND_ARP_IP_TARGET);
        int i = 0;
        for (Inet4Address target : bond.arpTargets()) {
          m.attr(i++, target.getAddress());
        }
        m.endNested(targets);
      }
      if (bond.mode() == LinkSpec.BondMode.LACP_802_3AD) {
        m.attrU8(IFLA_BOND_AD_LACP_RATE, bond.lacpRate().ordinal());
      }
      if (primary != 0) {
        m.attrU32(IFLA_BOND_PRIMARY, primary);
      }
      m.endNested(data);
    }
  }
}
