package dev.verge.hostos.internal;

import dev.verge.hostos.DaemonListener;
import dev.verge.hostos.DaemonPaths;
import dev.verge.hostos.DaemonSpec;
import dev.verge.hostos.DaemonStatus;
import dev.verge.hostos.DaemonSupervisor;
import dev.verge.hostos.DhcpClients;
import dev.verge.hostos.DhcpEvent;
import dev.verge.hostos.DhcpLease;
import dev.verge.hostos.DhcpOptions;
import dev.verge.hostos.Errno;
import dev.verge.hostos.HostException;
import dev.verge.hostos.IpPrefix;
import dev.verge.hostos.NetworkStack;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * DHCP clients as busybox {@code udhcpc} daemons under a {@link DaemonSupervisor}: in the host's
 * namespace, with the supervisor's restarts. Each client runs our own event script, written to its
 * state directory, that prints one line per event and changes nothing; the lines come back as the
 * daemon's output and become {@link DhcpEvent}s. The same machinery serves the sim, whose pretend
 * daemons "print" the lines a test injects.
 */
public final class UdhcpcClients implements DhcpClients {
  private static final Logger LOG = LoggerFactory.getLogger(UdhcpcClients.class);
  /** What starts every line our script prints. */
  static final String MARK = "VERGE-DHCP";
  private static final Executor DIRECT = Runnable::run;

  /** udhcpc's event script: report the event with the lease's fields, touch nothing. */
  static final String SCRIPT = """
      #!/bin/sh
      # Verge's udhcpc event script: it reports, the agent decides. No address, route or resolv.conf
      # is changed here. Fields: event, ip, mask (bits or dotted), routers, dns, domain, lease, server,
      # NTP servers (option 42, asked for with -O ntpsrv).
      printf '%s|%s|%s|%s|%s|%s|%s|%s|%s|%s\\n' VERGE-DHCP "$1" "$ip" "${mask:-$subnet}" "$router" "$dns" \\
        "$domain" "$lease" "$serverid" "$ntpsrv"
      exit 0
      """;

  /** Sends a signal to a process (Linux: kill(2); the sim: counts the requests). */
  public interface Signaller {
    void signal(long pid, int signal);
  }

  static final int SIGUSR1 = 10;

  private final DaemonSupervisor supervisor;
  private final NetworkStack network;
  private final String busybox;
  private final Signaller signaller;

  /**
   * @param busybox the busybox binary ({@code busybox} on the PATH, or the static one)
   */
  public UdhcpcClients(DaemonSupervisor supervisor, NetworkStack network, String busybox, Signaller signaller) {
    this.supervisor = supervisor;
    this.network = network;
    this.busybox = busybox;
    this.signaller = signaller;
  }

  /** The daemon that is the client of a link: a name usable as a file name. */
  public static String daemonName(String link) {
    return "dhcpc-" + link.replaceAll("[^A-Za-z0-9._-]", "_");
  }

  @Override
  public void start(String link, DhcpOptions options, Executor executor, Consumer<DhcpEvent> listener) {
    if (network.link(link).isEmpty()) {
      throw new HostException("start dhcp client on", link, Errno.ENODEV, "no link named " + link);
    }
    String name = daemonName(link);
    DaemonPaths paths = supervisor.paths(name);
    Path script = paths.state().resolve("udhcpc.script");
    try {
      Files.writeString(script, SCRIPT);
      Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
    } catch (IOException e) {
      throw new HostException("start dhcp client on", link, Errno.EIO, "cannot write its script: " + e.getMessage());
    }
    List<String> command = new ArrayList<>(List.of(busybox, "udhcpc", "-f", "-i", link, "-s", script.toString(),
        "-p", paths.run().resolve("udhcpc.pid").toString(), "-t", "3", "-T", "2", "-A", "5",
        // udhcpc does not ask for NTP servers by default, and servers send only what is asked for.
        "-O", "ntpsrv"));
    options.hostname().ifPresent(h -> command.addAll(List.of("-x", "hostname:" + h)));
    options.vendorClass().ifPresent(v -> command.addAll(List.of("-V", v)));
    try {
      supervisor.start(new DaemonSpec(name, command, Optional.empty(), Duration.ofSeconds(10),
          DaemonSpec.RestartPolicy.DEFAULT), DIRECT, new Translator(link, executor, listener));
    } catch (HostException e) {
      if (e.errno().equals(Errno.EEXIST)) {
        throw new HostException("start dhcp client on", link, Errno.EEXIST, "the link already has a client");
      }
      throw e;
    }
  }

  @Override
  public void renew(String link) {
    DaemonStatus status = supervisor.status(daemonName(link))
        .filter(DaemonStatus::running)
        .orElseThrow(() -> new HostException("renew dhcp lease of", link, Errno.ESRCH, "no client runs on " + link));
    signaller.signal(status.pid(), SIGUSR1);
  }

  @Override
  public void stop(String link) {
    try {
      supervisor.stop(daemonName(link));
    } catch (HostException e) {
      throw new HostException("stop dhcp client on", link, e.errno(), "no client runs on " + link);
    }
  }

  /**
   * Turns one client's daemon events into DHCP events (on the supervisor's thread: one at a time)
   * and tells them on the agent's executor.
   */
  private static final class Translator implements DaemonListener {
    private final String link;
    private final Executor executor;
    private final Consumer<DhcpEvent> listener;
    private DhcpLease lease;

