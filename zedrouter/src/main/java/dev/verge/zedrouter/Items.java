package dev.verge.zedrouter;

import dev.verge.agent.KernelBacked;
import dev.verge.agent.KernelView;
import dev.verge.hostos.IpPrefix;
import dev.verge.hostos.MacAddress;
import dev.verge.hostos.RouteRequest;
import dev.verge.hostos.nft.Table;
import dev.verge.reconciler.Dependency;
import dev.verge.reconciler.ValueItem;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** The items of zedrouter's graph, each named after the kernel object it stands for. */
public final class Items {
  private Items() {}

  /** An NI's bridge. Kernel-backed: deleted or changed behind zedrouter's back, it is repaired. */
  public record Bridge(String name, int mtu, MacAddress mac) implements ValueItem, KernelBacked {
    public static final String TYPE = "Bridge";

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public Set<String> kernelLinks() {
      return Set.of(name);
    }

    @Override
    public Optional<Bridge> observe(KernelView kernel) {
      return kernel.link(name).filter(l -> l.kind().equals("bridge") && l.up())
          .map(l -> new Bridge(name, l.mtu(), l.mac()));
    }
  }

  /** The gateway address on a local NI's bridge. */
  public record BridgeAddress(String bridge, IpPrefix prefix) implements ValueItem, KernelBacked {
    public static final String TYPE = "BridgeAddress";

    @Override
    public String name() {
      return bridge + "/" + prefix;
    }

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public List<Dependency> dependencies() {
      return List.of(Dependency.on(Bridge.TYPE, bridge).describedAs("an address needs its bridge"));
    }

    @Override
    public Set<String> kernelLinks() {
      return Set.of(bridge);
    }

    @Override
    public Optional<BridgeAddress> observe(KernelView kernel) {
      return kernel.addresses(bridge).stream().filter(a -> a.prefix().equals(prefix)).findFirst().map(a -> this);
    }
  }

  /** A link zedrouter does not own (a port nim runs, a tap domainmgr made); it only satisfies dependencies. */
  public record ExternalLink(String name) implements ValueItem {
    public static final String TYPE = "Link";

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public boolean external() {
      return true;
    }
  }

  /**
   * A link enslaved to an NI's bridge: a switch NI's port, or an app's VIF. It goes with the link.
   */
  public record BridgePort(String link, String bridge) implements ValueItem {
    public static final String TYPE = "BridgePort";

    @Override
    public String name() {
      return link;
    }

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public List<Dependency> dependencies() {
      return List.of(
          Dependency.on(Bridge.TYPE, bridge).describedAs("a port needs its bridge"),
          Dependency.on(ExternalLink.TYPE, link).autoDeletedWithExternal().describedAs("made by nim or domainmgr"));
    }
  }

  /** VLAN filtering on a switch NI's bridge: on while any of its ports asks for a VLAN. */
  public record BridgeVlanFiltering(String bridge) implements ValueItem {
    public static final String TYPE = "BridgeVlanFiltering";

    @Override
    public String name() {
      return bridge;
    }

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public List<Dependency> dependencies() {
      return List.of(Dependency.on(Bridge.TYPE, bridge).describedAs("filtering is the bridge's"));
    }
  }

  /** The exact VLANs of a port on a bridge that filters VLANs (an access VLAN, or a trunk's). */
  public record PortVlans(String link, String bridge, SwitchVlan vlan) implements ValueItem {
    public static final String TYPE = "PortVlans";

    @Override
    public String name() {
      return link;
    }

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public List<Dependency> dependencies() {
      return List.of(Dependency.on(BridgePort.TYPE, link).describedAs("VLANs are a bridge port's"),
          Dependency.on(BridgeVlanFiltering.TYPE, bridge).describedAs("the bridge filters VLANs"));
    }
  }

  /**
   * A route of an NI's own table.
   *
   * @param sourceAddress the {@link BridgeAddress} its preferred source is (the kernel refuses a
   *     source the host does not have)
   */
  public record NiRoute(RouteRequest route, Optional<String> sourceAddress) implements ValueItem {
    public NiRoute(RouteRequest route) {
      this(route, Optional.empty());
    }

    public static final String TYPE = "Route";

