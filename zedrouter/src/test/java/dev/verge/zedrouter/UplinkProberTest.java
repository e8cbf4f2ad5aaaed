package dev.verge.zedrouter;

import static dev.verge.zedrouter.Fixtures.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.proto.config.v1.CustomProbe;
import dev.verge.proto.config.v1.RouteProbe;
import dev.verge.topics.v1.DeviceNetwork;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** EVE's per-NI probing: DOWN after 4 failures, UP after 3 answers, failover and a held-off failback. */
class UplinkProberTest {
  static final DeviceNetwork TWO = ports(port("eth0", "eth0", 0, "192.0.2.10/24", "192.0.2.1"),
      port("eth1", "eth1", 1, "198.51.100.10/24", "198.51.100.1"));
  static final UplinkProber.Timers TIMERS =
      new UplinkProber.Timers(Duration.ofSeconds(3), Duration.ofSeconds(2), 4, 3, Duration.ofSeconds(120));

  final UplinkProber prober = new UplinkProber(TIMERS);
  Instant now = Instant.parse("2026-01-01T00:00:00Z");

  private String choose() {
    return choose(TWO);
  }

  private String choose(DeviceNetwork ports) {
    return prober.choose(NI1, UplinkSelector.choose("uplink", ports, true), Optional.empty(), true, now)
        .port().map(p -> p.getLabel()).orElse("none");
  }

  private String reason() {
    return prober.choose(NI1, UplinkSelector.choose("uplink", TWO, true), Optional.empty(), true, now).reason();
  }

  /** One probe round: each port answers or not; the clock moves one interval. */
  private void round(boolean eth0, boolean eth1) {
    now = now.plus(TIMERS.interval());
    prober.record(NI1, "eth0", eth0 ? UplinkProbe.Result.success() : UplinkProbe.Result.failure("eth0 silent"), now);
    prober.record(NI1, "eth1", eth1 ? UplinkProbe.Result.success() : UplinkProbe.Result.failure("eth1 silent"), now);
  }

  @Test
  void theCheapestPortIsUsedUntilItFailsFourProbesInARowThenTheNextOneThatAnswers() {
    assertThat(choose()).isEqualTo("eth0");
    assertThat(reason()).contains("lowest cost (0)").contains("not probed yet");
    for (int i = 0; i < 3; i++) {
      round(false, true);
      assertThat(prober.wantsChange(NI1, true, now)).as("failure %d is not enough", i + 1).isFalse();
      assertThat(choose()).isEqualTo("eth0");
    }
    round(false, true);
    assertThat(prober.health(NI1).get("eth0").health()).isEqualTo(UplinkProber.Health.DOWN);
    assertThat(prober.wantsChange(NI1, true, now)).isTrue();
    UplinkChoice failover = prober.choose(NI1, UplinkSelector.choose("uplink", TWO, true), Optional.empty(), true, now);
    assertThat(failover.port().orElseThrow().getLabel()).isEqualTo("eth1");
    assertThat(failover.reason()).isEqualTo("failover to eth1: eth0 fails its probe (eth0 silent) (was eth0)");
  }

  @Test
  void goingBackToTheCheaperPortWaitsUntilItHasAnsweredForTheHoldTimeWithoutABreak() {
    choose();
    for (int i = 0; i < 4; i++) {
      round(false, true);
    }
    assertThat(choose()).isEqualTo("eth1");
    // eth0 answers again: UP after 3 answers, yet the NI stays on eth1 (anti-flap)
    for (int i = 0; i < 3; i++) {
      round(true, true);
    }
    assertThat(prober.health(NI1).get("eth0").health()).isEqualTo(UplinkProber.Health.UP);
    assertThat(choose()).isEqualTo("eth1");
    assertThat(reason()).contains("eth0 is preferred but must answer for 120 s first (anti-flap)");
    // one miss restarts the hold
    now = now.plus(Duration.ofSeconds(100));
    round(false, true);
    round(true, true);
    now = now.plus(Duration.ofSeconds(60));
    assertThat(prober.wantsChange(NI1, true, now)).isFalse();
    assertThat(choose()).isEqualTo("eth1");
    now = now.plus(Duration.ofSeconds(60));
    assertThat(prober.wantsChange(NI1, true, now)).isTrue();
    assertThat(choose()).isEqualTo("eth0");
    assertThat(reason()).isEqualTo("lowest cost (0) port of uplink not failing its probe (its probe answers)");
  }

