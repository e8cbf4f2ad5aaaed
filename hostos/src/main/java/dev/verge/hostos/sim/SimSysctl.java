package dev.verge.hostos.sim;

import dev.verge.hostos.Errno;
import dev.verge.hostos.HostException;
import dev.verge.hostos.Sysctl;
import java.util.Map;
import java.util.TreeMap;

/**
 * The sysctl keys agents use, with the kernel's defaults. Per-interface keys exist only while the
 * interface does ({@code net.ipv4.conf.<if>.<key>}), as in the kernel; values must be integers.
 */
public final class SimSysctl implements Sysctl {
  private static final Map<String, String> GLOBAL_DEFAULTS =
      Map.of(
          "net.ipv4.ip_forward", "0",
          "net.ipv6.conf.all.forwarding", "0",
          "net.ipv4.conf.all.rp_filter", "0",
          "net.ipv4.conf.default.rp_filter", "0",
          "net.ipv4.fib_multipath_hash_policy", "0",
          "net.netfilter.nf_conntrack_acct", "0",
          "net.ipv4.conf.all.arp_ignore", "0");
  private static final Map<String, String> PER_INTERFACE_DEFAULTS =
      Map.of("rp_filter", "0", "forwarding", "0", "accept_ra", "1", "arp_ignore", "0", "proxy_arp", "0",
          "disable_ipv6", "0", "ignore_routes_with_linkdown", "0");

  private final SimKernel kernel;
  private final Map<String, String> values = new TreeMap<>();

  SimSysctl(SimKernel kernel) {
    this.kernel = kernel;
  }

  @Override
  public synchronized String get(String key) {
    String value = values.get(key);
    if (value != null && exists(key)) {
      return value;
    }
    return defaultOf("read sysctl", key, key);
  }

  @Override
  public synchronized void set(String key, String value) {
    String object = key + " to " + value;
    defaultOf("set sysctl", key, object);
    if (!value.strip().matches("-?\\d+")) {
      throw new HostException("set sysctl", object, Errno.EINVAL, "the kernel refused the value (EINVAL)");
    }
    values.put(key, value.strip());
  }

  private boolean exists(String key) {
    return GLOBAL_DEFAULTS.containsKey(key) || interfaceOf(key) != null;
  }

  private String defaultOf(String operation, String key, String object) {
    String global = GLOBAL_DEFAULTS.get(key);
    if (global != null) {
      return global;
    }
    String[] parts = interfaceParts(key);
    if (parts != null && PER_INTERFACE_DEFAULTS.containsKey(parts[1])
        && (parts[0].equals("all") || parts[0].equals("default") || kernel.link(parts[0]).isPresent())) {
      return PER_INTERFACE_DEFAULTS.get(parts[1]);
    }
    throw new HostException(operation, object, Errno.ENOENT, "the kernel has no such key");
  }

  private String interfaceOf(String key) {
    String[] parts = interfaceParts(key);
    return parts != null && kernel.link(parts[0]).isPresent() ? parts[0] : null;
  }

  /** {@code net.ipv4.conf.eth0/100.rp_filter} → {"eth0.100", "rp_filter"}; null for other keys. */
  private static String[] interfaceParts(String key) {
    for (String prefix : new String[] {"net.ipv4.conf.", "net.ipv6.conf."}) {
      if (key.startsWith(prefix)) {
        String rest = key.substring(prefix.length());
        int dot = rest.lastIndexOf('.');
        if (dot > 0) {
          return new String[] {rest.substring(0, dot).replace('/', '.'), rest.substring(dot + 1)};
        }
      }
    }
    return null;
  }
}
