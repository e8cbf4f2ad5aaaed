package dev.verge.zedrouter;

import dev.verge.hostos.IpPrefix;
import dev.verge.hostos.MacAddress;
import dev.verge.proto.config.v1.Ace;
import dev.verge.proto.config.v1.AceAction;
import dev.verge.proto.config.v1.AceMatch;
import dev.verge.proto.config.v1.AppInstanceConfig;
import dev.verge.proto.config.v1.NetworkAdapter;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Turns the apps' network adapters into VIF plans on the running NIs: names, MACs, IPs, validated
 * ACLs. An app with any error gets no new plan (its errors go to its status).
 */
public final class AppPlanner {
  private AppPlanner() {}

  /** The plan of one app, or why it has none. */
  public record AppPlan(String appUuid, String appName, List<VifPlan> vifs, List<NiError> errors) {
    public AppPlan {
      vifs = List.copyOf(vifs);
      errors = List.copyOf(errors);
    }

    public boolean ok() {
      return errors.isEmpty();
    }
  }

  /**
   * Plans every activated app, in UUID order (so of two apps claiming one static IP, the lower UUID
   * keeps it, whatever order they arrived in).
   */
  public static Map<String, AppPlan> plan(Map<String, AppInstanceConfig> apps, Map<String, NiSpec> nis,
      Map<String, NetworkAdapterRefusal> refusedNis, Allocators allocators) {
    Map<String, AppPlan> plans = new LinkedHashMap<>();
    Map<String, Set<InetAddress>> staticIps = new HashMap<>();
    apps.keySet().stream().sorted().forEach(uuid -> {
      AppInstanceConfig app = apps.get(uuid);
      if (!app.getActivate()) {
        return;
      }
      plans.put(uuid, planApp(uuid, app, nis, refusedNis, allocators, staticIps));
    });
    return plans;
  }

  /** Why an NI an adapter names cannot take VIFs now. */
  public record NetworkAdapterRefusal(String reason) {}