    @Override
    public String name() {
      return route.toString();
    }

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public List<Dependency> dependencies() {
      List<Dependency> deps = new ArrayList<>();
      route.device().ifPresent(dev -> deps.add(dev.startsWith("bn")
          ? Dependency.on(Bridge.TYPE, dev)
          : Dependency.on(ExternalLink.TYPE, dev).autoDeletedWithExternal()));
      sourceAddress.ifPresent(a -> deps.add(Dependency.on(BridgeAddress.TYPE, a).describedAs("its preferred source")));
      return deps;
    }
  }

  /** A policy routing rule that sends an NI's traffic to its table. */
  public record NiRule(dev.verge.hostos.Rule rule) implements ValueItem {
    public static final String TYPE = "IpRule";

    @Override
    public String name() {
      return rule.toString();
    }

    @Override
    public String type() {
      return TYPE;
    }
  }

  /** A whole nftables table, replaced atomically when anything in it changes. */
  public record NftTable(Table table) implements ValueItem {
    public static final String TYPE = "NftTable";

    @Override
    public String name() {
      return table.ref().toString();
    }

    @Override
    public String type() {
      return TYPE;
    }
  }

  /** A kernel setting local NIs need (IPv4 forwarding). */
  public record SysctlSetting(String key, String value) implements ValueItem {
    public static final String TYPE = "Sysctl";

    @Override
    public String name() {
      return key;
    }

    @Override
    public String type() {
      return TYPE;
    }
  }

  /** A local NI's metadata server, on its gateway address (the NI's firewall DNATs 169.254.169.254 there). */
  public record MetadataServer(String bridge, String gateway, String listenAddress) implements ValueItem {
    public static final String TYPE = "MetadataServer";

    @Override
    public String name() {
      return bridge;
    }

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public List<Dependency> dependencies() {
      return List.of(Dependency.on(BridgeAddress.TYPE, listenAddress).describedAs("it listens on the gateway address"));
    }
  }

  /** A VPN NI's own charon (strongSwan's IKE daemon), with its own files, sockets and routing table. */
  public record Charon(dev.verge.hostos.vici.CharonSpec spec) implements ValueItem {
    public static final String TYPE = "Charon";

    @Override
    public String name() {
      return spec.name();
    }

    @Override
    public String type() {
      return TYPE;
    }
  }

  /**
   * A VPN NI's tunnel, loaded into its charon over VICI: the PSK, or the private key (the
   * certificates are the connection's), and the connection. Charon
   * initiates it, and restarts it after DPD or a close.
   *
   * @param listenAddress the NI's gateway address item: charon's route to the remote subnets uses it as source
   */
  public record VpnTunnel(String niUuid, String charon, dev.verge.hostos.vici.SiteToSite connection, String psk,
      java.util.Optional<dev.verge.hostos.vici.Pem.PrivateKey> key, dev.verge.hostos.vici.IpsecBackend backend,
      String listenAddress) implements ValueItem {
    public static final String TYPE = "VpnTunnel";

    @Override
    public String name() {
      return connection.name();
    }

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public List<Dependency> dependencies() {
      return List.of(Dependency.on(Charon.TYPE, charon).describedAs("it is loaded into its charon"),
          Dependency.on(BridgeAddress.TYPE, listenAddress).describedAs("its local subnet's gateway is the tunnel's source"));
    }

    @Override
    public String toString() {
      return "VpnTunnel[" + connection.name() + " " + connection.localAddress() + " -> " + connection.remoteAddress()
          + " " + connection.remoteSubnets() + "]";
    }
  }

  /** One local NI's DHCP and DNS server. */
  public record Dnsmasq(DnsmasqConfig config) implements ValueItem {
    public static final String TYPE = "Dnsmasq";

    @Override
    public String name() {
      return config.daemonName();
    }

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public List<Dependency> dependencies() {
      return List.of(Dependency.on(Bridge.TYPE, config.bridge()).describedAs("it binds to the bridge"),
          Dependency.on(BridgeAddress.TYPE, listenAddress()).describedAs("it listens on the gateway address"));
    }

    /** The name of the {@link BridgeAddress} it listens on. */
    public String listenAddress() {
      return config.bridge() + "/" + config.gateway() + "/" + netmaskLength();
    }

    private int netmaskLength() {
      long mask = Ipv4.toLong(IpPrefix.literal(config.netmask()));
      return Long.bitCount(mask);
    }
  }
}