  @Test
  void whenEveryPortFailsTheNiStaysWhereItIs() {
    choose();
    for (int i = 0; i < 4; i++) {
      round(false, false);
    }
    assertThat(choose()).isEqualTo("eth0");
    assertThat(reason()).startsWith("every port of uplink fails its probe; keeping eth0 (eth0: eth0 silent, eth1: eth1 silent)");
  }

  @Test
  void aPortNimTakesAwayIsLeftAtOnceWithoutWaitingForProbes() {
    assertThat(choose()).isEqualTo("eth0");
    DeviceNetwork eth0Down = ports(port("eth0", "eth0", 0, "", ""), port("eth1", "eth1", 1, "198.51.100.10/24", "198.51.100.1"));
    assertThat(choose(eth0Down)).isEqualTo("eth1");
  }

  @Test
  void probesGoToEachPortsGatewayOrToTheNisOwnTargetFromThePortsAddress() {
    choose();
    assertThat(prober.due()).extracting(p -> p.target().label() + " " + p.target().source().getHostAddress() + " -> "
        + p.target().destination().getAddress().getHostAddress() + ":" + p.target().destination().getPort())
        .containsExactly("eth0 192.0.2.10 -> 192.0.2.1:53", "eth1 198.51.100.10 -> 198.51.100.1:53");
    RouteProbe custom = RouteProbe.newBuilder().setCustomProbe(CustomProbe.newBuilder()
        .setMethod(CustomProbe.Method.METHOD_TCP).setHost("203.0.113.7").setPort(443)).build();
    Optional<InetSocketAddress> target = UplinkProber.customTarget(custom);
    prober.choose(NI1, UplinkSelector.choose("uplink", TWO, true), target, true, now);
    assertThat(prober.due()).extracting(p -> p.target().destination().toString())
        .containsExactly("/203.0.113.7:443", "/203.0.113.7:443");
  }

  @Test
  void anNiWithOnePortIsNotProbed() {
    DeviceNetwork one = ports(port("eth0", "eth0", 0, "192.0.2.10/24", "192.0.2.1"));
    assertThat(choose(one)).isEqualTo("eth0");
    assertThat(prober.due()).isEmpty();
  }

  @Test
  void aBadProbeConfigIsNamed() {
    RouteProbe byName = RouteProbe.newBuilder().setCustomProbe(CustomProbe.newBuilder()
        .setMethod(CustomProbe.Method.METHOD_TCP).setHost("controller.example").setPort(443)).build();
    assertThat(UplinkProber.checkProbe(byName)).get().extracting(NiError::description)
        .isEqualTo("the probe host 'controller.example' must be an IPv4 address");
    RouteProbe icmp = RouteProbe.newBuilder().setCustomProbe(CustomProbe.newBuilder()
        .setMethod(CustomProbe.Method.METHOD_ICMP).setHost("203.0.113.7")).build();
    assertThat(UplinkProber.checkProbe(icmp)).get().extracting(NiError::reason).isEqualTo("BAD_UPLINK_PROBE");
    RouteProbe noPort = RouteProbe.newBuilder().setCustomProbe(CustomProbe.newBuilder()
        .setMethod(CustomProbe.Method.METHOD_TCP).setHost("203.0.113.7")).build();
    assertThat(UplinkProber.checkProbe(noPort)).get().extracting(NiError::fieldPath)
        .isEqualTo("uplink_probe.custom_probe.port");
  }
}