  private static AppPlan planApp(String uuid, AppInstanceConfig app, Map<String, NiSpec> nis,
      Map<String, NetworkAdapterRefusal> refusedNis, Allocators allocators, Map<String, Set<InetAddress>> staticIps) {
    List<NiError> errors = new ArrayList<>();
    List<VifPlan> vifs = new ArrayList<>();
    List<Runnable> claims = new ArrayList<>();
    int appNumber = app.getInterfacesCount() == 0 ? 0 : allocators.appNumber(uuid);
    for (int i = 0; i < app.getInterfacesCount(); i++) {
      NetworkAdapter adapter = app.getInterfaces(i);
      String path = "interfaces[" + i + "]";
      int adapterNumber = i + 1;
      NiSpec ni = nis.get(adapter.getNetworkId());
      if (ni == null) {
        NetworkAdapterRefusal refusal = refusedNis.get(adapter.getNetworkId());
        errors.add(refusal != null
            ? new NiError("NETWORK_INSTANCE_NOT_READY", path + ".network_id", "network instance "
                + adapter.getNetworkId() + " is refused: " + refusal.reason())
            : new NiError("UNKNOWN_NETWORK_INSTANCE", path + ".network_id", "no network instance "
                + adapter.getNetworkId() + " is configured"));
        continue;
      }
      List<Acl> acls = acls(adapter, ni, path, errors);
      MacAddress mac;
      if (!adapter.getMac().isEmpty()) {
        try {
          mac = MacAddress.of(adapter.getMac());
        } catch (IllegalArgumentException e) {
          errors.add(new NiError("BAD_MAC", path + ".mac", "'" + adapter.getMac() + "' is not a MAC address"));
          continue;
        }
      } else {
        mac = ni.isRouted()
            ? MacScheme.localVif(uuid, ni.uuid(), adapterNumber, appNumber)
            : MacScheme.switchVif(uuid, ni.uuid(), adapterNumber, appNumber);
      }
      Optional<InetAddress> ip = Optional.empty();
      boolean staticIp = false;
      if (ni.isRouted()) {
        NiSpec.LocalIp local = ni.ip().orElseThrow();
        if (!adapter.getAddr().isEmpty()) {
          Optional<Long> address = NiValidator.address(adapter.getAddr());
          long first = Ipv4.first(local.subnet());
          long last = Ipv4.last(local.subnet());
          long start = Ipv4.toLong(local.rangeStart());
          long end = Ipv4.toLong(local.rangeEnd());
          if (address.isEmpty()) {
            errors.add(new NiError("BAD_STATIC_IP", path + ".addr", "'" + adapter.getAddr() + "' is not an IPv4 address"));
            continue;
          }
          long a = address.get();
          if (a <= first || a >= last || a == Ipv4.toLong(local.gateway())) {
            errors.add(new NiError("BAD_STATIC_IP", path + ".addr", "static IP " + adapter.getAddr()
                + " is not a free host address of subnet " + local.subnet() + " (gateway " + local.gateway().getHostAddress() + ")"));
            continue;
          }
          if (a >= start && a <= end) {
            errors.add(new NiError("BAD_STATIC_IP", path + ".addr", "static IP " + adapter.getAddr()
                + " is inside the DHCP range " + local.rangeStart().getHostAddress() + "-" + local.rangeEnd().getHostAddress()));
            continue;
          }
          InetAddress chosen = Ipv4.fromLong(a);
          Set<InetAddress> used = staticIps.computeIfAbsent(ni.uuid(), n -> new HashSet<>());
          if (used.contains(chosen) || vifs.stream().anyMatch(v -> v.ip().equals(Optional.of(chosen)))) {
            errors.add(new NiError("DUPLICATE_STATIC_IP", path + ".addr", "static IP " + adapter.getAddr()
                + " is already used by another VIF on network instance " + ni.uuid()));
            continue;
          }
          claims.add(() -> used.add(chosen));
          ip = Optional.of(chosen);
          staticIp = true;
        } else {
          long start = Ipv4.toLong(local.rangeStart());
          long size = Ipv4.toLong(local.rangeEnd()) - start + 1;
          try {
            int n = allocators.vifNumber(ni.uuid(), uuid + "/" + adapterNumber, (int) size);
            ip = Optional.of(Ipv4.fromLong(start + n));
          } catch (IllegalStateException e) {
            errors.add(new NiError("DHCP_RANGE_EXHAUSTED", path, "no address left in the DHCP range "
                + local.rangeStart().getHostAddress() + "-" + local.rangeEnd().getHostAddress() + " of network instance "
                + ni.uuid()));
            continue;
          }
        }
      }
      Optional<SwitchVlan> vlan = vlan(adapter, ni, path, errors);
      if (vlan.isEmpty() && !ni.isRouted()) {
        continue;
      }
      vifs.add(new VifPlan(uuid, app.getDisplayName(), appNumber, adapterNumber, adapter.getName(), ni.uuid(),
          ni.bridge(), VifPlan.vifName(adapterNumber, appNumber), mac, ip, staticIp, ni.mtu(), acls, vlan));
    }
    if (errors.isEmpty()) {
      claims.forEach(Runnable::run);
      return new AppPlan(uuid, app.getDisplayName(), vifs, List.of());
    }
    return new AppPlan(uuid, app.getDisplayName(), List.of(), errors);
  }

