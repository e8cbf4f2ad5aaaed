package dev.verge.netlab;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An "upstream" host inside a namespace: the network a device's uplink plugs into. It can offer
 * DHCP and DNS (real dnsmasq) and an HTTP endpoint (busybox httpd).
 */
public final class UpstreamHost {
  private final Netns ns;
  private final String ifname;
  private final String address;
  private final Map<String, String> dnsRecords = new LinkedHashMap<>();
  private final List<String> dhcpOptions = new ArrayList<>();

  /**
   * @param ns the namespace of the upstream host
   * @param ifname its interface facing the device
   * @param cidr its address on that interface, e.g. {@code 192.0.2.1/24}
   */
  public UpstreamHost(Netns ns, String ifname, String cidr) {
    this.ns = ns;
    this.ifname = ifname;
    this.address = cidr.substring(0, cidr.indexOf('/'));
    ns.address(ifname, cidr);
  }

  public Netns namespace() {
    return ns;
  }

  /** The host's own address (gateway, DNS server and HTTP server for the device). */
  public String address() {
    return address;
  }

  /** A name the DNS server answers (must be added before {@link #startDhcpAndDns}). */
  public UpstreamHost dnsRecord(String name, String ip) {
    dnsRecords.put(name, ip);
    return this;
  }

  /**
   * A further DHCP option the server hands out, in dnsmasq's form, e.g.
   * {@code option:ntp-server,192.0.2.123} (must be added before {@link #startDhcpAndDns}).
   */
  public UpstreamHost dhcpOption(String option) {
    dhcpOptions.add(option);
    return this;
  }

  /**
   * Starts dnsmasq on the host's interface only, handing out leases from the range with the host
   * as router and DNS server. Waits until it answers.
   */
  public BackgroundProcess startDhcpAndDns(String rangeStart, String rangeEnd, Duration leaseTime) {
    Path dir = ns.topologyWorkDir().resolve(ns.shortName() + "-dnsmasq");
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<String> command =
        new ArrayList<>(
            List.of(
                "dnsmasq",
                "--keep-in-foreground",
                "--log-facility=-",
                "--log-dhcp",
                "--conf-file=/dev/null",
                "--no-resolv",
                "--no-hosts",
                "--bind-interfaces",
                "--except-interface=lo",
                "--interface=" + ifname,
                "--pid-file=" + dir.resolve("dnsmasq.pid"),
                "--dhcp-leasefile=" + dir.resolve("leases"),
                "--dhcp-range=" + rangeStart + "," + rangeEnd + "," + leaseTime.toSeconds() + "s",
                "--dhcp-option=option:router," + address,
                "--dhcp-option=option:dns-server," + address,
                "--dhcp-authoritative"));
    dnsRecords.forEach((name, ip) -> command.add("--address=/" + name + "/" + ip));
    dhcpOptions.forEach(option -> command.add("--dhcp-option=" + option));
    BackgroundProcess dnsmasq = ns.spawn("dnsmasq", command.toArray(String[]::new));
    dnsmasq.awaitOutput(out -> out.contains("DHCP, IP range"), Duration.ofSeconds(10));
    return dnsmasq;
  }

  /**
   * Serves the directory over HTTP on port 80 of the host's address. Waits until it accepts
   * connections.
   */
  public BackgroundProcess startHttp(Path docRoot) {
    BackgroundProcess httpd =
        ns.spawn("httpd", "busybox", "httpd", "-f", "-v", "-p", address + ":80", "-h", docRoot.toString());
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (httpStatus("http://" + address + "/").equals("000")) {
      if (!httpd.isAlive() || System.nanoTime() > deadline) {
        throw new IllegalStateException("httpd did not start:\n" + httpd.output());
      }
      BackgroundProcess.sleep(50);
    }
    return httpd;
  }

  /** The HTTP status code a GET of the URL gets from inside this host's namespace ("000": none). */
  public String httpStatus(String url) {
    return ns.exec("curl", "-s", "-o", "/dev/null", "-m", "2", "-w", "%{http_code}", url).stdout().trim();
  }
}
