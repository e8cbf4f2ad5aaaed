package dev.verge.hostos.sim;

import dev.verge.hostos.Sysctl;

/**
 * sysctl of a sim kernel's namespace: the keys agents use, with a fresh namespace's defaults and
 * the kernel's rules (kept in {@link SimKernel}, next to the links they belong to):
 *
 * <ul>
 *   <li>{@code net.ipv4.conf.IF.KEY} and {@code net.ipv6.conf.IF.KEY} exist only while link IF does
 *       in this namespace; they follow a rename and are gone after a deletion or a move;
 *   <li>an IPv4 interface key never set follows {@code net.ipv4.conf.default.KEY} as it changes;
 *       IPv6 interface keys are copied from {@code net.ipv6.conf.default} when the link appears;
 *   <li>{@code net.ipv4.ip_forward} is {@code net.ipv4.conf.all.forwarding}; writing it (and IPv6's
 *       {@code all.forwarding}, {@code all.disable_ipv6}) sets default and every interface too;
 *   <li>values are integers; anything else is refused with EINVAL, an unknown key with ENOENT.
 * </ul>
 */
public final class SimSysctl implements Sysctl {
  private final SimKernel kernel;

  SimSysctl(SimKernel kernel) {
    this.kernel = kernel;
  }

  @Override
  public String get(String key) {
    return kernel.sysctlGet(key);
  }

  @Override
  public void set(String key, String value) {
    kernel.sysctlSet(key, value);
  }
}