  /** The VIF's VLANs on a switch NI; empty on a routed NI, or (with an error) when they are wrong. */
  private static Optional<SwitchVlan> vlan(NetworkAdapter adapter, NiSpec ni, String path, List<NiError> errors) {
    int access = adapter.getAccessVlanId();
    List<Integer> trunk = adapter.getTrunkVlanIdsList();
    if (ni.isRouted()) {
      if (access > 1 || !trunk.isEmpty()) {
        errors.add(new NiError("VLAN_ON_ROUTED_NI", path + (trunk.isEmpty() ? ".access_vlan_id" : ".trunk_vlan_ids"),
            "VLANs are for switch network instances; network instance " + ni.uuid() + " routes"));
      }
      return Optional.empty();
    }
    if (access > 1) {
      if (access > SwitchVlan.LAST_VID) {
        errors.add(new NiError("BAD_VLAN_ID", path + ".access_vlan_id", "access VLAN " + access + " is not in "
            + SwitchVlan.FIRST_VID + ".." + SwitchVlan.LAST_VID));
        return Optional.empty();
      }
      if (!trunk.isEmpty()) {
        errors.add(new NiError("TRUNK_VLANS_ON_ACCESS_PORT", path + ".trunk_vlan_ids", "an access port (VLAN "
            + access + ") carries no trunk VLANs " + trunk));
        return Optional.empty();
      }
      return Optional.of(new SwitchVlan.Access(access));
    }
    Optional<Integer> bad = trunk.stream().filter(v -> v < SwitchVlan.FIRST_VID || v > SwitchVlan.LAST_VID).findFirst();
    if (bad.isPresent()) {
      errors.add(new NiError("BAD_VLAN_ID", path + ".trunk_vlan_ids", "trunk VLAN " + bad.get() + " is not in "
          + SwitchVlan.FIRST_VID + ".." + SwitchVlan.LAST_VID));
      return Optional.empty();
    }
    return Optional.of(new SwitchVlan.Trunk(new java.util.TreeSet<>(trunk)));
  }

  // ---------------------------------------------------------------- ACEs

