package dev.verge.nim;

import dev.verge.hostos.IpPrefix;
import dev.verge.hostos.LinkSpec;
import dev.verge.nim.Port.Addressing;
import dev.verge.proto.config.v1.BondAdapter;
import dev.verge.proto.config.v1.DeviceConfig;
import dev.verge.proto.config.v1.IpSpec;
import dev.verge.proto.config.v1.NetworkConfig;
import dev.verge.proto.config.v1.PhysicalIo;
import dev.verge.proto.config.v1.SystemAdapter;
import dev.verge.proto.config.v1.VlanAdapter;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Turns the port part of a device config (physical I/O, VLANs, bonds, system adapters, networks)
 * into a validated {@link PortConfig}. A port whose config is wrong gets a precise error under its
 * label and is left out; the other ports are kept, so one typo does not cut the device off.
 */
public final class PortConfigReader {
  /** The kernel's limit on interface names (IFNAMSIZ - 1). */
  public static final int MAX_IFNAME = 15;

  private PortConfigReader() {}

  /** The port config of a whole device config (the override file, a local override). */
  public static PortConfig read(String key, long timePriorityMs, DeviceConfig config) {
    Map<String, NetworkConfig> networks = new LinkedHashMap<>();
    config.getNetworksList().forEach(n -> networks.put(n.getId().getUuid(), n));
    return read(key, timePriorityMs, config.getDeviceIoList(), config.getVlansList(), config.getBondsList(),
        config.getSystemAdaptersList(), networks);
  }

  /** The port config from zedagent's topics (the controller's config split per object). */
  public static PortConfig read(
      String key,
      long timePriorityMs,
      Collection<PhysicalIo> physicalIo,
      Collection<VlanAdapter> vlans,
      Collection<BondAdapter> bonds,
      Collection<SystemAdapter> systemAdapters,
      Map<String, NetworkConfig> networks) {
    return new Reading(physicalIo, vlans, bonds, systemAdapters, networks).toConfig(key, timePriorityMs);
  }

  /** The interface name of a physical I/O: its "ifname" address, else its physical label. */
  public static String ifName(PhysicalIo io) {
    return io.getPhyAddrsOrDefault("ifname", io.getPhyLabel());
  }

  /** Why an interface name is not one the kernel takes, or empty. */
  static Optional<String> badIfName(String name) {
    if (name.isEmpty()) {
      return Optional.of("interface name is empty");
    }
    if (name.length() > MAX_IFNAME) {
      return Optional.of("interface name '" + name + "' is " + name.length() + " characters, at most "
          + MAX_IFNAME);
    }
    if (name.equals(".") || name.equals("..") || name.chars().anyMatch(c -> c == '/' || c == ':'
        || Character.isWhitespace(c))) {
      return Optional.of("interface name '" + name + "' has a character the kernel refuses");
    }
    return Optional.empty();
  }

  /** The kernel settings of a bond (its mode and monitors with EVE's defaults). */
  static LinkSpec.Bond Reading_bondSpec(BondAdapter bond) {
    return Reading.bondSpec(bond, bond.getLowerLayerNamesList().stream().findFirst());
  }

  /** One reading: the adapters by label, the errors found so far, the links built. */
  private static final class Reading {
    private final Map<String, PhysicalIo> physical = new TreeMap<>();
    private final Map<String, VlanAdapter> vlans = new TreeMap<>();
    private final Map<String, BondAdapter> bonds = new TreeMap<>();
    private final Collection<SystemAdapter> systemAdapters;
    private final Map<String, NetworkConfig> networks;
    private final SortedMap<String, String> errors = new TreeMap<>();
    /** label → the link built for it (L2 until a system adapter gives it IP). */
    private final Map<String, Port> links = new TreeMap<>();
    private final Map<String, String> memberOf = new HashMap<>();
    private final Map<String, String> badAdapters = new HashMap<>();

