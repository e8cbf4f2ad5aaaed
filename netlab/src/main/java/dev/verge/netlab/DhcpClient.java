package dev.verge.netlab;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;

/**
 * Obtains a DHCP lease for an interface of a test host with busybox udhcpc, and applies the
 * address and default route inside that host's namespace only.
 */
public final class DhcpClient {
  private static final String SCRIPT =
      """
      #!/bin/sh
      # udhcpc event script: apply the lease inside this namespace and report it on stdout.
      case "$1" in
        deconfig) ip -4 addr flush dev "$interface"; ip link set "$interface" up ;;
        bound|renew)
          ip -4 addr flush dev "$interface"
          ip addr add "$ip/$subnet" dev "$interface"
          [ -n "$router" ] && ip route replace default via "${router%% *}" dev "$interface"
          echo "LEASE $interface $ip/$subnet router=$router dns=$dns"
          ;;
      esac
      exit 0
      """;

  private DhcpClient() {}

  /** A lease the client obtained. */
  public record Lease(String ifname, String cidr, String router, String dns) {}

  /** Requests a lease and waits for it; fails with the client's output when none comes. */
  public static Lease obtain(Netns ns, String ifname, Duration timeout) {
    Path script = ns.topologyWorkDir().resolve("udhcpc.script");
    try {
      if (!Files.exists(script)) {
        Files.writeString(script, SCRIPT);
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    long tries = Math.max(1, timeout.toSeconds());
    ExecResult result =
        ns.exec(
            timeout.plusSeconds(5),
            "busybox", "udhcpc", "-f", "-q", "-n", "-i", ifname, "-t", Long.toString(tries), "-T", "1",
            "-s", script.toString());
    for (String line : result.stdout().split("\n")) {
      if (line.startsWith("LEASE ")) {
        return parse(line);
      }
    }
    throw new IllegalStateException(
        "no DHCP lease on " + ns.shortName() + "/" + ifname + ": " + result.stdout() + result.stderr());
  }

  static Lease parse(String line) {
    String[] fields = line.split(" ");
    String[] addr = fields[2].split("/");
    String router = fields[3].substring("router=".length());
    String dns = fields.length > 4 ? fields[4].substring("dns=".length()) : "";
    return new Lease(fields[1], addr[0] + "/" + prefixLength(addr[1]), router, dns);
  }

  static int prefixLength(String netmask) {
    if (!netmask.contains(".")) {
      return Integer.parseInt(netmask);
    }
    int bits = 0;
    for (String octet : netmask.split("\\.")) {
      bits += Integer.bitCount(Integer.parseInt(octet));
    }
    return bits;
  }
}
