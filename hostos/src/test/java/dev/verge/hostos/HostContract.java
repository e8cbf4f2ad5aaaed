package dev.verge.hostos;

import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.hostos.LinkSpec.Veth;
import java.util.concurrent.atomic.AtomicInteger;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;

/**
 * What every {@link Host} must do beyond its network stack, checked on the real kernel (as an IT
 * inside a fresh namespace) and on the sim: sysctl for now.
 */
public abstract class HostContract {
  private static final AtomicInteger NAMES = new AtomicInteger();

  /** The host under test, bound to a namespace that has only loopback at the start of a test. */
  protected abstract Host host();

  protected static String name(String prefix) {
    return prefix + NAMES.incrementAndGet();
  }

  protected static HostException refusal(ThrowingCallable call) {
    Throwable thrown = org.assertj.core.api.Assertions.catchThrowable(call);
    assertThat(thrown).isInstanceOf(HostException.class);
    return (HostException) thrown;
  }

  private String veth() {
    String a = name("sv");
    host().network().createLink(a, new Veth(a + "p"));
    return a;
  }

  private Sysctl sysctl() {
    return host().sysctl();
  }

  // ---- sysctl

  @Test
  void theKeysAgentsUseHaveAFreshNamespacesValues() {
    String a = veth();
    java.util.Map<String, String> expected = new java.util.TreeMap<>(java.util.Map.of(
        "net.ipv4.ip_forward", "0", "net.ipv4.conf.all.rp_filter", "0", "net.ipv4.conf.default.rp_filter", "0",
        "net.ipv6.conf.all.forwarding", "0", "net.ipv6.conf.all.accept_dad", "0",
        "net.ipv6.conf.default.accept_dad", "1", "net.ipv4.fib_multipath_hash_policy", "0"));
    for (String key : new String[] {"forwarding", "rp_filter", "arp_ignore", "arp_announce", "proxy_arp",
        "ignore_routes_with_linkdown", "src_valid_mark", "accept_local", "route_localnet"}) {
      expected.put("net.ipv4.conf." + a + "." + key, "0");
    }
    expected.put("net.ipv4.conf." + a + ".accept_redirects", "1");
    expected.put("net.ipv4.conf." + a + ".send_redirects", "1");
    for (String key : new String[] {"forwarding", "disable_ipv6", "ignore_routes_with_linkdown", "keep_addr_on_down",
        "addr_gen_mode", "proxy_ndp"}) {
      expected.put("net.ipv6.conf." + a + "." + key, "0");
    }
    for (String key : new String[] {"accept_ra", "autoconf", "accept_dad", "dad_transmits", "accept_redirects"}) {
      expected.put("net.ipv6.conf." + a + "." + key, "1");
    }
    java.util.Map<String, String> actual = new java.util.TreeMap<>();
    expected.keySet().forEach(key -> actual.put(key, sysctl().get(key)));
    assertThat(actual).isEqualTo(expected);
  }

  @Test
  void ipForwardIsTheAllForwardingSwitchAndSetsEveryInterface() {
    String a = veth();
    assertThat(sysctl().get("net.ipv4.ip_forward")).isEqualTo("0");
    try {
      sysctl().set("net.ipv4.ip_forward", "1");
      assertThat(sysctl().get("net.ipv4.conf.all.forwarding")).isEqualTo("1");
      assertThat(sysctl().get("net.ipv4.conf.default.forwarding")).isEqualTo("1");
      assertThat(sysctl().get("net.ipv4.conf." + a + ".forwarding")).isEqualTo("1");
      sysctl().set("net.ipv4.conf." + a + ".forwarding", "0");
      assertThat(sysctl().get("net.ipv4.conf." + a + ".forwarding")).isEqualTo("0");
      assertThat(sysctl().get("net.ipv4.ip_forward")).isEqualTo("1");
    } finally {
      sysctl().set("net.ipv4.conf.all.forwarding", "0");
    }
    assertThat(sysctl().get("net.ipv4.ip_forward")).isEqualTo("0");
    assertThat(sysctl().get("net.ipv4.conf." + a + "p.forwarding")).isEqualTo("0");
  }

  @Test
  void ipv6AllForwardingAndDisableIpv6ReachEveryInterface() {
    String a = veth();
    try {
      sysctl().set("net.ipv6.conf.all.forwarding", "1");
      sysctl().set("net.ipv6.conf.all.disable_ipv6", "1");
      assertThat(sysctl().get("net.ipv6.conf." + a + ".forwarding")).isEqualTo("1");
      assertThat(sysctl().get("net.ipv6.conf." + a + ".disable_ipv6")).isEqualTo("1");
      assertThat(sysctl().get("net.ipv6.conf.default.disable_ipv6")).isEqualTo("1");
    } finally {
      sysctl().set("net.ipv6.conf.all.forwarding", "0");
      sysctl().set("net.ipv6.conf.all.disable_ipv6", "0");
    }
    assertThat(sysctl().get("net.ipv6.conf." + a + ".disable_ipv6")).isEqualTo("0");
  }

