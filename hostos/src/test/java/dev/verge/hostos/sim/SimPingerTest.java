package dev.verge.hostos.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.verge.hostos.HostException;
import dev.verge.hostos.IpPrefix;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sim's ping answers as the kernel would from the link's state, and as the test made the neighbours. */
class SimPingerTest {
  static final InetAddress SOURCE = IpPrefix.literal("192.0.2.10");
  static final InetAddress GATEWAY = IpPrefix.literal("192.0.2.1");
  static final Duration TIMEOUT = Duration.ofMillis(100);

  @TempDir Path scratch;
  SimHost host;

  @BeforeEach
  void port() {
    host = SimHost.create(scratch);
    host.kernel().plugNic("eth0", 0);
    host.kernel().setUp("eth0", true);
    host.kernel().addAddress("eth0", IpPrefix.parse("192.0.2.10/24"));
  }

  @AfterEach
  void close() {
    host.close();
  }

  private String errno(String link, InetAddress source, InetAddress destination) {
    try {
      host.pinger().echo(link, source, destination, TIMEOUT);
      return "answered";
    } catch (HostException e) {
      return e.errno().name() + ": " + e.getMessage();
    }
  }

  @Test
  void anOnLinkGatewayAnswersUntilItIsSilencedThenTheEchoTimesOut() {
    assertThat(host.pinger().echo("eth0", SOURCE, GATEWAY, TIMEOUT)).isEqualTo(SimPinger.ROUND_TRIP);
    host.pinger().silence(GATEWAY);
    assertThat(errno("eth0", SOURCE, GATEWAY))
        .isEqualTo("ETIMEDOUT: cannot ping 192.0.2.1 from 192.0.2.10 on eth0: no echo reply within 100 ms (ETIMEDOUT)");
    host.pinger().answer(GATEWAY);
    assertThat(errno("eth0", SOURCE, GATEWAY)).isEqualTo("answered");
    assertThat(host.pinger().requests(GATEWAY)).isEqualTo(3);
  }

  @Test
  void theLinkMustBeUpWithCarrierOwnTheSourceAndHaveTheDestinationOnLink() {
    assertThat(errno("eth1", SOURCE, GATEWAY)).startsWith("ENODEV: ");
    assertThat(errno("eth0", IpPrefix.literal("192.0.2.99"), GATEWAY)).startsWith("EADDRNOTAVAIL: ");
    assertThat(errno("eth0", SOURCE, IpPrefix.literal("198.51.100.1"))).startsWith("EHOSTUNREACH: ");
    host.kernel().setUp("eth0", false);
    assertThat(errno("eth0", SOURCE, GATEWAY)).startsWith("ENETDOWN: ").contains("eth0 is down");
    assertThat(host.pinger().requests(GATEWAY)).as("nothing was sent").isZero();
  }
}