  static List<Acl> acls(NetworkAdapter adapter, NiSpec ni, String path, List<NiError> errors) {
    List<Acl> acls = new ArrayList<>();
    Set<Integer> ids = new HashSet<>();
    for (int j = 0; j < adapter.getAclsCount(); j++) {
      Ace ace = adapter.getAcls(j);
      String acePath = path + ".acls[" + j + "]";
      int before = errors.size();
      if (ace.getId() < 1 || ace.getId() > Acl.MAX_ID) {
        errors.add(new NiError("BAD_ACE_ID", acePath + ".id", "ACE id " + ace.getId() + " is not in 1.." + Acl.MAX_ID));
      } else if (!ids.add(ace.getId())) {
        errors.add(new NiError("DUPLICATE_ACE_ID", acePath + ".id", "ACE id " + ace.getId() + " is used twice on this VIF"));
      }
      List<Acl.Match> matches = new ArrayList<>();
      Integer protocol = null;
      Integer lport = null;
      boolean hasPort = false;
      for (int k = 0; k < ace.getMatchesCount(); k++) {
        AceMatch m = ace.getMatches(k);
        String mPath = acePath + ".matches[" + k + "]";
        String value = m.getValue().trim();
        switch (m.getType()) {
          case "ip" -> {
            try {
              IpPrefix prefix = IpPrefix.parse(value);
              if (!prefix.isIpv4()) {
                errors.add(new NiError("UNSUPPORTED_IPV6", mPath, "IPv6 match " + value + " on an IPv4 network instance"));
              }
              matches.add(new Acl.IpMatch(prefix.network()));
            } catch (IllegalArgumentException e) {
              errors.add(new NiError("BAD_ACE_MATCH", mPath, "ip match '" + value + "' is not an IP address or prefix"));
            }
          }
          case "host" -> {
            if (ni.kind() == NiSpec.Kind.SWITCH) {
              errors.add(new NiError("HOST_ACL_ON_SWITCH", mPath, "a host match needs the NI's DNS server; switch"
                  + " network instance " + ni.uuid() + " has none"));
            } else if (!value.matches("[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")) {
              errors.add(new NiError("BAD_ACE_MATCH", mPath, "host match '" + value + "' is not a DNS name"));
            } else {
              matches.add(new Acl.HostMatch(value.toLowerCase(Locale.ROOT)));
            }
          }
          case "protocol" -> {
            Optional<Integer> p = protocolNumber(value);
            if (p.isEmpty()) {
              errors.add(new NiError("BAD_ACE_MATCH", mPath, "protocol '" + value + "' is not tcp, udp, icmp or 0..255"));
            } else {
              protocol = p.get();
              matches.add(new Acl.ProtocolMatch(p.get()));
            }
          }
          case "lport", "fport" -> {
            hasPort = true;
            Optional<Integer> port = portNumber(value);
            if (port.isEmpty()) {
              errors.add(new NiError("BAD_ACE_MATCH", mPath, m.getType() + " '" + value + "' is not a port 1..65535"));
            } else if (m.getType().equals("lport")) {
              lport = port.get();
              matches.add(new Acl.LocalPortMatch(port.get()));
            } else {
              matches.add(new Acl.ForeignPortMatch(port.get()));
            }
          }
          case "eidset" -> {
            if (ni.kind() == NiSpec.Kind.SWITCH) {
              errors.add(new NiError("EIDSET_ON_SWITCH", mPath, "an eidset match needs the addresses of the NI's apps;"
                  + " switch network instance " + ni.uuid() + " does not assign them"));
            } else {
              matches.add(new Acl.EidSetMatch());
            }
          }
          case "adapter" -> {
            Set<String> labels = new java.util.LinkedHashSet<>();
            if (!ni.uplink().isAirGapped()) {
              labels.add(ni.uplink().label());
            }
            ni.uplink().candidates().forEach(p -> labels.add(p.getLabel()));
            if (!labels.contains(value)) {
              errors.add(new NiError("UNKNOWN_ACE_ADAPTER", mPath, "adapter '" + value + "' is no port of network instance "
                  + ni.uuid() + (labels.isEmpty() ? " (it is air-gapped)" : " (its ports: " + String.join(", ", labels) + ")")));
            } else {
              matches.add(new Acl.AdapterMatch(value));
            }
          }
          default -> errors.add(new NiError("UNKNOWN_ACE_MATCH", mPath, "unknown match type '" + m.getType()
              + "' (ip, host, eidset, protocol, lport, fport, adapter)"));
        }
      }
      if (matches.stream().anyMatch(x -> x instanceof Acl.EidSetMatch)
          && matches.stream().anyMatch(x -> x instanceof Acl.HostMatch)) {
        errors.add(new NiError("EIDSET_WITH_HOST", acePath + ".matches", "an ACE matches eidset or host, not both"
            + " (the far side is either one of the NI's endpoints or the named host)"));
      }
      if (hasPort && protocol == null) {
        errors.add(new NiError("PORT_WITHOUT_PROTOCOL", acePath + ".matches", "a port match needs a protocol match (tcp or udp)"));
      } else if (hasPort && protocol != 6 && protocol != 17) {
        errors.add(new NiError("PORT_WITHOUT_PROTOCOL", acePath + ".matches", "port matches need protocol tcp or udp, not "
            + protocol));
      }
      Acl.Action action = action(ace, ni, acePath, protocol, lport, errors);
      Acl.Direction direction = direction(ace.getDir());
      if (ni.kind() == NiSpec.Kind.SWITCH && direction != Acl.Direction.BOTH && !(action instanceof Acl.Drop)) {
        // a one-way allow needs the replies let back in by connection state, which a switch NI's
        // bridge table does not have (no CONFIG_NF_CONNTRACK_BRIDGE): it judges every frame alone
        errors.add(new NiError("ACE_DIRECTION_ON_SWITCH", acePath + ".dir", "on switch network instance " + ni.uuid()
            + " an allow or limit ACE applies both ways: its bridge firewall has no connection tracking"
            + " (CONFIG_NF_CONNTRACK_BRIDGE) to let only the replies of one direction back"));
      }
      if (errors.size() == before) {
        acls.add(new Acl(ace.getId(), ace.getName(), direction, matches, action));
      }
    }
    return acls;
  }