  @Test
  void interfaceKeysExistOnlyWhileTheLinkDoesAndFollowARename() {
    String a = veth();
    String key = "net.ipv4.conf." + a + ".rp_filter";
    sysctl().set(key, "2");
    assertThat(sysctl().get(key)).isEqualTo("2");
    String renamed = name("sr");
    host().network().rename(a, renamed);
    assertThat(sysctl().get("net.ipv4.conf." + renamed + ".rp_filter")).isEqualTo("2");
    assertThat(refusal(() -> sysctl().get(key)).getMessage())
        .isEqualTo("cannot read sysctl " + key + ": the kernel has no such key (ENOENT)");
    host().network().deleteLink(renamed);
    assertThat(refusal(() -> sysctl().get("net.ipv4.conf." + renamed + ".rp_filter")).errno())
        .isEqualTo(Errno.ENOENT);
    assertThat(refusal(() -> sysctl().set("net.ipv4.conf." + renamed + ".rp_filter", "1")).getMessage())
        .isEqualTo("cannot set sysctl net.ipv4.conf." + renamed + ".rp_filter to 1: the kernel has no such key (ENOENT)");
    // a new link of the same name starts from the defaults
    host().network().createLink(renamed, new Veth(renamed + "p"));
    assertThat(sysctl().get("net.ipv4.conf." + renamed + ".rp_filter")).isEqualTo("0");
  }

  @Test
  void ipv4InterfaceKeysFollowTheDefaultUntilSetWhileIpv6KeysAreCopiedWhenTheLinkAppears() {
    String before = veth();
    String pinned = veth();
    sysctl().set("net.ipv4.conf." + pinned + ".arp_ignore", "2");
    try {
      sysctl().set("net.ipv4.conf.default.arp_ignore", "1");
      sysctl().set("net.ipv6.conf.default.accept_ra", "0");
      String after = veth();
      assertThat(sysctl().get("net.ipv4.conf." + before + ".arp_ignore")).isEqualTo("1");
      assertThat(sysctl().get("net.ipv4.conf." + pinned + ".arp_ignore")).isEqualTo("2");
      assertThat(sysctl().get("net.ipv4.conf." + after + ".arp_ignore")).isEqualTo("1");
      assertThat(sysctl().get("net.ipv6.conf." + before + ".accept_ra")).isEqualTo("1");
      assertThat(sysctl().get("net.ipv6.conf." + after + ".accept_ra")).isEqualTo("0");
    } finally {
      sysctl().set("net.ipv4.conf.default.arp_ignore", "0");
      sysctl().set("net.ipv6.conf.default.accept_ra", "1");
    }
    assertThat(sysctl().get("net.ipv4.conf." + before + ".arp_ignore")).isEqualTo("0");
  }

  @Test
  void aDotInAnInterfaceNameIsASlashInTheKey() {
    String a = name("sd") + ".5";
    host().network().createLink(a, new Veth(name("sq")));
    String key = "net.ipv4.conf." + a.replace('.', '/') + ".rp_filter";
    sysctl().set(key, "1");
    assertThat(sysctl().get(key)).isEqualTo("1");
  }

  @Test
  void refusedValuesAndMissingOrMalformedKeysNameTheKey() {
    String a = veth();
    String key = "net.ipv4.conf." + a + ".rp_filter";
    assertThat(refusal(() -> sysctl().set(key, "abc")).getMessage())
        .isEqualTo("cannot set sysctl " + key + " to abc: the kernel refused the value (EINVAL)");
    assertThat(sysctl().get(key)).isEqualTo("0");
    assertThat(refusal(() -> sysctl().get("net.ipv4.no_such_key")).getMessage())
        .isEqualTo("cannot read sysctl net.ipv4.no_such_key: the kernel has no such key (ENOENT)");
    assertThat(refusal(() -> sysctl().get("net.ipv6.conf." + a + ".rp_filter")).errno()).isEqualTo(Errno.ENOENT);
    assertThat(refusal(() -> sysctl().get("net..ipv4")).getMessage())
        .isEqualTo("cannot read sysctl net..ipv4: not a sysctl key (EINVAL)");
    assertThat(refusal(() -> sysctl().get("net.ipv4.conf")).getMessage())
        .isEqualTo("cannot read sysctl net.ipv4.conf: a directory of keys, not a key (EISDIR)");
  }
}
