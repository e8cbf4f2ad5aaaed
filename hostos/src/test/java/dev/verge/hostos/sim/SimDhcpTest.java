package dev.verge.hostos.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.verge.hostos.DhcpEvent;
import dev.verge.hostos.DhcpLease;
import dev.verge.hostos.DhcpOptions;
import dev.verge.hostos.Errno;
import dev.verge.hostos.HostException;
import dev.verge.hostos.IpPrefix;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The DHCP clients of a sim host, driven by the sim's DHCP server. */
class SimDhcpTest {
  private static final DhcpLease LEASE = new DhcpLease(IpPrefix.parse("192.0.2.50/24"),
      List.of(IpPrefix.literal("192.0.2.1")), List.of(IpPrefix.literal("192.0.2.1"), IpPrefix.literal("192.0.2.2")),
      Optional.of("example.net"), Duration.ofHours(1), Optional.of(IpPrefix.literal("192.0.2.1")));

  @TempDir Path scratch;
  private SimHost host;
  private final ExecutorService loop = Executors.newSingleThreadExecutor(r -> new Thread(r, "agent-loop"));
  private final LinkedBlockingQueue<Object[]> told = new LinkedBlockingQueue<>();

  @BeforeEach
  void plugUplink() {
    host = SimHost.create(scratch);
    host.kernel().plugNic("eth0", 0);
    host.network().setUp("eth0", true);
  }

  @AfterEach
  void close() {
    host.close();
    loop.shutdownNow();
  }

  private void start() {
    host.dhcp().start("eth0", DhcpOptions.DEFAULT.withHostname("edge-1"), loop,
        event -> told.add(new Object[] {event, Thread.currentThread().getName()}));
  }

  private DhcpEvent next() throws InterruptedException {
    Object[] entry = told.poll(5, TimeUnit.SECONDS);
    assertThat(entry).as("an event within 5 s").isNotNull();
    assertThat(entry[1]).isEqualTo("agent-loop");
    return (DhcpEvent) entry[0];
  }

  @Test
  void aLeaseIsBoundRenewedLostAndBoundAgainExactlyAsTheServerGaveIt() throws Exception {
    start();
    host.dhcpServer().offer("eth0", LEASE);
    assertThat(next()).isEqualTo(new DhcpEvent.Bound("eth0", LEASE));
    DhcpLease longer = new DhcpLease(LEASE.address(), LEASE.routers(), LEASE.dnsServers(), Optional.empty(),
        Duration.ofHours(2), LEASE.server());
    host.dhcpServer().renew("eth0", longer);
    assertThat(next()).isEqualTo(new DhcpEvent.Renewed("eth0", longer));
    host.dhcpServer().expire("eth0");
    assertThat(next()).isEqualTo(new DhcpEvent.Lost("eth0", longer, "no lease (expired or refused)"));
    host.dhcpServer().offer("eth0", LEASE);
    assertThat(next()).isEqualTo(new DhcpEvent.Bound("eth0", LEASE));
    host.dhcpServer().nak("eth0");
    assertThat(next()).isEqualTo(new DhcpEvent.Lost("eth0", LEASE, "the server refused the lease (NAK)"));
  }

  @Test
  void aCrashedClientLosesItsLeaseAndIsRestartedAndAFailedRestartIsTold() throws Exception {
    start();
    host.dhcpServer().offer("eth0", LEASE);
    next();
    host.dhcpServer().failNextStarts("eth0", 1);
    host.dhcpServer().crash("eth0", 139);
    assertThat(next()).isEqualTo(new DhcpEvent.Lost("eth0", LEASE, "the client exited with 139"));
    DhcpEvent.Failed failed = (DhcpEvent.Failed) next();
    assertThat(failed.reason().getMessage()).isEqualTo(
        "cannot restart daemon dhcpc-eth0: cannot run busybox: No such file or directory (ENOENT)");
    assertThat(failed.willRetry()).isTrue();
    // retried at once in the sim, and it runs again: a new lease is bound
    assertThat(host.daemons().status("dhcpc-eth0").orElseThrow().running()).isTrue();
    host.dhcpServer().offer("eth0", LEASE);
    assertThat(next()).isEqualTo(new DhcpEvent.Bound("eth0", LEASE));
  }

  @Test
  void aClientNeedsItsLinkAndOnePerLink() {
    assertThat(catchThrowableOfType(HostException.class,
        () -> host.dhcp().start("nosuch0", DhcpOptions.DEFAULT, loop, e -> {})).getMessage())
        .isEqualTo("cannot start dhcp client on nosuch0: no link named nosuch0 (ENODEV)");
    start();
    assertThat(catchThrowableOfType(HostException.class, this::start).getMessage())
        .isEqualTo("cannot start dhcp client on eth0: the link already has a client (EEXIST)");
  }

  @Test
  void aRenewalIsAskedOfTheRunningClientOnly() {
    assertThat(catchThrowableOfType(HostException.class, () -> host.dhcp().renew("eth0")).errno())
        .isEqualTo(Errno.ESRCH);
    start();
    host.dhcp().renew("eth0");
    assertThat(host.dhcpServer().renewRequests("eth0")).isEqualTo(1);
  }

  @Test
  void aStoppedClientIsGoneAndTellsNothingMore() throws Exception {
    start();
    host.dhcpServer().offer("eth0", LEASE);
    next();
    host.dhcp().stop("eth0");
    assertThat(host.daemons().status("dhcpc-eth0")).isEmpty();
    assertThat(catchThrowableOfType(HostException.class, () -> host.dhcpServer().offer("eth0", LEASE)).errno())
        .isEqualTo(Errno.ESRCH);
    assertThat(catchThrowableOfType(HostException.class, () -> host.dhcp().stop("eth0")).getMessage())
        .isEqualTo("cannot stop dhcp client on eth0: no client runs on eth0 (ESRCH)");
    // a marker through the same loop: had the stop told anything, it would be before it
    loop.submit(() -> told.add(new Object[] {"marker", "agent-loop"})).get();
    assertThat(told.poll()).containsExactly("marker", "agent-loop");
  }

  @Test
  void theClientsScriptAndFilesStayInItsOwnDirectories() {
    start();
    var paths = host.daemons().paths("dhcpc-eth0");
    assertThat(paths.state().resolve("udhcpc.script")).isExecutable();
    assertThat(paths.state()).startsWith(scratch);
  }
}