    Reading(Collection<PhysicalIo> physicalIo, Collection<VlanAdapter> vlanList, Collection<BondAdapter> bondList,
        Collection<SystemAdapter> systemAdapters, Map<String, NetworkConfig> networks) {
      this.systemAdapters = systemAdapters;
      this.networks = networks;
      physicalIo.forEach(io -> physical.put(label(io), io));
      for (VlanAdapter v : vlanList) {
        if (physical.containsKey(v.getLogicalLabel())) {
          badAdapters.put(v.getLogicalLabel(), "label '" + v.getLogicalLabel() + "' is used by a physical I/O and a VLAN");
        }
        vlans.put(v.getLogicalLabel(), v);
      }
      for (BondAdapter b : bondList) {
        if (physical.containsKey(b.getLogicalLabel()) || vlans.containsKey(b.getLogicalLabel())) {
          badAdapters.put(b.getLogicalLabel(), "label '" + b.getLogicalLabel() + "' is used twice (bond and another adapter)");
        }
        bonds.put(b.getLogicalLabel(), b);
      }
    }

    private static String label(PhysicalIo io) {
      return io.getLogicalLabel().isEmpty() ? io.getPhyLabel() : io.getLogicalLabel();
    }

    PortConfig toConfig(String key, long timePriorityMs) {
      bonds.values().forEach(this::readBond);
      vlans.values().forEach(this::readVlan);
      List<Port> ports = new ArrayList<>();
      Map<String, String> ipOnLink = new HashMap<>();
      for (SystemAdapter adapter : systemAdapters.stream().sorted(Comparator.comparing(SystemAdapter::getName)).toList()) {
        try {
          Port port = readSystemAdapter(adapter);
          String other = ipOnLink.putIfAbsent(port.ifName(), adapter.getName());
          if (other != null) {
            throw new BadPort("interface " + port.ifName() + " is already the port '" + other + "'");
          }
          ports.add(port);
        } catch (BadPort e) {
          errors.put(adapter.getName(), e.getMessage());
        }
      }
      // The links underneath the ports, each once, parents first.
      Map<String, Port> needed = new TreeMap<>();
      for (Port port : ports) {
        addLowerLayers(port, needed);
      }
      ports.forEach(p -> needed.remove(p.ifName()));
      List<Port> all = new ArrayList<>(needed.values());
      all.addAll(ports);
      all.sort(Comparator.comparingInt((Port p) -> p.kind().ordinal()).thenComparing(Port::ifName));
      return new PortConfig(key, timePriorityMs, all, errors);
    }

    private void addLowerLayers(Port port, Map<String, Port> needed) {
      port.vlan().ifPresent(v -> lowerByIfName(v.parent()).ifPresent(parent -> {
        needed.putIfAbsent(parent.ifName(), parent);
        addLowerLayers(parent, needed);
      }));
      port.bond().ifPresent(b -> b.members().forEach(m -> lowerByIfName(m).ifPresent(member -> needed.putIfAbsent(m, member))));
    }

    private Optional<Port> lowerByIfName(String ifName) {
      return links.values().stream().filter(l -> l.ifName().equals(ifName)).findFirst();
    }

    /** The L2 link of an adapter label, built on first use; BadPort if it cannot be. */
    private Port link(String label) {
      Port known = links.get(label);
      if (known != null) {
        return known;
      }
      if (badAdapters.containsKey(label)) {
        throw new BadPort(badAdapters.get(label));
      }
      PhysicalIo io = physical.get(label);
      if (io == null) {
        if (vlans.containsKey(label) || bonds.containsKey(label)) {
          throw new BadPort(badAdapters.getOrDefault(label, "adapter '" + label + "' is invalid"));
        }
        throw new BadPort("unknown port label '" + label + "': no physical I/O, VLAN or bond has it");
      }
      Port.Kind kind = switch (io.getType()) {
        case TYPE_ETHERNET, TYPE_ETH_PF -> Port.Kind.ETHERNET;
        case TYPE_WLAN -> Port.Kind.WIFI;
        case TYPE_WWAN -> Port.Kind.CELLULAR;
        default -> throw new BadPort("physical I/O '" + label + "' is " + io.getType()
            + ": only Ethernet, WLAN and WWAN ports are supported");
      };
      if (io.getUsage() == PhysicalIo.Usage.USAGE_DEDICATED || io.getUsage() == PhysicalIo.Usage.USAGE_DISABLED) {
        throw new BadPort("physical I/O '" + label + "' is " + io.getUsage() + " and cannot be a port");
      }
      String ifName = ifName(io);
      badIfName(ifName).ifPresent(e -> {
        throw new BadPort(e);
      });
      Port port = l2(label, ifName, kind, Optional.empty(), Optional.empty(),
          Optional.ofNullable(memberOf.get(label)));
      links.put(label, port);
      return port;
    }