    Translator(String link, Executor executor, Consumer<DhcpEvent> listener) {
      this.link = link;
      this.executor = executor;
      this.listener = listener;
    }

    @Override
    public void onOutput(String line) {
      Optional<Report> report = Report.parse(line);
      if (report.isEmpty()) {
        return; // udhcpc's own chatter
      }
      String event = report.get().event();
      switch (event) {
        case "bound" -> {
          lease = report.get().lease().orElse(null);
          if (lease != null) {
            tell(new DhcpEvent.Bound(link, lease));
          }
        }
        case "renew" -> {
          Optional<DhcpLease> renewed = report.get().lease();
          if (renewed.isPresent()) {
            boolean wasBound = lease != null;
            lease = renewed.get();
            tell(wasBound ? new DhcpEvent.Renewed(link, lease) : new DhcpEvent.Bound(link, lease));
          }
        }
        case "deconfig" -> lose("no lease (expired or refused)");
        case "nak" -> lose("the server refused the lease (NAK)");
        default -> LOG.debug("dhcp client on {}: {}", link, event);
      }
    }

    @Override
    public void onExited(DaemonStatus status, int exitCode, boolean willRestart) {
      lose("the client exited with " + exitCode);
      if (!willRestart) {
        tell(new DhcpEvent.Failed(link, new HostException("run dhcp client on", link, Errno.ECHILD,
            "it exited with " + exitCode + " and is not restarted"), false));
      }
    }

    @Override
    public void onFailed(HostException reason, boolean willRetry) {
      lose("the client failed");
      tell(new DhcpEvent.Failed(link, reason, willRetry));
    }

    private void lose(String reason) {
      if (lease != null) {
        DhcpLease gone = lease;
        lease = null;
        tell(new DhcpEvent.Lost(link, gone, reason));
      }
    }

    private void tell(DhcpEvent event) {
      LOG.info("dhcp client on {}: {}", link, event);
      try {
        executor.execute(() -> {
          try {
            listener.accept(event);
          } catch (RuntimeException | AssertionError e) {
            ListenerFailures.report(LOG, "dhcp listener of " + link + " on " + event, e);
          }
        });
      } catch (RejectedExecutionException e) {
        LOG.warn("dhcp client on {}: its listener's executor refused {}", link, event);
      }
    }
  }

  /** One line of our script: the event and, for bound/renew, the lease. */
  record Report(String event, Optional<DhcpLease> lease) {
    static Optional<Report> parse(String line) {
      String[] fields = line.strip().split("\\|", -1);
      // Nine fields: a script written before NTP servers were reported (a client still running).
      if ((fields.length != 9 && fields.length != 10) || !fields[0].equals(MARK)) {
        return Optional.empty();
      }
      String event = fields[1];
      if (fields[2].isEmpty()) {
        return Optional.of(new Report(event, Optional.empty()));
      }
      try {
        InetAddress address = IpPrefix.literal(fields[2]);
        IpPrefix prefix = new IpPrefix(address, prefixLength(fields[3]));
        Optional<String> domain = fields[6].isBlank() ? Optional.empty() : Optional.of(fields[6].strip());
        Duration leaseTime = Duration.ofSeconds(fields[7].isBlank() ? 0 : Long.parseLong(fields[7].strip()));
        Optional<InetAddress> server = fields[8].isBlank() ? Optional.empty() : Optional.of(IpPrefix.literal(fields[8].strip()));
        return Optional.of(new Report(event, Optional.of(
            new DhcpLease(prefix, addresses(fields[4]), addresses(fields[5]), domain, leaseTime, server,
                fields.length > 9 ? addresses(fields[9]) : List.of()))));
      } catch (RuntimeException e) {
        LOG.warn("dhcp client reported what cannot be read: {}", line, e);
        return Optional.empty();
      }
    }

    private static List<InetAddress> addresses(String spaced) {
      List<InetAddress> all = new ArrayList<>();
      for (String text : spaced.strip().split("\\s+")) {
        if (!text.isEmpty()) {
          all.add(IpPrefix.literal(text));
        }
      }
      return all;
    }

    /** A mask as bits ("24") or dotted ("255.255.255.0"). */
    static int prefixLength(String mask) {
      String text = mask.strip();
      if (!text.contains(".")) {
        return Integer.parseInt(text);
      }
      byte[] bytes = IpPrefix.literal(text).getAddress();
      int bits = 0;
      for (byte b : bytes) {
        bits += Integer.bitCount(b & 0xff);
      }
      return bits;
    }
  }

  /** The line our script prints for an event with a lease (the sim "prints" it). */
  public static String report(String event, DhcpLease lease) {
    return String.join("|", MARK, event, lease.address().address().getHostAddress(),
        Integer.toString(lease.address().length()), hosts(lease.routers()), hosts(lease.dnsServers()),
        lease.domain().orElse(""), Long.toString(lease.leaseTime().toSeconds()),
        lease.server().map(InetAddress::getHostAddress).orElse(""), hosts(lease.ntpServers()));
  }

  /** The line our script prints for an event without a lease (deconfig, leasefail, nak). */
  public static String report(String event) {
    return String.join("|", MARK, event, "", "", "", "", "", "", "", "");
  }

  private static String hosts(List<InetAddress> addresses) {
    return String.join(" ", addresses.stream().map(InetAddress::getHostAddress).toList());
  }
}
