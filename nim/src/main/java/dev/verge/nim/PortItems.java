package dev.verge.nim;

import dev.verge.agent.KernelBacked;
import dev.verge.agent.KernelView;
import dev.verge.hostos.IpPrefix;
import dev.verge.hostos.LinkSpec;
import dev.verge.reconciler.Dependency;
import dev.verge.reconciler.Item;
import dev.verge.reconciler.ItemRef;
import dev.verge.reconciler.ValueItem;
import java.net.InetAddress;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** The items of nim's graph, each named after the kernel object it stands for. */
public final class PortItems {
  private PortItems() {}

  /** Priority of the rules that send traffic from a port's address to the port's table (as EVE). */
  public static final int SOURCE_RULE_PRIORITY = 15000;
  /**
   * Priority of the rule that sends the device's own traffic (iif lo: zedagent's controller
   * session, DNS) to the controller port's table: moving controller traffic changes this one rule,
   * never a route, so no moment is without a route.
   */
  public static final int CONTROLLER_RULE_PRIORITY = 15100;
  /** A port's own routing table is this plus its interface index (as EVE). */
  public static final int TABLE_BASE = 500;
  /** Main-table default route metrics: management ports first, then app-shared (as EVE). */
  public static final int MGMT_METRIC_BASE = 5000;
  public static final int APP_METRIC_BASE = 10000;
  /** Marks nim's routes (rtm_protocol), so they are told from the kernel's and others'. */
  public static final int ROUTE_PROTOCOL = 4;

  /** A physical NIC (a veth end in a namespace): not nim's, only present or not. */
  public record Nic(String name) implements ValueItem {
    public static final String TYPE = "PhysicalNic";

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public boolean external() {
      return true;
    }
  }

  /** An Ethernet port brought up with its MTU (0: left as it is). */
  public record EthernetLink(String name, int mtu) implements ValueItem, KernelBacked {
    public static final String TYPE = "EthernetLink";

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public List<Dependency> dependencies() {
      return List.of(Dependency.on(Nic.TYPE, name).autoDeletedWithExternal().describedAs("the NIC must be present"));
    }

    @Override
    public Set<String> kernelLinks() {
      return Set.of(name);
    }

    @Override
    public Optional<? extends Item> observe(KernelView kernel) {
      return kernel.link(name).map(l -> l.up() && (mtu == 0 || l.mtu() == mtu) ? this : new EthernetLink(name, -1));
    }
  }

  /** An 802.1Q sub-interface, created by nim. */
  public record VlanLink(String name, String parent, ItemRef parentItem, int vlanId, int mtu)
      implements ValueItem, KernelBacked {
    public static final String TYPE = "Vlan";

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public List<Dependency> dependencies() {
      return List.of(Dependency.on(parentItem).describedAs("a VLAN needs its parent"));
    }

    public LinkSpec.Vlan spec() {
      return new LinkSpec.Vlan(parent, vlanId);
    }

    @Override
    public Set<String> kernelLinks() {
      return Set.of(name);
    }

    @Override
    public Optional<? extends Item> observe(KernelView kernel) {
      return kernel.link(name).map(l -> l.up() && (mtu == 0 || l.mtu() == mtu) ? this
          : new VlanLink(name, parent, parentItem, vlanId, -1));
    }
  }

  /** A bond, created by nim; its members join it as {@link BondMember}s. */
  public record BondLink(String name, LinkSpec.Bond spec, int mtu) implements ValueItem, KernelBacked {
    public static final String TYPE = "Bond";

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public Set<String> kernelLinks() {
      return Set.of(name);
    }

    @Override
    public Optional<? extends Item> observe(KernelView kernel) {
      return kernel.link(name).map(l -> l.up() && (mtu == 0 || l.mtu() == mtu) ? this : new BondLink(name, spec, -1));
    }
  }

  /** A NIC enslaved to a bond. */
  public record BondMember(String name, String bond) implements ValueItem {
    public static final String TYPE = "BondMember";

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public List<Dependency> dependencies() {
      return List.of(
          Dependency.on(BondLink.TYPE, bond).describedAs("a member needs its bond"),
          Dependency.on(Nic.TYPE, name).autoDeletedWithExternal().describedAs("the NIC must be present"));
    }
  }

  /** An address on a port's link. */
  public record PortAddress(String link, ItemRef linkItem, IpPrefix prefix) implements ValueItem, KernelBacked {
    public static final String TYPE = "Address";