    private static Port l2(String label, String ifName, Port.Kind kind, Optional<Port.Vlan> vlan,
        Optional<Port.Bond> bond, Optional<String> master) {
      return new Port(label, ifName, kind, vlan, bond, master, Port.Usage.L2_ONLY, 0, new Addressing.None(),
          List.of(), 0, false);
    }

    private void readBond(BondAdapter bond) {
      String label = bond.getLogicalLabel();
      if (badAdapters.containsKey(label)) {
        return;
      }
      try {
        badIfName(bond.getInterfaceName()).ifPresent(e -> {
          throw new BadPort(e);
        });
        if (bond.getLowerLayerNamesCount() == 0) {
          throw new BadPort("bond '" + label + "' has no members");
        }
        List<String> members = new ArrayList<>();
        for (String member : bond.getLowerLayerNamesList()) {
          if (!physical.containsKey(member)) {
            throw new BadPort("bond member '" + member + "' is not a physical I/O"
                + (vlans.containsKey(member) || bonds.containsKey(member) ? " (a bond takes only physical ports)" : ""));
          }
          String other = memberOf.get(member);
          if (other != null && !other.equals(bond.getInterfaceName())) {
            throw new BadPort("port '" + member + "' is already a member of bond " + other
                + "; a port can be in one bond only");
          }
          members.add(member);
        }
        LinkSpec.Bond spec = bondSpec(bond, members.isEmpty() ? Optional.empty() : Optional.of(members.get(0)));
        List<String> memberIfNames = new ArrayList<>();
        for (String member : members) {
          memberOf.put(member, bond.getInterfaceName());
          memberIfNames.add(link(member).ifName());
        }
        LinkSpec.Bond withIfNames = new LinkSpec.Bond(spec.mode(), spec.miimon(), spec.updelay(), spec.downdelay(),
            spec.arpInterval(), spec.arpTargets(), spec.lacpRate(),
            spec.primary().map(p -> memberIfNames.get(0)));
        links.put(label, l2(label, bond.getInterfaceName(), Port.Kind.BOND, Optional.empty(),
            Optional.of(new Port.Bond(withIfNames, memberIfNames)), Optional.empty()));
      } catch (BadPort e) {
        members(bond).forEach(m -> memberOf.remove(m, bond.getInterfaceName()));
        badAdapters.put(label, "bond '" + label + "': " + e.getMessage());
      }
    }

    private static List<String> members(BondAdapter bond) {
      return bond.getLowerLayerNamesList();
    }

