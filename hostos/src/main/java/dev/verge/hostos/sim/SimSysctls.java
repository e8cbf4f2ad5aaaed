package dev.verge.hostos.sim;

import dev.verge.hostos.Errno;
import dev.verge.hostos.HostException;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/** The sysctl keys the sim knows, with a fresh namespace's defaults, and how keys are read. */
final class SimSysctls {
  private SimSysctls() {}

  static final Map<String, String> GLOBAL_DEFAULTS = new TreeMap<>(Map.of(
      "net.ipv4.ip_forward", "0",
      "net.ipv4.ip_nonlocal_bind", "0",
      "net.ipv4.fib_multipath_hash_policy", "0",
      "net.ipv4.fib_multipath_use_neigh", "0",
      "net.ipv4.icmp_echo_ignore_all", "0",
      "net.ipv6.fib_multipath_hash_policy", "0",
      "net.netfilter.nf_conntrack_acct", "0"));

  static final Map<String, String> IPV4_CONF_DEFAULTS = new TreeMap<>(Map.ofEntries(
      Map.entry("forwarding", "0"), Map.entry("rp_filter", "0"), Map.entry("accept_redirects", "1"),
      Map.entry("send_redirects", "1"), Map.entry("arp_ignore", "0"), Map.entry("arp_announce", "0"),
      Map.entry("arp_filter", "0"), Map.entry("proxy_arp", "0"), Map.entry("accept_local", "0"),
      Map.entry("src_valid_mark", "0"), Map.entry("route_localnet", "0"), Map.entry("log_martians", "0"),
      Map.entry("ignore_routes_with_linkdown", "0"), Map.entry("disable_policy", "0")));

  static final Map<String, String> IPV6_CONF_DEFAULTS = new TreeMap<>(Map.ofEntries(
      Map.entry("forwarding", "0"), Map.entry("accept_ra", "1"), Map.entry("disable_ipv6", "0"),
      Map.entry("autoconf", "1"), Map.entry("accept_dad", "1"), Map.entry("dad_transmits", "1"),
      Map.entry("accept_redirects", "1"), Map.entry("ignore_routes_with_linkdown", "0"),
      Map.entry("keep_addr_on_down", "0"), Map.entry("addr_gen_mode", "0"), Map.entry("proxy_ndp", "0")));

  /** conf.all differs from default in one key: "all" never does DAD itself. */
  static final Map<String, String> IPV6_ALL_DEFAULTS = new TreeMap<>(IPV6_CONF_DEFAULTS);

  static {
    IPV6_ALL_DEFAULTS.put("accept_dad", "0");
  }

  private static final Set<String> IPV4_SPREAD_FROM_ALL = Set.of("forwarding");
  private static final Set<String> IPV6_SPREAD_FROM_ALL =
      Set.of("forwarding", "disable_ipv6", "ignore_routes_with_linkdown");

  enum Scope {
    GLOBAL, ALL, DEFAULT, INTERFACE
  }

  /** A key the sim has: a global one, or a conf key of all, default or an interface. */
  record Key(Scope scope, boolean ipv6, String link, String name) {}

  static boolean spreadsFromAll(boolean ipv6, String name) {
    return (ipv6 ? IPV6_SPREAD_FROM_ALL : IPV4_SPREAD_FROM_ALL).contains(name);
  }

  /**
   * Reads a key as /proc/sys would be walked: malformed (EINVAL), a directory (EISDIR), or absent
   * (ENOENT) are refused naming {@code object}. Whether an interface exists is the caller's check.
   */
  static Key parse(String operation, String key, String object) {
    if (!key.matches("[A-Za-z0-9_]+(\\.[A-Za-z0-9_@:/-]+)+")) {
      throw new HostException(operation, object, Errno.EINVAL, "not a sysctl key");
    }
    if (GLOBAL_DEFAULTS.containsKey(key)) {
      return new Key(Scope.GLOBAL, false, "", key);
    }
    for (boolean ipv6 : new boolean[] {false, true}) {
      String prefix = ipv6 ? "net.ipv6.conf." : "net.ipv4.conf.";
      Map<String, String> keys = ipv6 ? IPV6_CONF_DEFAULTS : IPV4_CONF_DEFAULTS;
      if (key.startsWith(prefix)) {
        String rest = key.substring(prefix.length());
        int dot = rest.lastIndexOf('.');
        if (dot < 0) {
          throw new HostException(operation, object, Errno.EISDIR, "a directory of keys, not a key");
        }
        String link = rest.substring(0, dot).replace('/', '.');
        String name = rest.substring(dot + 1);
        if (!keys.containsKey(name)) {
          break;
        }
        Scope scope = link.equals("all") ? Scope.ALL : link.equals("default") ? Scope.DEFAULT : Scope.INTERFACE;
        return new Key(scope, ipv6, link, name);
      }
    }
    if (isDirectory(key)) {
      throw new HostException(operation, object, Errno.EISDIR, "a directory of keys, not a key");
    }
    throw new HostException(operation, object, Errno.ENOENT, "the kernel has no such key");
  }

  private static boolean isDirectory(String key) {
    String prefix = key + ".";
    return GLOBAL_DEFAULTS.keySet().stream().anyMatch(k -> k.startsWith(prefix))
        || "net.ipv4.conf.".startsWith(prefix) || "net.ipv6.conf.".startsWith(prefix);
  }
}
