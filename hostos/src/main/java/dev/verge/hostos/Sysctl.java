package dev.verge.hostos;

/**
 * Kernel settings of the host's network namespace ({@code /proc/sys/net/...}), named as sysctl(8)
 * names them: {@code net.ipv4.ip_forward}, {@code net.ipv4.conf.eth0.rp_filter}. A key the kernel
 * does not have, or a value it refuses, is a {@link HostException} naming the key.
 */
public interface Sysctl {
  /** The current value, trimmed. */
  String get(String key);

  void set(String key, String value);
}