    /**
     * The bond's kernel settings. An unspecified mode is round-robin, as the API documents (EVE
     * rejects it); failover modes without a monitor get EVE's MII monitor of 100 ms.
     */
    static LinkSpec.Bond bondSpec(BondAdapter bond, Optional<String> firstMember) {
      LinkSpec.BondMode mode = switch (bond.getMode()) {
        case MODE_UNSPECIFIED, MODE_BALANCE_RR, UNRECOGNIZED -> LinkSpec.BondMode.BALANCE_RR;
        case MODE_ACTIVE_BACKUP -> LinkSpec.BondMode.ACTIVE_BACKUP;
        case MODE_BALANCE_XOR -> LinkSpec.BondMode.BALANCE_XOR;
        case MODE_BROADCAST -> LinkSpec.BondMode.BROADCAST;
        case MODE_802_3AD -> LinkSpec.BondMode.LACP_802_3AD;
        case MODE_BALANCE_TLB -> LinkSpec.BondMode.BALANCE_TLB;
        case MODE_BALANCE_ALB -> LinkSpec.BondMode.BALANCE_ALB;
      };
      boolean failoverMode = mode == LinkSpec.BondMode.ACTIVE_BACKUP || mode == LinkSpec.BondMode.BALANCE_TLB
          || mode == LinkSpec.BondMode.BALANCE_ALB;
      int miimon = 0;
      int updelay = 0;
      int downdelay = 0;
      int arpInterval = 0;
      List<Inet4Address> targets = new ArrayList<>();
      switch (bond.getMonitoringCase()) {
        case MII -> {
          miimon = (int) bond.getMii().getIntervalMs();
          updelay = (int) bond.getMii().getUpdelayMs();
          downdelay = (int) bond.getMii().getDowndelayMs();
          if (miimon == 0 && (updelay != 0 || downdelay != 0)) {
            throw new BadPort("MII updelay/downdelay need an MII interval");
          }
          if (miimon > 0 && (updelay % miimon != 0 || downdelay % miimon != 0)) {
            throw new BadPort("MII updelay " + updelay + " ms and downdelay " + downdelay
                + " ms must be multiples of the interval " + miimon + " ms");
          }
        }
        case ARP -> {
          arpInterval = (int) bond.getArp().getIntervalMs();
          if (arpInterval == 0) {
            throw new BadPort("ARP monitoring needs an interval");
          }
          if (bond.getArp().getIpTargetsCount() == 0) {
            throw new BadPort("ARP monitoring needs at least one IP target");
          }
          for (String target : bond.getArp().getIpTargetsList()) {
            InetAddress address = address("ARP target", target);
            if (!(address instanceof Inet4Address v4)) {
              throw new BadPort("ARP target " + target + " is not an IPv4 address");
            }
            targets.add(v4);
          }
          if (mode == LinkSpec.BondMode.LACP_802_3AD || mode == LinkSpec.BondMode.BALANCE_TLB
              || mode == LinkSpec.BondMode.BALANCE_ALB) {
            throw new BadPort("ARP monitoring does not work in mode " + mode + " (use MII)");
          }
        }
        case MONITORING_NOT_SET -> miimon = failoverMode ? 100 : 0;
      }
      LinkSpec.LacpRate rate = bond.getLacpRate() == BondAdapter.LacpRate.LACP_RATE_FAST
          ? LinkSpec.LacpRate.FAST : LinkSpec.LacpRate.SLOW;
      Optional<String> primary = mode == LinkSpec.BondMode.ACTIVE_BACKUP ? firstMember : Optional.empty();
      return new LinkSpec.Bond(mode, miimon, updelay, downdelay, arpInterval, targets, rate, primary);
    }

    private void readVlan(VlanAdapter vlan) {
      String label = vlan.getLogicalLabel();
      if (badAdapters.containsKey(label)) {
        return;
      }
      try {
        badIfName(vlan.getInterfaceName()).ifPresent(e -> {
          throw new BadPort(e);
        });
        if (vlan.getVlanId() < 1 || vlan.getVlanId() > 4094) {
          throw new BadPort("VLAN id " + vlan.getVlanId() + " is out of 1..4094");
        }
        if (vlans.containsKey(vlan.getLowerLayerName())) {
          throw new BadPort("a VLAN cannot sit on VLAN '" + vlan.getLowerLayerName() + "'");
        }
        Port parent = link(vlan.getLowerLayerName());
        if (parent.master().isPresent()) {
          throw new BadPort("parent '" + vlan.getLowerLayerName() + "' is a member of bond " + parent.master().get()
              + "; a port cannot be both a bond member and a VLAN parent");
        }
        for (Port other : links.values()) {
          if (other.vlan().isPresent() && other.vlan().get().parent().equals(parent.ifName())
              && other.vlan().get().id() == vlan.getVlanId()) {
            throw new BadPort("duplicate VLAN id " + vlan.getVlanId() + " on parent " + parent.ifName()
                + ": VLAN '" + other.label() + "' has it already");
          }
        }
        links.put(label, l2(label, vlan.getInterfaceName(), Port.Kind.VLAN,
            Optional.of(new Port.Vlan(parent.ifName(), (int) vlan.getVlanId())), Optional.empty(), Optional.empty()));
      } catch (BadPort e) {
        badAdapters.put(label, "VLAN '" + label + "': " + e.getMessage());
      }
    }

