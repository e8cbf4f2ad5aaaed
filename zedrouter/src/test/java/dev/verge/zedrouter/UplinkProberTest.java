package dev.verge.zedrouter;

import static dev.verge.zedrouter.Fixtures.*;
import static dev.verge.zedrouter.UplinkProbe.Method.ICMP;
import static dev.verge.zedrouter.UplinkProbe.Method.TCP;
import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.proto.config.v1.CustomProbe;
import dev.verge.proto.config.v1.RouteProbe;
import dev.verge.topics.v1.DeviceNetwork;
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
  UplinkProber.ProbePlan plan = UplinkProber.ProbePlan.GATEWAYS;

  private String choose() {
    return choose(TWO);
  }

  private String choose(DeviceNetwork ports) {
    return prober.choose(NI1, UplinkSelector.choose("uplink", ports, true), plan, true, now)
        .port().map(p -> p.getLabel()).orElse("none");
  }

  private String reason() {
    return prober.choose(NI1, UplinkSelector.choose("uplink", TWO, true), plan, true, now).reason();
  }

  /** One round of gateway pings: each port's gateway answers or not; the clock moves one interval. */
  private void round(boolean eth0, boolean eth1) {
    now = now.plus(TIMERS.interval());
    prober.record(NI1, "eth0", ICMP, eth0 ? UplinkProbe.Result.success() : UplinkProbe.Result.failure("eth0 silent"), now);
    prober.record(NI1, "eth1", ICMP, eth1 ? UplinkProbe.Result.success() : UplinkProbe.Result.failure("eth1 silent"), now);
  }

  /** One round of the remote TCP probe through eth0 only (what tells its gateway's silence from a dead path). */
  private void remoteThroughEth0(boolean answers) {
    prober.record(NI1, "eth0", TCP, answers ? UplinkProbe.Result.success()
        : UplinkProbe.Result.failure("no answer from 203.0.113.7:443"), now);
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
    UplinkChoice failover = prober.choose(NI1, UplinkSelector.choose("uplink", TWO, true), plan, true, now);
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
  void gatewaysArePingedAndTheNisOwnTargetGetsATcpProbeFromEachPortsAddress() {
    choose();
    assertThat(prober.due()).extracting(UplinkProberTest::describe)
        .containsExactly("ICMP eth0 192.0.2.10 -> 192.0.2.1:0", "ICMP eth1 198.51.100.10 -> 198.51.100.1:0");
    plan = UplinkProber.ProbePlan.of(local(NI1, "10.1.0.0/24", "uplink").toBuilder().setUplinkProbe(REMOTE_AND_PING)
        .build());
    choose();
    assertThat(prober.due()).extracting(UplinkProberTest::describe).containsExactly(
        "ICMP eth0 192.0.2.10 -> 192.0.2.1:0", "TCP eth0 192.0.2.10 -> 203.0.113.7:443",
        "ICMP eth1 198.51.100.10 -> 198.51.100.1:0", "TCP eth1 198.51.100.10 -> 203.0.113.7:443");
    // the remote probe alone: no ping
    plan = UplinkProber.ProbePlan.of(local(NI1, "10.1.0.0/24", "uplink").toBuilder()
        .setUplinkProbe(REMOTE_AND_PING.toBuilder().setEnableGwPing(false)).build());
    choose();
    assertThat(prober.due()).extracting(UplinkProberTest::describe)
        .containsExactly("TCP eth0 192.0.2.10 -> 203.0.113.7:443", "TCP eth1 198.51.100.10 -> 203.0.113.7:443");
  }

  @Test
  void onlyPortsCostingAtMostTheGatewayPingsMaxCostArePinged() {
    plan = UplinkProber.ProbePlan.of(local(NI1, "10.1.0.0/24", "uplink").toBuilder().setUplinkProbe(RouteProbe
        .newBuilder().setEnableGwPing(true).setGwPingMaxCost(0)).build());
    choose();
    assertThat(prober.due()).extracting(UplinkProberTest::describe).containsExactly("ICMP eth0 192.0.2.10 -> 192.0.2.1:0");
  }

  static final RouteProbe REMOTE_AND_PING = RouteProbe.newBuilder().setEnableGwPing(true).setGwPingMaxCost(255)
      .setCustomProbe(CustomProbe.newBuilder().setMethod(CustomProbe.Method.METHOD_TCP).setHost("203.0.113.7")
          .setPort(443)).build();

  private static String describe(UplinkProber.Probe p) {
    return p.target().method() + " " + p.target().label() + " " + p.target().source().getHostAddress() + " -> "
        + p.target().destination().getAddress().getHostAddress() + ":" + p.target().destination().getPort();
  }

  @Test
  void aGatewayThatDropsPingsIsNoFailureWhileTheRemoteProbeAnswersThroughThePort() {
    plan = UplinkProber.ProbePlan.of(local(NI1, "10.1.0.0/24", "uplink").toBuilder().setUplinkProbe(REMOTE_AND_PING)
        .build());
    assertThat(choose()).isEqualTo("eth0");
    for (int i = 0; i < 6; i++) {
      round(false, true);
      remoteThroughEth0(true);
    }
    UplinkProber.PortHealth eth0 = prober.health(NI1).get("eth0");
    assertThat(eth0.probe(ICMP).health()).isEqualTo(UplinkProber.Health.DOWN);
    assertThat(eth0.probe(TCP).health()).isEqualTo(UplinkProber.Health.UP);
    assertThat(eth0.health()).as("one probe up keeps the port up, as EVE's upCount > 0").isEqualTo(UplinkProber.Health.UP);
    assertThat(prober.wantsChange(NI1, true, now)).isFalse();
    assertThat(choose()).isEqualTo("eth0");
    // the remote stops answering through eth0 too: after four misses the port is down and the NI leaves it
    for (int i = 0; i < 3; i++) {
      round(false, true);
      remoteThroughEth0(false);
      assertThat(choose()).isEqualTo("eth0");
    }
    round(false, true);
    remoteThroughEth0(false);
    assertThat(prober.health(NI1).get("eth0").health()).isEqualTo(UplinkProber.Health.DOWN);
    assertThat(prober.wantsChange(NI1, true, now)).isTrue();
    UplinkChoice failover = prober.choose(NI1, UplinkSelector.choose("uplink", TWO, true), plan, true, now);
    assertThat(failover.port().orElseThrow().getLabel()).isEqualTo("eth1");
    assertThat(failover.reason()).isEqualTo("failover to eth1: eth0 fails its probe (eth0 silent; no answer from "
        + "203.0.113.7:443) (was eth0)");
    // counts and last success per method, for the metrics
    UplinkProber.PortHealth after = prober.health(NI1).get("eth0");
    assertThat(after.probe(ICMP).totalFailures()).isEqualTo(10);
    assertThat(after.probe(ICMP).totalSuccesses()).isZero();
    assertThat(after.probe(ICMP).lastSuccess()).isEmpty();
    assertThat(after.probe(TCP).totalSuccesses()).isEqualTo(6);
    assertThat(after.probe(TCP).totalFailures()).isEqualTo(4);
    assertThat(after.probe(TCP).lastSuccess()).contains(now.minus(TIMERS.interval().multipliedBy(4)));
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
