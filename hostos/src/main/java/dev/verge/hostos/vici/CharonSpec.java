package dev.verge.hostos.vici;

import dev.verge.hostos.DaemonPaths;
import dev.verge.hostos.DaemonSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * One strongSwan charon with its own everything: its {@code strongswan.conf} (given by
 * {@code STRONGSWAN_CONF}, so the machine's is never read), only the plugins it needs (no
 * {@code stroke} reading {@code /etc/ipsec.*}, no {@code resolve} touching resolv.conf), its VICI
 * socket and pid file in its own run directory, its own routing table and IKE ports.
 *
 * <p>charon writes its pid file to a compiled-in {@code /var/run/charon.pid} and refuses to start
 * while that file names a live charon. So the launch wrapper puts each charon in a private mount
 * namespace with its run directory bound over {@code /run} (and {@code /var/run} where that is no
 * symlink): two charons, and the machine's own, never see each other's files. Inside, the VICI
 * socket is {@code /run/charon.vici}; outside it is {@code <run>/charon.vici}.
 *
 * @param name the daemon's name
 * @param backend kernel-libipsec (TUN) or kernel xfrm
 * @param routingTable the table charon installs its tunnel routes in (its rule has priority 220)
 * @param ikePort the IKE port, 0 for a random one (several charons in one namespace)
 * @param natTPort the NAT-T port, 0 for a random one
 * @param retransmitTimeout the first IKE retransmission's timeout (later ones back off by 1.8)
 * @param retransmitTries how many retransmissions before charon gives up on a peer
 */
public record CharonSpec(
    String name,
    IpsecBackend backend,
    int routingTable,
    int ikePort,
    int natTPort,
    Duration retransmitTimeout,
    int retransmitTries) {
  public static final Path CHARON = Path.of("/usr/lib/ipsec/charon");
  /** Inside its mount namespace, the charon's run directory is mounted here. */
  private static final String PRIVATE_RUN = "/run";

  public CharonSpec {
    DaemonSpec.requireValidName(name);
    if (routingTable <= 0 || routingTable == 253 || routingTable == 254 || routingTable == 255) {
      throw new IllegalArgumentException("charon " + name + ": routing table " + routingTable + " is reserved");
    }
  }

  /** A charon on the standard IKE ports (500, 4500), table 220, strongSwan's retransmission. */
  public static CharonSpec standard(String name, IpsecBackend backend) {
    return new CharonSpec(name, backend, 220, 500, 4500, Duration.ofSeconds(4), 5);
  }

  public CharonSpec withPorts(int ike, int natT) {
    return new CharonSpec(name, backend, routingTable, ike, natT, retransmitTimeout, retransmitTries);
  }

  public CharonSpec withRoutingTable(int table) {
    return new CharonSpec(name, backend, table, ikePort, natTPort, retransmitTimeout, retransmitTries);
  }

  public CharonSpec withRetransmission(Duration timeout, int tries) {
    return new CharonSpec(name, backend, routingTable, ikePort, natTPort, timeout, tries);
  }

  /** The plugins, in load order; kernel-libipsec before kernel-netlink so it takes the IPsec part. */
  public List<String> plugins() {
    List<String> plugins = new ArrayList<>(List.of(
        "random", "nonce", "aes", "sha1", "sha2", "hmac", "kdf", "gmp", "x509", "pubkey", "pem",
        "pkcs1", "pkcs8", "constraints", "socket-default"));
    if (backend == IpsecBackend.LIBIPSEC) {
      plugins.add("kernel-libipsec");
    }
    plugins.add("kernel-netlink");
    plugins.add("vici");
    return List.copyOf(plugins);
  }

  public Path configFile(DaemonPaths paths) {
    return paths.config().resolve("strongswan.conf");
  }

  /** Where the JVM reaches its VICI socket. */
  public Path viciSocket(DaemonPaths paths) {
    return paths.run().resolve("charon.vici");
  }

  /** Where charon's pid file ends up (it writes {@code /var/run/charon.pid} in its namespace). */
  public Path pidFile(DaemonPaths paths) {
    return paths.run().resolve("charon.pid");
  }

  public String strongswanConf() {
    return """
        # written by Verge for the charon '%s'; charon reads nothing else
        charon {
          load = %s
          load_modular = no
          port = %d
          port_nat_t = %d
          routing_table = %d
          routing_table_prio = 220
          install_virtual_ip = no
          retransmit_timeout = %s
          retransmit_tries = %d
          retransmit_base = 1.8
          filelog {
            stderr {
              default = 1
              ike = 1
              knl = 1
              time_format = %%T
            }
          }
          syslog {
          }
          plugins {
            vici {
              socket = unix://%s/charon.vici
            }
          }
        }
        """.formatted(name, String.join(" ", plugins()), ikePort, natTPort, routingTable,
            seconds(retransmitTimeout), retransmitTries, PRIVATE_RUN);
  }

  /**
   * The daemon: charon behind a wrapper that gives it a private mount namespace with its run
   * directory over {@code /run}. Ready once its worker threads are spawned (its VICI socket is
   * bound before that).
   */
  public DaemonSpec daemonSpec(DaemonPaths paths) {
    String wrapper = "mount --bind \"$0\" " + PRIVATE_RUN
        // one charon per name (the supervisor sees to it): a pid file left by a killed run is stale
        + " && rm -f " + PRIVATE_RUN + "/charon.pid"
        + " && { [ -L /var/run ] || mount --bind \"$0\" /var/run; }"
        + " && exec env STRONGSWAN_CONF=\"$1\" \"$2\"";
    return new DaemonSpec(name,
        List.of("unshare", "--mount", "--propagation", "private", "sh", "-c", wrapper,
            paths.run().toString(), configFile(paths).toString(), CHARON.toString()),
        java.util.Optional.of(java.util.regex.Pattern.compile("spawning \\d+ worker threads")),
        Duration.ofSeconds(10), DaemonSpec.RestartPolicy.DEFAULT);
  }

  private static String seconds(Duration d) {
    return String.format(java.util.Locale.ROOT, "%.3f", d.toMillis() / 1000.0);
  }
}