    private Port readSystemAdapter(SystemAdapter adapter) {
      if (adapter.getName().isEmpty()) {
        throw new BadPort("a system adapter has no name");
      }
      Port link = link(adapter.getLowerLayerName());
      if (link.master().isPresent()) {
        throw new BadPort("'" + adapter.getLowerLayerName() + "' is a member of bond " + link.master().get()
            + ": a bond member cannot carry IP config");
      }
      if (adapter.getCost() > 255) {
        throw new BadPort("cost " + adapter.getCost() + " is out of 0..255");
      }
      NetworkConfig network = null;
      if (!adapter.getNetworkUuid().isEmpty()) {
        network = networks.get(adapter.getNetworkUuid());
        if (network == null) {
          throw new BadPort("unknown network " + adapter.getNetworkUuid());
        }
      }
      IpSpec ip = network == null ? IpSpec.getDefaultInstance() : network.getIp();
      Addressing addressing = addressing(adapter, ip);
      int mtu = network == null ? 0 : (int) network.getMtu();
      if (mtu != 0 && (mtu < 68 || mtu > 65535)) {
        throw new BadPort("MTU " + mtu + " is out of 68..65535");
      }
      List<InetAddress> dns = new ArrayList<>();
      for (String server : ip.getDnsList()) {
        dns.add(address("DNS server", server));
      }
      Port.Usage usage = addressing instanceof Addressing.None ? Port.Usage.L2_ONLY
          : adapter.getUplink() ? Port.Usage.MANAGEMENT : Port.Usage.APP_SHARED;
      if (adapter.getUplink() && addressing instanceof Addressing.None) {
        throw new BadPort("a management port needs IP (DHCP or static), not DHCP_TYPE_NONE");
      }
      Optional<Port.Proxy> proxy = network == null || !network.hasProxy() ? Optional.empty() : proxy(network.getProxy());
      Optional<Port.Wireless> wireless = Wireless.read(link.kind(),
          network == null ? dev.verge.proto.config.v1.WirelessConfig.getDefaultInstance() : network.getWireless(),
          network != null && network.hasWireless());
      List<String> ntp = new ArrayList<>();
      for (String server : ip.getNtpList()) {
        String name = server.trim();
        if (!HOST_OR_DOMAIN.matcher(name).matches() && !name.matches("[0-9a-fA-F:.]+")) {
          throw new BadPort("NTP server '" + server + "' is neither an address nor a host name");
        }
        ntp.add(name);
      }
      return new Port(adapter.getName(), link.ifName(), link.kind(), link.vlan(), link.bond(), Optional.empty(),
          usage, adapter.getCost(), addressing, dns, mtu, adapter.getAllowLocalModifications(), proxy, wireless, ntp);
    }

    private static final java.util.regex.Pattern HOST_OR_DOMAIN =
        java.util.regex.Pattern.compile("\\.?[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*");

