package dev.verge.hostos.sim;

import dev.verge.hostos.Address;
import dev.verge.hostos.BridgePortSettings;
import dev.verge.hostos.BridgeVlan;
import dev.verge.hostos.BridgeVlanRange;
import dev.verge.hostos.Errno;
import dev.verge.hostos.HostException;
import dev.verge.hostos.IpPrefix;
import dev.verge.hostos.Link;
import dev.verge.hostos.LinkNames;
import dev.verge.hostos.LinkStats;
import dev.verge.hostos.LinkSpec;
import dev.verge.hostos.MacAddress;
import dev.verge.hostos.NetEvent;
import dev.verge.hostos.Neighbour;
import dev.verge.hostos.NetEvent.Change;
import dev.verge.hostos.NetOperation;
import dev.verge.hostos.NetworkStack;
import dev.verge.hostos.Route;
import dev.verge.hostos.RouteRequest;
import dev.verge.hostos.RouteScope;
import dev.verge.hostos.RouteType;
import dev.verge.hostos.Rule;
import dev.verge.hostos.VfSettings;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * An in-memory network stack with the kernel's semantics: a veth's carrier needs both ends up,
 * deleting a link takes its peer, its stacked links (VLAN, macvlan), its addresses and routes with
 * it and releases its ports; a route needs an up device and a reachable gateway. It also has what
 * the build machine's kernel lacks (VLAN, bond, VRF). Events are computed as the difference of the
 * state before and after each call, so they cannot disagree with the state.
 *
 * <p>A kernel is one namespace of a {@link SimNamespaces}: links move between the namespaces of one
 * registry, and a veth pair may span two of them. Events go to each subscriber on a thread of its
 * own, as the kernel's would, unless {@link #deliverEventsSynchronously} makes them arrive on the
 * changing thread before the change returns; {@link #awaitEventsDelivered} waits for the backlog.
 *
 * <p>Not emulated: IPv6 link-local addresses and routes, learned (non-static) neighbours, events
 * for neighbours and rules.
 */
public final class SimKernel implements NetworkStack {
  private static final int MIN_MTU = 68;
  private static final int MAX_MTU = 65535;
  private static final int LOCAL_TABLE = 255;
  private static final int IPV6_DEFAULT_METRIC = 1024;
  /** The VLAN a bridge gives itself and each new port (the kernel's default_pvid). */
  private static final int DEFAULT_PVID = 1;
  private static final Set<String> MASTER_KINDS = Set.of("bridge", "bond", "vrf");
  /** Kinds the kernel keeps in the namespace they were made in (netns_local). */
  private static final Set<String> NETNS_LOCAL_KINDS = Set.of("bridge", "bond", "vrf");

  private final SimNamespaces world;
  private final String namespaceName;
  private final Object lock;
  private final TreeMap<Integer, SimLink> links = new TreeMap<>();
  private final Set<Address> addresses = new LinkedHashSet<>();
  private final List<Route> staticRoutes = new ArrayList<>();
  private final List<Neighbour> neighbours = new ArrayList<>();
  private final Map<Integer, TreeMap<Integer, VfSettings>> vfs = new HashMap<>();
  private final List<Rule> rules = new ArrayList<>(defaultRules());
  private final List<SimSubscription> subscriptions = new CopyOnWriteArrayList<>();
  private final SimFaults faults = new SimFaults();
  private final Map<String, String> globalSysctls = new TreeMap<>(SimSysctls.GLOBAL_DEFAULTS);
  private final Map<String, String> ipv4All = new TreeMap<>(SimSysctls.IPV4_CONF_DEFAULTS);
  private final Map<String, String> ipv4Default = new TreeMap<>(SimSysctls.IPV4_CONF_DEFAULTS);
  private final Map<String, String> ipv6All = new TreeMap<>(SimSysctls.IPV6_ALL_DEFAULTS);
  private final Map<String, String> ipv6Default = new TreeMap<>(SimSysctls.IPV6_CONF_DEFAULTS);
  private volatile boolean synchronousEvents;
  private int nextIndex = 1;

  /**
   * The link state the sim keeps; {@link Link} records are snapshots of it. A veth's peer and a
   * stacked link's lower link are references, since either may live in another namespace.
   */
  private static final class SimLink {
    final String kind;
    SimKernel home;
    int index;
    String name;
    int mtu;
    MacAddress mac;
    boolean up;
    boolean cable = true;
    int master;
    SimLink peer;
    SimLink lower;
    LinkStats counters = LinkStats.ZERO;
    /** A bridge's VLAN filtering switch. */
    boolean vlanFiltering;
    /** A bond's settings (its mode and primary decide which member is active). */
    LinkSpec.Bond bond;
    /** Flags of a bridge port; DEFAULTS again whenever it joins a bridge. */
    BridgePortSettings portFlags = BridgePortSettings.DEFAULTS;
    /** VLANs of a bridge port or of the bridge itself, by id. */
    final TreeMap<Integer, BridgeVlan> vlans = new TreeMap<>();
    /** IPv4 conf keys set on this link (the others follow conf.default). */
    final Map<String, String> ipv4Conf = new TreeMap<>();
    /** IPv6 conf keys, copied from conf.default when the link appeared in its namespace. */
    final Map<String, String> ipv6Conf = new TreeMap<>();

    SimLink(SimKernel home, int index, String name, String kind, int mtu, MacAddress mac) {
      this.home = home;
      this.index = index;
      this.name = name;
      this.kind = kind;
      this.mtu = mtu;
      this.mac = mac;
    }

    /** What the kernel reports as IFLA_LINK: the peer's or lower link's index in its namespace. */
    int parentIndex() {
      SimLink parent = peer != null ? peer : lower;
      return parent == null ? 0 : parent.index;
    }
  }

  /** A kernel of its own, alone in a registry of its own (as namespace {@code sim}). */
  public SimKernel() {
    this(null, "sim");
  }

  SimKernel(SimNamespaces world, String namespaceName) {
    this.world = world != null ? world : new SimNamespaces();
    this.namespaceName = namespaceName;
    this.lock = this.world.lock;
    SimLink lo = new SimLink(this, nextIndex++, "lo", "", 65536, MacAddress.of("00:00:00:00:00:00"));
    lo.up = true;
    lo.ipv6Conf.putAll(ipv6Default);
    links.put(lo.index, lo);
    if (world == null) {
      this.world.adopt(this);
    }
  }

  /** The name of this kernel's namespace in its registry. */
  public String namespaceName() {
    return namespaceName;
  }

  /** The registry this namespace belongs to: create more, move links between them. */
  public SimNamespaces namespaces() {
    return world;
  }

  /**
   * From now on every subscriber gets the events of a change on the changing thread, before the
   * change returns: agent unit tests become deterministic. A listener must then not wait for
   * another thread that changes this kernel.
   */
  public void deliverEventsSynchronously() {
    synchronousEvents = true;
  }

  /** Returns once every event of the changes made so far has reached every subscriber. */
  public void awaitEventsDelivered() {
    subscriptions.forEach(SimSubscription::awaitDelivered);
  }

  /** Where faults are planned. */
  public SimFaults faults() {
    return faults;
  }

  /**
   * Adds a physical NIC (no kind, like the kernel's ethernet drivers report), with {@code totalVfs}
   * SR-IOV VFs in their power-on state (no MAC, no VLAN, spoof check on, not trusted, auto).
   */
  public void plugNic(String name, int totalVfs) {
    synchronized (lock) {
      LinkNames.requireValid("plug nic", name);
      if (find(name).isPresent()) {
        throw new HostException("plug nic", name, Errno.EEXIST, Errno.EEXIST.description());
      }
      mutate(() -> {
        SimLink nic = add(name, "", 1500);
        TreeMap<Integer, VfSettings> functions = new TreeMap<>();
        for (int vf = 0; vf < totalVfs; vf++) {
          functions.put(vf, new VfSettings(vf, Optional.of(MacAddress.of("00:00:00:00:00:00")), Optional.of(0),
              Optional.of(true), Optional.of(false), Optional.of(VfSettings.LinkState.AUTO)));
        }
        vfs.put(nic.index, functions);
      });
    }
  }

  /** Plugs or unplugs the cable: the link loses or regains carrier whatever its peer does. */
  public void setCarrier(String name, boolean plugged) {
    synchronized (lock) {
      mutate(() -> require("set carrier", name, name).cable = plugged);
    }
  }

  // ---- links

  @Override
  public void createLink(String name, LinkSpec spec) {
    synchronized (lock) {
      String operation = "create " + spec.noun();
      LinkNames.requireValid(operation, name);
      String peerName = spec instanceof LinkSpec.Veth veth ? veth.peerName() : null;
      if (peerName != null) {
        LinkNames.requireValid(operation, peerName);
      }
      faults.onCall(SimOperation.CREATE_LINK, operation, name);
      SimLink parent = spec.parent().map(p -> require(operation, name, p)).orElse(null);
      if (spec instanceof LinkSpec.Bond bond) {
        bond.primary().ifPresent(p -> require(operation, name, p));
      }
      if (find(name).isPresent() || (peerName != null && (find(peerName).isPresent() || peerName.equals(name)))) {
        throw new HostException(operation, name, Errno.EEXIST, Errno.EEXIST.description());
      }
      mutate(
          () -> {
            int mtu = parent != null ? parent.mtu : 1500;
            SimLink link = add(name, spec.kind(), mtu);
            if (spec instanceof LinkSpec.Bridge bridge) {
              link.vlanFiltering = bridge.vlanFiltering();
              link.vlans.put(DEFAULT_PVID, new BridgeVlan(DEFAULT_PVID, true, true));
            }
            if (spec instanceof LinkSpec.Bond bond) {
              link.bond = bond;
            }
            link.lower = spec instanceof LinkSpec.Vxlan ? null : parent;
            if (peerName != null) {
              SimLink peer = add(peerName, spec.kind(), mtu);
              peer.peer = link;
              link.peer = peer;
            }
          });
    }
  }

  private SimLink add(String name, String kind, int mtu) {
    long mac = world.nextMac();
    SimLink link =
        new SimLink(this, nextIndex++, name, kind, mtu,
            MacAddress.of(String.format("02:00:%02x:%02x:%02x:%02x",
                (mac >> 24) & 0xff, (mac >> 16) & 0xff, (mac >> 8) & 0xff, mac & 0xff)));
    links.put(link.index, link);
    link.ipv6Conf.putAll(ipv6Default);
    return link;
  }

  @Override
  public void deleteLink(String name) {
    synchronized (lock) {
      SimLink link = require("delete link", name, name);
      faults.onCall(SimOperation.DELETE_LINK, "delete link", name);
      mutate(() -> remove(link));
    }
  }

  /** One by one, in order: a valid outcome of the kernel's batch, its deletion runs included. */
  @Override
  public List<Optional<HostException>> apply(List<NetOperation> operations) {
    synchronized (lock) {
      List<Optional<HostException>> outcomes = new ArrayList<>(operations.size());
      for (NetOperation operation : operations) {
        try {
          operation.applyTo(this);
          outcomes.add(Optional.empty());
        } catch (HostException refused) {
          outcomes.add(Optional.of(refused));
        }
      }
      return outcomes;
    }
  }

  /** Removes a link with everything that cannot live without it, in whichever namespace. */
  private static void remove(SimLink link) {
    SimKernel kernel = link.home;
    if (kernel.links.get(link.index) != link) {
      return;
    }
    kernel.detach(link);
    kernel.links.remove(link.index);
    kernel.vfs.remove(link.index);
    if (link.peer != null) {
      remove(link.peer);
    }
    for (SimKernel other : kernel.world.all()) {
      for (SimLink stacked : List.copyOf(other.links.values())) {
        if (stacked.lower == link) {
          remove(stacked);
        }
      }
    }
  }

  /**
   * What a link loses when it leaves its namespace (deleted or moved): its addresses, neighbours
   * and routes, its master, and its own ports.
   */
  private void detach(SimLink link) {
    addresses.removeIf(a -> a.linkIndex() == link.index);
    neighbours.removeIf(n -> n.linkIndex() == link.index);
    staticRoutes.removeIf(r -> r.linkIndex() == link.index);
    leaveMaster(link);
    for (SimLink other : links.values()) {
      if (other.master == link.index) {
        leaveMaster(other);
      }
    }
  }

  @Override
  public void setUp(String name, boolean up) {
    synchronized (lock) {
      String operation = up ? "set link up" : "set link down";
      SimLink link = require(operation, name, name);
      faults.onCall(SimOperation.CHANGE_LINK, operation, name);
      mutate(
          () -> {
            link.up = up;
            if (!up) {
              // The kernel flushes the IPv4 routes through a link that goes down.
              staticRoutes.removeIf(r -> r.linkIndex() == link.index);
            }
          });
    }
  }

  @Override
  public void setMtu(String name, int mtu) {
    synchronized (lock) {
      String object = name + " to " + mtu;
      SimLink link = require("set mtu", object, name);
      faults.onCall(SimOperation.CHANGE_LINK, "set mtu", object);
      if (mtu > MAX_MTU) {
        throw new HostException("set mtu", object, Errno.EINVAL, "mtu greater than device maximum");
      }
      if (mtu < MIN_MTU) {
        throw new HostException("set mtu", object, Errno.EINVAL, "mtu less than device minimum");
      }
      mutate(() -> link.mtu = mtu);
    }
  }

  @Override
  public void setMac(String name, MacAddress mac) {
    synchronized (lock) {
      String object = name + " to " + mac;
      SimLink link = require("set mac", object, name);
      faults.onCall(SimOperation.CHANGE_LINK, "set mac", object);
      byte[] bytes = mac.bytes();
      boolean zero = mac.value().equals("00:00:00:00:00:00");
      if ((bytes[0] & 1) != 0 || zero) {
        throw new HostException(
            "set mac", object, Errno.EADDRNOTAVAIL, Errno.EADDRNOTAVAIL.description());
      }
      mutate(() -> link.mac = mac);
    }
  }

  @Override
  public void setMaster(String name, String master) {
    synchronized (lock) {
      String object = name + " to " + master;
      SimLink masterLink = require("set master", object, master);
      SimLink link = require("set master", object, name);
      faults.onCall(SimOperation.CHANGE_LINK, "set master", object);
      if (!MASTER_KINDS.contains(masterLink.kind)) {
        throw new HostException(
            "set master", object, Errno.EOPNOTSUPP,
            "a " + (masterLink.kind.isEmpty() ? "loopback" : masterLink.kind) + " cannot have ports");
      }
      if (masterLink == link) {
        throw new HostException("set master", object, Errno.EINVAL, "a link cannot be its own port");
      }
      if (link.master == masterLink.index) {
        return; // already its port: the kernel changes nothing
      }
      mutate(() -> {
        leaveMaster(link);
        link.master = masterLink.index;
        if (masterLink.kind.equals("bridge")) {
          // a new bridge port: default flags, and the bridge's default PVID, untagged
          link.portFlags = BridgePortSettings.DEFAULTS;
          link.vlans.put(DEFAULT_PVID, new BridgeVlan(DEFAULT_PVID, true, true));
        }
      });
    }
  }

  /** A port leaving its master loses what it had as a port. */
  private static void leaveMaster(SimLink link) {
    link.master = 0;
    if (!link.kind.equals("bridge")) {
      link.vlans.clear();
    }
  }

  @Override
  public void clearMaster(String name) {
    synchronized (lock) {
      SimLink link = require("clear master", name, name);
      faults.onCall(SimOperation.CHANGE_LINK, "clear master", name);
      mutate(() -> leaveMaster(link));
    }
  }

  @Override
  public void rename(String name, String newName) {
    synchronized (lock) {
      String object = name + " to " + newName;
      LinkNames.requireValid("rename", newName);
      SimLink link = require("rename", object, name);
      faults.onCall(SimOperation.CHANGE_LINK, "rename", object);
      if (find(newName).isPresent()) {
        throw new HostException("rename", object, Errno.EEXIST, Errno.EEXIST.description());
      }
      mutate(() -> link.name = newName);
    }
  }

  @Override
  public void moveToNamespace(String name, String namespace) {
    synchronized (lock) {
      String object = name + " to namespace " + namespace;
      LinkNames.requireValidNamespace("move link", object, namespace);
      SimLink link = require("move link", object, name);
      SimKernel target = world.find(namespace).orElseThrow(
          () -> new HostException("move link", object, Errno.ENOENT, "no namespace named " + namespace));
      faults.onCall(SimOperation.CHANGE_LINK, "move link", object);
      if (target == this) {
        return; // the kernel takes a move into the same namespace as done
      }
      if (link.kind.isEmpty() && link.name.equals("lo") || NETNS_LOCAL_KINDS.contains(link.kind)) {
        throw new HostException("move link", object, Errno.EINVAL, "The interface netns is immutable");
      }
      if (target.find(name).isPresent()) {
        throw new HostException("move link", object, Errno.EEXIST,
            "An interface with the same name exists in the target netns");
      }
      mutate(() -> {
        // It arrives down, without addresses, routes or master, keeping its index where free.
        detach(link);
        links.remove(link.index);
        TreeMap<Integer, VfSettings> functions = vfs.remove(link.index);
        link.up = false;
        link.home = target;
        // the kernel re-creates a moved link's conf in the new namespace, from its defaults
        link.ipv4Conf.clear();
        link.ipv6Conf.clear();
        link.ipv6Conf.putAll(target.ipv6Default);
        if (target.links.containsKey(link.index)) {
          link.index = target.nextIndex;
        }
        target.nextIndex = Math.max(target.nextIndex, link.index + 1);
        target.links.put(link.index, link);
        if (functions != null) {
          target.vfs.put(link.index, functions);
        }
      });
    }
  }

  @Override
  public List<Link> links() {
    synchronized (lock) {
      return links.values().stream().map(this::snapshot).toList();
    }
  }

  @Override
  public Optional<Link> link(String name) {
    synchronized (lock) {
      return find(name).map(this::snapshot);
    }
  }

  /**
   * As the kernel's modes with one active member (active-backup, tlb, alb) choose it, without
   * its history: the primary while it has carrier, else the first member (by index) with carrier.
   */
  @Override
  public Optional<String> bondActiveMember(String bond) {
    synchronized (lock) {
      String operation = "read the active member of";
      SimLink link = require(operation, bond, bond);
      if (!link.kind.equals("bond")) {
        throw new HostException(operation, bond, Errno.EOPNOTSUPP, bond + " is not a bond");
      }
      if (!Set.of(LinkSpec.BondMode.ACTIVE_BACKUP, LinkSpec.BondMode.BALANCE_TLB, LinkSpec.BondMode.BALANCE_ALB)
          .contains(link.bond.mode())) {
        return Optional.empty();
      }
      List<SimLink> withCarrier = link.home.links.values().stream()
          .filter(l -> l.master == link.index && carrier(l))
          .sorted(java.util.Comparator.comparingInt(l -> l.index)).toList();
      return withCarrier.stream().filter(l -> link.bond.primary().filter(l.name::equals).isPresent()).findFirst()
          .or(() -> withCarrier.stream().findFirst())
          .map(l -> l.name);
    }
  }

  private Link snapshot(SimLink link) {
    return new Link(
        link.index, link.name, link.kind, link.mtu, link.mac, link.up, carrier(link),
        link.master, link.parentIndex());
  }

  /** Carrier as the kernel derives it for each kind. */
  private static boolean carrier(SimLink link) {
    if (!link.up || !link.cable) {
      return false;
    }
    switch (link.kind) {
      case "veth":
        return link.peer != null && link.peer.up;
      case "tun":
        return false; // nobody has the tap open
      case "vlan":
      case "macvlan":
      case "macvtap":
        return link.lower != null && carrier(link.lower);
      case "bridge":
      case "bond":
        List<SimLink> ports = link.home.links.values().stream().filter(l -> l.master == link.index).toList();
        return (link.kind.equals("bridge") && ports.isEmpty()) || ports.stream().anyMatch(SimKernel::carrier);
      default:
        return true;
    }
  }

  // ---- counters

  @Override
  public LinkStats stats(String name) {
    synchronized (lock) {
      return require("read stats of", name, name).counters;
    }
  }

  @Override
  public Map<String, LinkStats> stats() {
    synchronized (lock) {
      Map<String, LinkStats> all = new TreeMap<>();
      links.values().forEach(l -> all.put(l.name, l.counters));
      return all;
    }
  }

  /** Adds to a link's counters, as traffic a test makes up would. */
  public void countTraffic(String name, LinkStats delta) {
    synchronized (lock) {
      SimLink link = require("count traffic on", name, name);
      link.counters = link.counters.plus(delta);
    }
  }

  /**
   * Sends frames out of a link: counted as sent there and, for a veth, as received by its peer
   * (wherever it lives). A link without carrier sends nothing (ENETDOWN).
   */
  public void transmit(String name, long frames, long bytesPerFrame) {
    synchronized (lock) {
      SimLink link = require("transmit on", name, name);
      if (!carrier(link)) {
        throw new HostException("transmit on", name, Errno.ENETDOWN, Errno.ENETDOWN.description());
      }
      link.counters = link.counters.plus(LinkStats.sent(frames, frames * bytesPerFrame));
      if (link.peer != null) {
        link.peer.counters = link.peer.counters.plus(LinkStats.received(frames, frames * bytesPerFrame));
      }
    }
  }

  // ---- bridges

  @Override
  public void setBridgePort(String port, BridgePortSettings settings) {
    synchronized (lock) {
      SimLink link = requirePort("set bridge port flags", port, port);
      faults.onCall(SimOperation.CHANGE_LINK, "set bridge port flags", port);
      link.portFlags = settings.over(link.portFlags);
    }
  }

  @Override
  public BridgePortSettings bridgePort(String port) {
    synchronized (lock) {
      return requirePort("read bridge port flags", port, port).portFlags;
    }
  }

  private SimLink requirePort(String operation, String object, String name) {
    SimLink link = require(operation, object, name);
    SimLink master = links.get(link.master);
    if (master == null || !master.kind.equals("bridge")) {
      throw new HostException(operation, object, Errno.EOPNOTSUPP, name + " is not a bridge port");
    }
    return link;
  }

  @Override
  public void setVlanFiltering(String bridge, boolean on) {
    synchronized (lock) {
      String operation = "set vlan filtering";
      SimLink link = requireBridge(operation, bridge + (on ? " on" : " off"), bridge);
      faults.onCall(SimOperation.CHANGE_LINK, operation, bridge);
      link.vlanFiltering = on;
    }
  }

  @Override
  public boolean vlanFiltering(String bridge) {
    synchronized (lock) {
      return requireBridge("read vlan filtering of", bridge, bridge).vlanFiltering;
    }
  }

  private SimLink requireBridge(String operation, String object, String name) {
    SimLink link = require(operation, object, name);
    if (!link.kind.equals("bridge")) {
      throw new HostException(operation, object, Errno.EOPNOTSUPP, name + " is not a bridge");
    }
    return link;
  }

  @Override
  public void addBridgeVlans(String name, BridgeVlanRange vlans) {
    synchronized (lock) {
      String object = vlans + " on " + name;
      SimLink link = requireVlanCapable("add bridge vlans", object, name);
      faults.onCall(SimOperation.CHANGE_LINK, "add bridge vlans", object);
      for (int vid = vlans.first(); vid <= vlans.last(); vid++) {
        if (vlans.pvid()) {
          link.vlans.replaceAll((id, v) -> new BridgeVlan(id, false, v.untagged()));
        }
        link.vlans.put(vid, new BridgeVlan(vid, vlans.pvid(), vlans.untagged()));
      }
    }
  }

  @Override
  public void deleteBridgeVlans(String name, int first, int last) {
    synchronized (lock) {
      String object = (first == last ? "vid " + first : "vids " + first + "-" + last) + " on " + name;
      SimLink link = requireVlanCapable("delete bridge vlans", object, name);
      faults.onCall(SimOperation.CHANGE_LINK, "delete bridge vlans", object);
      // the kernel ignores VIDs that are not there (br_vlan_info drops the delete's result; seen
      // in the lab VM on 6.1), so deleting them is a no-op here too
      for (int vid = first; vid <= last; vid++) {
        link.vlans.remove(vid);
      }
    }
  }

  @Override
  public List<BridgeVlan> bridgeVlans(String name) {
    synchronized (lock) {
      return List.copyOf(requireVlanCapable("list bridge vlans of", name, name).vlans.values());
    }
  }

  /**
   * How the bridge forwards a frame that came in on {@code inPort} to {@code outPort}, as the
   * kernel's VLAN filtering does (br_allowed_ingress, br_allowed_egress): an untagged frame takes the
   * in-port's PVID (none: dropped), a tagged one must be of a VLAN of the in-port; it leaves only by a
   * port of its VLAN, untagged where that port's VLAN is untagged. Without filtering every frame goes
   * through as it came.
   *
   * @param tag the frame's 802.1Q VLAN id; empty for an untagged frame
   * @return empty when the frame is not delivered to {@code outPort}; else the tag it leaves with
   *     (empty: untagged)
   */
  public Optional<OptionalInt> bridgeFrame(String inPort, OptionalInt tag, String outPort) {
    synchronized (lock) {
      SimLink in = require("forward a frame from", inPort, inPort);
      SimLink out = require("forward a frame to", outPort, outPort);
      SimLink bridge = links.get(in.master);
      if (bridge == null || !bridge.kind.equals("bridge") || out.master != in.master || in == out) {
        return Optional.empty();
      }
      if (!bridge.vlanFiltering) {
        return Optional.of(tag);
      }
      int vid;
      if (tag.isEmpty()) {
        Optional<BridgeVlan> pvid = in.vlans.values().stream().filter(BridgeVlan::pvid).findFirst();
        if (pvid.isEmpty()) {
          return Optional.empty();
        }
        vid = pvid.get().vid();
      } else if (in.vlans.containsKey(tag.getAsInt())) {
        vid = tag.getAsInt();
      } else {
        return Optional.empty();
      }
      BridgeVlan egress = out.vlans.get(vid);
      if (egress == null) {
        return Optional.empty();
      }
      return Optional.of(egress.untagged() ? OptionalInt.empty() : OptionalInt.of(vid));
    }
  }

  private SimLink requireVlanCapable(String operation, String object, String name) {
    SimLink link = require(operation, object, name);
    SimLink master = links.get(link.master);
    if (!link.kind.equals("bridge") && (master == null || !master.kind.equals("bridge"))) {
      throw new HostException(operation, object, Errno.EOPNOTSUPP, name + " is neither a bridge nor a bridge port");
    }
    return link;
  }

  // ---- SR-IOV virtual functions

  @Override
  public void setVf(String pf, VfSettings settings) {
    synchronized (lock) {
      String object = settings.vf() + " of " + pf;
      SimLink link = require("set vf", object, pf);
      faults.onCall(SimOperation.CHANGE_LINK, "set vf", object);
      TreeMap<Integer, VfSettings> functions = vfs.get(link.index);
      if (functions == null) {
        throw new HostException("set vf", object, Errno.EOPNOTSUPP, Errno.EOPNOTSUPP.description());
      }
      VfSettings current = functions.get(settings.vf());
      boolean badMac = settings.mac().map(m -> (m.bytes()[0] & 1) != 0).orElse(false);
      if (current == null || badMac) {
        throw new HostException("set vf", object, Errno.EINVAL, Errno.EINVAL.description());
      }
      functions.put(settings.vf(), settings.over(current));
    }
  }

  @Override
  public List<VfSettings> vfs(String pf) {
    synchronized (lock) {
      SimLink link = require("list vfs of", pf, pf);
      return List.copyOf(vfs.getOrDefault(link.index, new TreeMap<>()).values());
    }
  }

  // ---- addresses

  @Override
  public void addAddress(String link, IpPrefix prefix) {
    synchronized (lock) {
      String object = prefix + " on " + link;
      SimLink target = require("add address", object, link);
      faults.onCall(SimOperation.ADD_ADDRESS, "add address", object);
      Address address = new Address(target.index, prefix);
      if (addresses.contains(address)) {
        throw new HostException("add address", object, Errno.EEXIST, Errno.EEXIST.description());
      }
      mutate(() -> addresses.add(address));
    }
  }

  @Override
  public void deleteAddress(String link, IpPrefix prefix) {
    synchronized (lock) {
      String object = prefix + " on " + link;
      SimLink target = require("delete address", object, link);
      faults.onCall(SimOperation.DELETE_ADDRESS, "delete address", object);
      Address address = new Address(target.index, prefix);
      if (!addresses.contains(address)) {
        throw new HostException("delete address", object, Errno.EADDRNOTAVAIL, "address not found");
      }
      mutate(() -> addresses.remove(address));
    }
  }

  @Override
  public List<Address> addresses(String link) {
    synchronized (lock) {
      int index = require("list addresses of", link, link).index;
      return addresses.stream().filter(a -> a.linkIndex() == index).toList();
    }
  }

  // ---- routes

  @Override
  public void addRoute(RouteRequest request) {
    synchronized (lock) {
      Route route = validRoute("add route", request, SimOperation.ADD_ROUTE);
      boolean taken = allRoutes().stream().anyMatch(r -> r.sameSlotAs(route));
      if (taken) {
        throw new HostException("add route", request.toString(), Errno.EEXIST, Errno.EEXIST.description());
      }
      mutate(() -> staticRoutes.add(route));
    }
  }

  @Override
  public void replaceRoute(RouteRequest request) {
    synchronized (lock) {
      Route route = validRoute("replace route", request, SimOperation.ADD_ROUTE);
      mutate(() -> {
        staticRoutes.removeIf(r -> r.sameSlotAs(route));
        staticRoutes.add(route);
      });
    }
  }

  /** The route a request makes, or the kernel's refusal of it (fib_create_info, ip6_route_info_create). */
  private Route validRoute(String operation, RouteRequest request, SimOperation faultSlot) {
    String object = request.toString();
    Optional<SimLink> device = request.device().map(d -> require(operation, object, d));
    faults.onCall(faultSlot, operation, object);
    boolean ipv4 = request.destination().isIpv4();
    RouteScope scope = request.effectiveScope();
    if (scope == RouteScope.NOWHERE) {
      throw new HostException(operation, object, Errno.EINVAL, "Invalid scope");
    }
    if (scope == RouteScope.HOST && request.gateway().isPresent()) {
      throw new HostException(operation, object, Errno.EINVAL, "Route with host scope can not have a gateway");
    }
    boolean needsNexthop = request.type() == RouteType.UNICAST;
    if (needsNexthop && request.gateway().isEmpty() && device.isEmpty()) {
      throw new HostException(operation, object, Errno.ENODEV, Errno.ENODEV.description());
    }
    // A host-scope route only names its device; every other nexthop needs it up.
    if (device.isPresent() && !device.get().up && (scope != RouteScope.HOST || !ipv4)) {
      throw new HostException(operation, object, Errno.ENETDOWN,
          ipv4 ? "Device for nexthop is not up" : "Nexthop device is not up");
    }
    int linkIndex = device.map(d -> d.index).orElse(0);
    if (request.gateway().isPresent()) {
      linkIndex = gatewayLink(request, scope, device)
          .orElseThrow(() -> new HostException(operation, object, Errno.ENETUNREACH,
              "Nexthop has invalid gateway"));
    }
    request.preferredSource().ifPresent(source -> {
      if (addresses.stream().noneMatch(a -> a.prefix().address().equals(source))) {
        throw new HostException(operation, object, Errno.EINVAL,
            ipv4 ? "Invalid prefsrc address" : "Invalid source address");
      }
    });
    int metric = !ipv4 && request.metric() == 0 ? IPV6_DEFAULT_METRIC : request.metric();
    return new Route(request.destination(), request.gateway(), linkIndex, request.table(), metric,
        request.type(), request.preferredSource(), scope, request.protocol());
  }

  /**
   * The link through which the gateway is reached: a unicast route of a narrower scope than the
   * new route's (a connected or device route for a universe route), in its table, else in main.
   */
  private Optional<Integer> gatewayLink(RouteRequest request, RouteScope scope, Optional<SimLink> device) {
    InetAddress gateway = request.gateway().get();
    for (int table : new int[] {request.table(), RouteRequest.MAIN_TABLE}) {
      Optional<Route> via = allRoutes().stream()
          .filter(r -> r.table() == table && r.type() == RouteType.UNICAST && r.linkIndex() != 0)
          .filter(r -> r.scope().code() > scope.code() && r.destination().contains(gateway))
          .filter(r -> device.isEmpty() || r.linkIndex() == device.get().index)
          .max(java.util.Comparator.comparingInt(r -> r.destination().length()));
      if (via.isPresent()) {
        return via.map(Route::linkIndex);
      }
    }
    return Optional.empty();
  }

  @Override
  public void deleteRoute(RouteRequest request) {
    synchronized (lock) {
      String object = request.toString();
      Optional<Integer> device = request.device().map(d -> require("delete route", object, d).index);
      faults.onCall(SimOperation.DELETE_ROUTE, "delete route", object);
      Optional<Route> match =
          staticRoutes.stream()
              .filter(r -> r.destination().equals(request.destination()) && r.table() == request.table())
              .filter(r -> request.metric() == 0 || r.metric() == request.metric())
              .filter(r -> request.gateway().isEmpty() || r.gateway().equals(request.gateway()))
              .filter(r -> device.isEmpty() || r.linkIndex() == device.get())
              .findFirst();
      if (match.isEmpty()) {
        throw new HostException("delete route", object, Errno.ESRCH, "no such route");
      }
      mutate(() -> staticRoutes.remove(match.get()));
    }
  }

  @Override
  public List<Route> routes(int table) {
    synchronized (lock) {
      return allRoutes().stream().filter(r -> r.table() == table).toList();
    }
  }

  private List<Route> allRoutes() {
    List<Route> all = new ArrayList<>(connectedRoutes());
    all.addAll(staticRoutes);
    return all;
  }

  /**
   * The routes the kernel derives from IPv4 addresses: a local route for every address (up or
   * not), and while the link is up the prefix route of its first address in each subnet (later
   * ones are secondaries) and the subnet's broadcast route.
   */
  private List<Route> connectedRoutes() {
    List<Route> routes = new ArrayList<>();
    for (Address address : addresses) {
      SimLink link = links.get(address.linkIndex());
      if (link == null || !address.prefix().isIpv4()) {
        continue;
      }
      IpPrefix prefix = address.prefix();
      Optional<InetAddress> source = Optional.of(prefix.address());
      routes.add(new Route(new IpPrefix(prefix.address(), 32), Optional.empty(), link.index,
          LOCAL_TABLE, 0, RouteType.LOCAL, source, RouteScope.HOST, Route.PROTOCOL_KERNEL));
      if (!link.up || prefix.length() == 32) {
        continue;
      }
      Route subnet = new Route(prefix.network(), Optional.empty(), link.index, RouteRequest.MAIN_TABLE, 0,
          RouteType.UNICAST, source, RouteScope.LINK, Route.PROTOCOL_KERNEL);
      boolean secondary = routes.stream().anyMatch(r -> r.sameSlotAs(subnet) && r.linkIndex() == link.index);
      if (!secondary) {
        routes.add(subnet);
        if (prefix.length() < 31) {
          routes.add(new Route(new IpPrefix(broadcast(prefix), 32), Optional.empty(), link.index, LOCAL_TABLE,
              0, RouteType.BROADCAST, source, RouteScope.LINK, Route.PROTOCOL_KERNEL));
        }
      }
    }
    return routes;
  }

  private static InetAddress broadcast(IpPrefix prefix) {
    byte[] bytes = prefix.address().getAddress();
    for (int bit = prefix.length(); bit < 32; bit++) {
      bytes[bit / 8] |= (byte) (0x80 >>> (bit % 8));
    }
    return IpPrefix.fromBytes(bytes);
  }

  // ---- neighbours

  @Override
  public void addNeighbour(String link, InetAddress address, MacAddress mac) {
    synchronized (lock) {
      String object = address.getHostAddress() + " on " + link;
      int index = require("add neighbour", object, link).index;
      faults.onCall(SimOperation.ADD_NEIGHBOUR, "add neighbour", object);
      if (findNeighbour(index, address).isPresent()) {
        throw new HostException("add neighbour", object, Errno.EEXIST, Errno.EEXIST.description());
      }
      neighbours.add(new Neighbour(index, address, Optional.of(mac), true));
    }
  }

  @Override
  public void deleteNeighbour(String link, InetAddress address) {
    synchronized (lock) {
      String object = address.getHostAddress() + " on " + link;
      int index = require("delete neighbour", object, link).index;
      faults.onCall(SimOperation.DELETE_NEIGHBOUR, "delete neighbour", object);
      Neighbour existing = findNeighbour(index, address)
          .orElseThrow(() -> new HostException("delete neighbour", object, Errno.ENOENT, Errno.ENOENT.description()));
      neighbours.remove(existing);
    }
  }

  @Override
  public List<Neighbour> neighbours(String link) {
    synchronized (lock) {
      int index = require("list neighbours of", link, link).index;
      return neighbours.stream().filter(n -> n.linkIndex() == index).toList();
    }
  }

  private Optional<Neighbour> findNeighbour(int index, InetAddress address) {
    return neighbours.stream().filter(n -> n.linkIndex() == index && n.address().equals(address)).findFirst();
  }

  // ---- rules

  /** The rules every namespace starts with: local, main, default (IPv4) and local, main (IPv6). */
  private static List<Rule> defaultRules() {
    List<Rule> defaults = new ArrayList<>();
    for (boolean ipv6 : new boolean[] {false, true}) {
      defaults.add(new Rule(ipv6, 0, Optional.empty(), Optional.empty(), Optional.empty(), 0, LOCAL_TABLE));
      defaults.add(new Rule(ipv6, 32766, Optional.empty(), Optional.empty(), Optional.empty(), 0,
          RouteRequest.MAIN_TABLE));
    }
    defaults.add(new Rule(false, 32767, Optional.empty(), Optional.empty(), Optional.empty(), 0, 253));
    return defaults;
  }

  @Override
  public void addRule(Rule rule) {
    synchronized (lock) {
      faults.onCall(SimOperation.ADD_RULE, "add rule", rule.toString());
      if (rules.contains(rule)) {
        throw new HostException("add rule", rule.toString(), Errno.EEXIST, Errno.EEXIST.description());
      }
      rules.add(rule);
    }
  }

  @Override
  public void deleteRule(Rule rule) {
    synchronized (lock) {
      faults.onCall(SimOperation.DELETE_RULE, "delete rule", rule.toString());
      Rule match = rules(rule.ipv6()).stream().filter(r -> deletionMatches(rule, r)).findFirst()
          .orElseThrow(() -> new HostException("delete rule", rule.toString(), Errno.ENOENT,
              Errno.ENOENT.description()));
      rules.remove(match);
    }
  }

  /** The kernel's rule_find: what the deletion names must match, what it leaves out matches anything. */
  private static boolean deletionMatches(Rule asked, Rule rule) {
    return asked.priority() == rule.priority()
        && (asked.table() == 0 || asked.table() == rule.table())
        && asked.from().map(p -> rule.from().equals(Optional.of(p))).orElse(true)
        && asked.to().map(p -> rule.to().equals(Optional.of(p))).orElse(true)
        && asked.inputInterface().map(i -> rule.inputInterface().equals(Optional.of(i))).orElse(true)
        && asked.outputInterface().map(o -> rule.outputInterface().equals(Optional.of(o))).orElse(true)
        && (asked.fwmark() == 0 || asked.fwmark() == rule.fwmark())
        && (asked.fwmask() == 0 || asked.fwmask() == rule.fwmask())
        && (asked.suppressPrefixLength() == -1 || asked.suppressPrefixLength() == rule.suppressPrefixLength());
  }

  /** Rules in evaluation order; among equal priorities the older first, as the kernel keeps them. */
  @Override
  public List<Rule> rules(boolean ipv6) {
    synchronized (lock) {
      return rules.stream().filter(r -> r.ipv6() == ipv6)
          .sorted(java.util.Comparator.comparingInt(Rule::priority)).toList();
    }
  }

  // ---- sysctl (see SimSysctl for the rules)

  String sysctlGet(String key) {
    synchronized (lock) {
      SimSysctls.Key parsed = SimSysctls.parse("read sysctl", key, key);
      return switch (parsed.scope()) {
        case GLOBAL -> key.equals("net.ipv4.ip_forward") ? ipv4All.get("forwarding") : globalSysctls.get(key);
        case ALL -> (parsed.ipv6() ? ipv6All : ipv4All).get(parsed.name());
        case DEFAULT -> (parsed.ipv6() ? ipv6Default : ipv4Default).get(parsed.name());
        case INTERFACE -> {
          SimLink link = sysctlLink("read sysctl", key, parsed);
          yield parsed.ipv6() ? link.ipv6Conf.get(parsed.name())
              : link.ipv4Conf.getOrDefault(parsed.name(), ipv4Default.get(parsed.name()));
        }
      };
    }
  }

  void sysctlSet(String key, String value) {
    synchronized (lock) {
      String object = key + " to " + value;
      SimSysctls.Key parsed = SimSysctls.parse("set sysctl", key, object);
      if (parsed.scope() == SimSysctls.Scope.INTERFACE) {
        sysctlLink("set sysctl", object, parsed);
      }
      String number = value.strip();
      if (!number.matches("-?[0-9]+")) {
        throw new HostException("set sysctl", object, Errno.EINVAL, "the kernel refused the value");
      }
      String name = parsed.name();
      switch (parsed.scope()) {
        case GLOBAL -> {
          if (key.equals("net.ipv4.ip_forward")) {
            setAll(false, "forwarding", number);
          } else {
            globalSysctls.put(key, number);
          }
        }
        case ALL -> setAll(parsed.ipv6(), name, number);
        case DEFAULT -> (parsed.ipv6() ? ipv6Default : ipv4Default).put(name, number);
        case INTERFACE -> {
          SimLink link = sysctlLink("set sysctl", object, parsed);
          (parsed.ipv6() ? link.ipv6Conf : link.ipv4Conf).put(name, number);
        }
      }
    }
  }

  /** An "all" key; those that the kernel spreads set default and every interface as well. */
  private void setAll(boolean ipv6, String name, String value) {
    (ipv6 ? ipv6All : ipv4All).put(name, value);
    if (SimSysctls.spreadsFromAll(ipv6, name)) {
      (ipv6 ? ipv6Default : ipv4Default).put(name, value);
      links.values().forEach(l -> (ipv6 ? l.ipv6Conf : l.ipv4Conf).put(name, value));
    }
    if (!ipv6 && name.equals("forwarding")) {
      ipv4All.put("accept_redirects", value.equals("0") ? "1" : "0"); // a router ignores redirects
    }
  }

  private SimLink sysctlLink(String operation, String object, SimSysctls.Key key) {
    return find(key.link()).orElseThrow(
        () -> new HostException(operation, object, Errno.ENOENT, "the kernel has no such key"));
  }

  // ---- events

  @Override
  public Subscription subscribe(Consumer<NetEvent> listener) {
    SimSubscription subscription = new SimSubscription(listener, subscriptions::remove);
    subscriptions.add(subscription);
    return subscription;
  }

  /**
   * Applies a change and announces what it changed, in the kernel's order, in every namespace it
   * reached (a move, or a veth whose peer lives elsewhere, touches two).
   */
  private void mutate(Runnable change) {
    List<SimKernel> kernels = world.all();
    if (kernels.stream().allMatch(k -> k.subscriptions.isEmpty())) {
      change.run();
      return;
    }
    List<State> before = kernels.stream().map(SimKernel::state).toList();
    change.run();
    for (int i = 0; i < kernels.size(); i++) {
      SimKernel kernel = kernels.get(i);
      if (!kernel.subscriptions.isEmpty()) {
        List<NetEvent> events = before.get(i).changesTo(kernel.state());
        kernel.subscriptions.forEach(s -> s.deliver(events, kernel.synchronousEvents));
      }
    }
  }

  /** What subscribers hear about, at one moment. */
  private record State(Map<Integer, Link> links, Set<Address> addresses, List<Route> routes) {
    List<NetEvent> changesTo(State after) {
      List<NetEvent> events = new ArrayList<>();
      for (Address gone : addresses) {
        if (!after.addresses.contains(gone)) {
          events.add(new NetEvent.AddressEvent(Change.DELETED, gone));
        }
      }
      for (Route gone : routes) {
        // a replaced route is announced only by its successor's NEW, as the kernel does
        boolean replaced = after.routes.stream().anyMatch(r -> r.sameSlotAs(gone) && !routes.contains(r));
        if (!after.routes.contains(gone) && !replaced) {
          events.add(new NetEvent.RouteEvent(Change.DELETED, gone));
        }
      }
      links.forEach((index, link) -> {
        Link now = after.links.get(index);
        if (now == null) {
          events.add(new NetEvent.LinkEvent(Change.DELETED, link));
        }
      });
      after.links.forEach((index, link) -> {
        if (!Objects.equals(links.get(index), link)) {
          events.add(new NetEvent.LinkEvent(Change.NEW, link));
        }
      });
      for (Address added : after.addresses) {
        if (!addresses.contains(added)) {
          events.add(new NetEvent.AddressEvent(Change.NEW, added));
        }
      }
      for (Route added : after.routes) {
        if (!routes.contains(added)) {
          events.add(new NetEvent.RouteEvent(Change.NEW, added));
        }
      }
      return events;
    }
  }

  private State state() {
    Map<Integer, Link> map = new TreeMap<>();
    links.values().forEach(l -> map.put(l.index, snapshot(l)));
    return new State(map, new LinkedHashSet<>(addresses), allRoutes());
  }

  // ---- helpers

  private Optional<SimLink> find(String name) {
    return links.values().stream().filter(l -> l.name.equals(name)).findFirst();
  }

  private SimLink require(String operation, String object, String name) {
    return find(name)
        .orElseThrow(() -> new HostException(operation, object, Errno.ENODEV, "no link named " + name));
  }

  @Override
  public void close() {
    subscriptions.forEach(SimSubscription::close);
  }
}