    @Override
    public String name() {
      return link + "/" + prefix;
    }

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public List<Dependency> dependencies() {
      return List.of(Dependency.on(linkItem).describedAs("an address needs its link"));
    }

    @Override
    public Set<String> kernelLinks() {
      return Set.of(link);
    }

    @Override
    public Optional<? extends Item> observe(KernelView kernel) {
      return kernel.addresses(link).stream().filter(a -> a.prefix().equals(prefix)).findFirst().map(a -> this);
    }
  }

  /** A DHCP client on a port (busybox udhcpc under the host's supervisor; it only reports). */
  public record DhcpClient(String name, ItemRef linkItem) implements ValueItem {
    public static final String TYPE = "DhcpClient";

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public List<Dependency> dependencies() {
      return List.of(Dependency.on(linkItem).describedAs("the client runs on an up link"));
    }
  }

  /** A route nim owns: a port table's routes, or a main-table default route with its metric. */
  public record PortRoute(
      String link, ItemRef linkItem, int table, IpPrefix destination, Optional<InetAddress> gateway,
      int metric, Optional<InetAddress> source, ItemRef addressItem) implements ValueItem {
    public static final String TYPE = "Route";

    @Override
    public String name() {
      return "table " + table + " " + destination + gateway.map(g -> " via " + g.getHostAddress()).orElse("")
          + " dev " + link + (metric != 0 ? " metric " + metric : "");
    }

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public List<Dependency> dependencies() {
      return List.of(Dependency.on(linkItem).describedAs("a route needs its link"),
          Dependency.on(addressItem).describedAs("the gateway is reached from the port's address"));
    }
  }

  /** Traffic from a port's address looks up the port's table (so a probe bound to it leaves there). */
  public record SourceRule(IpPrefix from, int table, ItemRef addressItem) implements ValueItem {
    public static final String TYPE = "IpRule";

    @Override
    public String name() {
      return SOURCE_RULE_PRIORITY + ": from " + from + " lookup " + table;
    }

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public List<Dependency> dependencies() {
      return List.of(Dependency.on(addressItem).describedAs("the rule is for the port's address"));
    }
  }

  /** A kernel setting nim needs (kept when nim stops: it is harmless and global). */
  public record SysctlSetting(String name, String value) implements ValueItem {
    public static final String TYPE = "Sysctl";

    @Override
    public String type() {
      return TYPE;
    }
  }

  /**
   * The device's resolver configuration ({@code <state>/nim/resolv.conf}, never the machine's
   * /etc/resolv.conf): a node that is the machine's own links /etc/resolv.conf to it.
   */
  public record ResolverConfig(List<String> nameservers, Optional<String> searchDomain) implements ValueItem {
    public static final String TYPE = "ResolverConfig";

    public ResolverConfig {
      nameservers = List.copyOf(nameservers);
    }

    @Override
    public String name() {
      return "resolv.conf";
    }

    @Override
    public String type() {
      return TYPE;
    }

    /** The file's text; glibc reads only the first three servers, the others are kept for other resolvers. */
    public String render() {
      StringBuilder text = new StringBuilder("# written by verge nim: the DNS servers of the management ports\n");
      searchDomain.ifPresent(d -> text.append("search ").append(d).append('\n'));
      nameservers.forEach(n -> text.append("nameserver ").append(n).append('\n'));
      return text.toString();
    }
  }

  /** The device's NTP servers ({@code <state>/nim/ntp.sources}, chrony's sources format). */
  public record TimeSources(List<String> servers) implements ValueItem {
    public static final String TYPE = "TimeSources";

    public TimeSources {
      servers = List.copyOf(servers);
    }

    @Override
    public String name() {
      return "ntp.sources";
    }

    @Override
    public String type() {
      return TYPE;
    }

    public String render() {
      StringBuilder text = new StringBuilder("# written by verge nim: the NTP servers of the management ports\n");
      servers.forEach(s -> text.append("server ").append(s).append(" iburst\n"));
      return text.toString();
    }
  }

  /** The device's own traffic looks up the controller port's table. */
  public record ControllerRule(int table, ItemRef defaultRoute) implements ValueItem {
    public static final String TYPE = "ControllerRule";

    @Override
    public String name() {
      return CONTROLLER_RULE_PRIORITY + ": from all iif lo lookup " + table;
    }

    @Override
    public String type() {
      return TYPE;
    }

    @Override
    public List<Dependency> dependencies() {
      return List.of(Dependency.on(defaultRoute).describedAs("the table must have its default route"));
    }
  }
}