    /** The first proxy URL is used; every one must parse, as must every exception. */
    static Optional<Port.Proxy> proxy(dev.verge.proto.config.v1.ProxyConfig config) {
      Port.Proxy first = null;
      for (String url : config.getProxiesList()) {
        java.net.URI uri;
        try {
          uri = new java.net.URI(url.trim());
        } catch (java.net.URISyntaxException e) {
          throw new BadPort("proxy URL '" + url + "' does not parse: " + e.getReason() + " at index " + e.getIndex());
        }
        if (uri.getScheme() == null || uri.getHost() == null) {
          throw new BadPort("proxy URL '" + url + "' does not parse: it needs scheme://host[:port]");
        }
        if (!uri.getScheme().equalsIgnoreCase("http")) {
          throw new BadPort("proxy URL '" + url + "': scheme '" + uri.getScheme()
              + "' is not supported (only http, whose CONNECT tunnels TLS)");
        }
        if (uri.getUserInfo() != null) {
          throw new BadPort("proxy URL '" + url + "': credentials in the URL are not supported");
        }
        String path = uri.getRawPath();
        if ((path != null && !path.isEmpty() && !path.equals("/")) || uri.getRawQuery() != null) {
          throw new BadPort("proxy URL '" + url + "' has a path or query; a proxy is scheme://host[:port]");
        }
        int port = uri.getPort() == -1 ? 80 : uri.getPort();
        if (port < 1 || port > 65535) {
          throw new BadPort("proxy URL '" + url + "': port " + port + " is out of 1..65535");
        }
        if (first == null) {
          first = new Port.Proxy(uri.getHost().replace("[", "").replace("]", ""), port, config.getExceptionsList());
        }
      }
      for (String exception : config.getExceptionsList()) {
        boolean ip = exception.matches("[0-9.]+|[0-9A-Fa-f:]+") && ipLiteral(exception);
        if (!exception.equals("*") && !ip && !HOST_OR_DOMAIN.matcher(exception).matches()) {
          throw new BadPort("proxy exception '" + exception + "' is not a host, a domain, an IP address or *");
        }
      }
      if (first == null && !config.getExceptionsList().isEmpty()) {
        throw new BadPort("proxy exceptions without a proxy");
      }
      return Optional.ofNullable(first);
    }

    private static boolean ipLiteral(String text) {
      try {
        IpPrefix.literal(text);
        return true;
      } catch (RuntimeException e) {
        return false;
      }
    }

    private static Addressing addressing(SystemAdapter adapter, IpSpec ip) {
      switch (ip.getDhcp()) {
        case DHCP_TYPE_NONE:
          return new Addressing.None();
        case DHCP_TYPE_STATIC: {
          if (ip.getSubnet().isEmpty()) {
            throw new BadPort("static IP needs a subnet");
          }
          IpPrefix subnet = prefix("subnet", ip.getSubnet());
          String addr = adapter.getAddr();
          if (addr.isEmpty()) {
            throw new BadPort("static IP config without an address (addr)");
          }
          InetAddress address = address("static IP", addr);
          if (!subnet.contains(address)) {
            throw new BadPort("static IP " + addr + " is outside its subnet " + subnet);
          }
          if (address.equals(subnet.network().address())) {
            throw new BadPort("static IP " + addr + " is the network address of " + subnet);
          }
          Optional<InetAddress> gateway = Optional.empty();
          if (!ip.getGateway().isEmpty()) {
            InetAddress gw = address("gateway", ip.getGateway());
            if (!subnet.contains(gw)) {
              throw new BadPort("gateway " + ip.getGateway() + " is outside the subnet " + subnet);
            }
            gateway = Optional.of(gw);
          }
          return new Addressing.Static(new IpPrefix(address, subnet.length()), gateway);
        }
        default:
          return new Addressing.Dhcp();
      }
    }

    private static InetAddress address(String what, String text) {
      try {
        return IpPrefix.literal(text);
      } catch (RuntimeException e) {
        throw new BadPort(what + " '" + text + "' is not an IP address");
      }
    }

    private static IpPrefix prefix(String what, String text) {
      try {
        return IpPrefix.parse(text);
      } catch (RuntimeException e) {
        throw new BadPort(what + " '" + text + "' is not a prefix");
      }
    }
  }

  /** WiFi and cellular settings: checked for what a radio would need; no radio is driven here. */
  static final class Wireless {
    private Wireless() {}