  private static Acl.Action action(Ace ace, NiSpec ni, String acePath, Integer protocol, Integer lport,
      List<NiError> errors) {
    List<String> kinds = new ArrayList<>();
    for (AceAction a : ace.getActionsList()) {
      if (a.getDrop()) {
        kinds.add("drop");
      }
      if (a.getLimit()) {
        kinds.add("limit");
      }
      if (a.getPortmap()) {
        kinds.add("portmap");
      }
    }
    if (kinds.size() > 1) {
      errors.add(new NiError("TWO_ACTIONS", acePath + ".actions", "an ACE takes one action, not " + String.join(" and ", kinds)));
      return new Acl.Allow();
    }
    if (kinds.isEmpty()) {
      return new Acl.Allow();
    }
    AceAction a = ace.getActionsList().stream().filter(x -> x.getDrop() || x.getLimit() || x.getPortmap()).findFirst().orElseThrow();
    switch (kinds.get(0)) {
      case "drop" -> {
        return new Acl.Drop();
      }
      case "limit" -> {
        String per = switch (a.getLimitUnit().isEmpty() ? "s" : a.getLimitUnit()) {
          case "s", "second" -> "second";
          case "m", "minute" -> "minute";
          case "h", "hour" -> "hour";
          default -> null;
        };
        if (per == null) {
          errors.add(new NiError("BAD_LIMIT", acePath + ".actions", "limit unit '" + a.getLimitUnit() + "' is not s, m or h"));
        } else if (a.getLimitRate() == 0) {
          errors.add(new NiError("BAD_LIMIT", acePath + ".actions", "a limit needs a positive rate"));
        } else {
          return new Acl.Limit(a.getLimitRate(), per, a.getLimitBurst());
        }
        return new Acl.Allow();
      }
      default -> {
        if (ni.kind() == NiSpec.Kind.SWITCH) {
          errors.add(new NiError("PORTMAP_ON_SWITCH", acePath + ".actions", "port maps need NAT; switch network instance "
              + ni.uuid() + " has none"));
        } else if (ni.uplink().isAirGapped()) {
          errors.add(new NiError("PORTMAP_AIR_GAPPED", acePath + ".actions", "network instance " + ni.uuid()
              + " has no port to map from"));
        } else if (protocol == null || lport == null) {
          errors.add(new NiError("BAD_PORTMAP", acePath + ".actions", "a port map needs a protocol (tcp or udp) and an lport"));
        } else if (a.getAppPort() < 1 || a.getAppPort() > 65535) {
          errors.add(new NiError("BAD_PORTMAP", acePath + ".actions.app_port", "app port " + a.getAppPort()
              + " is not in 1..65535"));
        } else {
          return new Acl.PortMap(protocol, lport, a.getAppPort());
        }
        return new Acl.Allow();
      }
    }
  }

  private static Acl.Direction direction(Ace.Direction dir) {
    return switch (dir) {
      case DIRECTION_EGRESS -> Acl.Direction.EGRESS;
      case DIRECTION_INGRESS -> Acl.Direction.INGRESS;
      default -> Acl.Direction.BOTH;
    };
  }

  static Optional<Integer> protocolNumber(String value) {
    switch (value.toLowerCase(Locale.ROOT)) {
      case "tcp":
        return Optional.of(6);
      case "udp":
        return Optional.of(17);
      case "icmp":
        return Optional.of(1);
      default:
        return value.matches("\\d{1,3}") && Integer.parseInt(value) <= 255
            ? Optional.of(Integer.parseInt(value)) : Optional.empty();
    }
  }

  private static Optional<Integer> portNumber(String value) {
    if (!value.matches("\\d{1,5}")) {
      return Optional.empty();
    }
    int port = Integer.parseInt(value);
    return port >= 1 && port <= 65535 ? Optional.of(port) : Optional.empty();
  }
}