    static Optional<Port.Wireless> read(Port.Kind kind, dev.verge.proto.config.v1.WirelessConfig config, boolean present) {
      var type = config.getType();
      if (kind == Port.Kind.WIFI) {
        if (!present || type != dev.verge.proto.config.v1.WirelessConfig.Type.TYPE_WIFI || config.getWifiCount() == 0) {
          throw new BadPort("a WiFi port needs a wireless config of type TYPE_WIFI with at least one SSID");
        }
        List<String> ssids = new ArrayList<>();
        for (var wifi : config.getWifiList()) {
          ssids.add(wifi(wifi));
        }
        return Optional.of(new Port.Wireless(kind, ssids));
      }
      if (kind == Port.Kind.CELLULAR) {
        if (!present || type != dev.verge.proto.config.v1.WirelessConfig.Type.TYPE_CELLULAR || config.getCellularCount() == 0) {
          throw new BadPort("a cellular port needs a wireless config of type TYPE_CELLULAR with at least one access point");
        }
        List<String> apns = new ArrayList<>();
        java.util.Set<Integer> slots = new java.util.HashSet<>();
        for (var ap : config.getCellularList()) {
          if (!slots.add(ap.getSimSlot())) {
            throw new BadPort("two access points for SIM slot " + ap.getSimSlot());
          }
          apns.add(accessPoint(ap));
        }
        return Optional.of(new Port.Wireless(kind, apns));
      }
      if (present && type != dev.verge.proto.config.v1.WirelessConfig.Type.TYPE_UNSPECIFIED) {
        throw new BadPort("wireless config " + type + " on a " + kind.word() + " port");
      }
      return Optional.empty();
    }

    private static String wifi(dev.verge.proto.config.v1.WifiNetwork wifi) {
      String ssid = wifi.getSsid();
      if (ssid.isEmpty()) {
        throw new BadPort("a WiFi network without an SSID");
      }
      if (ssid.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 32) {
        throw new BadPort("SSID '" + ssid + "' is longer than 32 bytes");
      }
      boolean secret = !wifi.getPassword().isEmpty() || !wifi.getEncryptedCredentials().isEmpty();
      switch (wifi.getKeyScheme()) {
        case KEY_SCHEME_WPA_PSK -> {
          int length = wifi.getPassword().length();
          if (!secret || (!wifi.getPassword().isEmpty() && (length < 8 || length > 63))) {
            throw new BadPort("WiFi '" + ssid + "': WPA-PSK needs a password of 8..63 characters or encrypted credentials");
          }
        }
        case KEY_SCHEME_WPA_EAP -> {
          if (wifi.getIdentity().isEmpty() || !secret) {
            throw new BadPort("WiFi '" + ssid + "': WPA-EAP needs an identity and a password or encrypted credentials");
          }
        }
        default -> {
          if (secret) {
            throw new BadPort("WiFi '" + ssid + "': credentials given for an open network (key scheme NONE)");
          }
        }
      }
      return ssid;
    }

    private static String accessPoint(dev.verge.proto.config.v1.CellularAccessPoint ap) {
      String where = "cellular access point for SIM slot " + ap.getSimSlot();
      if (ap.getApn().isBlank()) {
        throw new BadPort(where + " has no APN");
      }
      if (ap.getApn().length() > 100) {
        throw new BadPort(where + ": APN is longer than 100 characters");
      }
      boolean secret = !ap.getPassword().isEmpty() || !ap.getEncryptedCredentials().isEmpty();
      if (ap.getAuth() != dev.verge.proto.config.v1.CellularAccessPoint.Auth.AUTH_NONE
          && (ap.getUsername().isEmpty() || !secret)) {
        throw new BadPort(where + ": " + ap.getAuth().name().substring(5)
            + " needs a username and a password or encrypted credentials");
      }
      for (String plmn : ap.getPreferredPlmnsList()) {
        if (!plmn.matches("\\d{3}-?\\d{2,3}")) {
          throw new BadPort(where + ": PLMN '" + plmn + "' is not MCC-MNC (e.g. 310-260)");
        }
      }
      return ap.getApn();
    }
  }

  /** A port's config is wrong: the message is what status shows for it. */
  static final class BadPort extends RuntimeException {
    BadPort(String message) {
      super(message, null, false, false);
    }
  }
}
