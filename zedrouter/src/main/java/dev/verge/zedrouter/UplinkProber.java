package dev.verge.zedrouter;

import dev.verge.hostos.IpPrefix;
import dev.verge.topics.v1.Port;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Per-NI uplink probing, EVE's PortProber in spirit: an NI whose label names more than one port
 * probes each usable one; a port is DOWN after {@code downAfter} failed probes in a row and UP
 * again after {@code upAfter} good ones. The NI keeps the port it uses until that port is DOWN,
 * then moves to the most preferred (cost, then label) port that is not DOWN. Anti-flap: going back
 * to a more preferred port needs it UP for {@code failbackHold} without a break; a port that has
 * just come back is not trusted at once.
 *
 * <p>Pure state on zedrouter's loop: the agent feeds it probe results and asks it for each NI's
 * choice when it builds the intent. Time is passed in, so tests run on a manual clock.
 */
public final class UplinkProber {
  /**
   * @param interval how often each candidate is probed (EVE: its user probe every 3 s)
   * @param timeout one probe's budget
   * @param downAfter failed probes in a row that make a port DOWN (EVE: 4)
   * @param upAfter good probes in a row that make it UP again (EVE: 3)
   * @param failbackHold how long a more preferred port must stay UP before the NI goes back to it
   *     (EVE asks for 40 confirmations of its NH probe)
   */
  public record Timers(Duration interval, Duration timeout, int downAfter, int upAfter, Duration failbackHold) {
    public static final Timers DEFAULT =
        new Timers(Duration.ofSeconds(3), Duration.ofSeconds(2), 4, 3, Duration.ofSeconds(120));

    public Timers {
      Objects.requireNonNull(interval);
      Objects.requireNonNull(timeout);
      Objects.requireNonNull(failbackHold);
      if (downAfter < 1 || upAfter < 1) {
        throw new IllegalArgumentException("downAfter and upAfter must be at least 1");
      }
    }
  }

  public enum Health {
    UNKNOWN,
    UP,
    DOWN
  }

  /**
   * What the probes of one method (gateway ping or remote TCP) have shown for one port of one NI.
   *
   * @param successes, failures answers and misses in a row (the thresholds count these)
   * @param totalSuccesses, totalFailures all answers and misses since the NI began probing the port
   */
  public record ProbeHealth(Health health, int successes, int failures, Optional<Instant> upSince, String lastError,
      long totalSuccesses, long totalFailures, Optional<Instant> lastSuccess, Duration lastRoundTrip) {
    static final ProbeHealth NEW =
        new ProbeHealth(Health.UNKNOWN, 0, 0, Optional.empty(), "", 0, 0, Optional.empty(), Duration.ZERO);

    ProbeHealth after(UplinkProbe.Result result, Timers timers, Instant now) {
      if (result.ok()) {
        int inRow = successes + 1;
        boolean up = health == Health.UP || (health == Health.UNKNOWN ? true : inRow >= timers.upAfter());
        return new ProbeHealth(up ? Health.UP : health, inRow, 0,
            up ? Optional.of(upSince.orElse(now)) : Optional.empty(), "", totalSuccesses + 1, totalFailures,
            Optional.of(now), result.roundTrip());
      }
      int inRow = failures + 1;
      boolean down = health == Health.DOWN || inRow >= timers.downAfter();
      // a probe that fails is no longer continuously up: its failback hold starts again
      return new ProbeHealth(down ? Health.DOWN : health, 0, inRow, Optional.empty(), result.error(), totalSuccesses,
          totalFailures + 1, lastSuccess, lastRoundTrip);
    }
  }

  /**
   * One port as its probes show it, EVE's way: UP while at least one of its probes is up, DOWN once
   * every one of them is down (a gateway that drops pings is no failure while the remote TCP probe
   * answers through it), UNKNOWN otherwise or without probes.
   *
   * @param upSince since when one of its probes has been up without a break
   * @param lastError why its failing probes fail, empty when none does
   * @param probes each enabled method's own state
   */
  public record PortHealth(Health health, Optional<Instant> upSince, String lastError,
      Map<UplinkProbe.Method, ProbeHealth> probes) {
    static final PortHealth NEW = of(Map.of());

    static PortHealth of(Map<UplinkProbe.Method, ProbeHealth> probes) {
      Collection<ProbeHealth> all = probes.values();
      Health health = all.stream().anyMatch(p -> p.health() == Health.UP) ? Health.UP
          : !all.isEmpty() && all.stream().allMatch(p -> p.health() == Health.DOWN) ? Health.DOWN : Health.UNKNOWN;
      Optional<Instant> upSince = all.stream().filter(p -> p.health() == Health.UP)
          .flatMap(p -> p.upSince().stream()).min(Instant::compareTo);
      String lastError = String.join("; ", probes.entrySet().stream().filter(e -> e.getValue().failures() > 0)
          .map(e -> e.getValue().lastError()).toList());
      return new PortHealth(health, upSince, lastError, Map.copyOf(probes));
    }

    public ProbeHealth probe(UplinkProbe.Method method) {
      return probes.getOrDefault(method, ProbeHealth.NEW);
    }
  }

  /**
   * Which probes an NI sends (EVE's NIPortProbe): the gateway ping, on ports costing at most
   * {@code gatewayPingMaxCost} when set, and the remote TCP probe when the NI names a target.
   */
  public record ProbePlan(boolean gatewayPing, Optional<Integer> gatewayPingMaxCost,
      Optional<InetSocketAddress> remote) {
    /** Without an uplink_probe: ping every port's gateway. */
    public static final ProbePlan GATEWAYS = new ProbePlan(true, Optional.empty(), Optional.empty());

    public ProbePlan {
      Objects.requireNonNull(gatewayPingMaxCost);
      Objects.requireNonNull(remote);
    }

    /** The probes an NI's config asks for (a bad custom probe, refused by the validator, is left out). */
    public static ProbePlan of(dev.verge.proto.config.v1.NetworkInstanceConfig config) {
      if (!config.hasUplinkProbe()) {
        return GATEWAYS;
      }
      var probe = config.getUplinkProbe();
      return new ProbePlan(probe.getEnableGwPing(),
          probe.getEnableGwPing() ? Optional.of(probe.getGwPingMaxCost()) : Optional.empty(), customTarget(probe));
    }

    /** The methods that probe this port. */
    Set<UplinkProbe.Method> methods(Port port) {
      Set<UplinkProbe.Method> methods = java.util.EnumSet.noneOf(UplinkProbe.Method.class);
      if (gatewayPing && gatewayPingMaxCost.map(max -> port.getCost() <= max).orElse(true)
          && ipv4Gateway(port).isPresent()) {
        methods.add(UplinkProbe.Method.ICMP);
      }
      remote.ifPresent(r -> methods.add(UplinkProbe.Method.TCP));
      return methods;
    }
  }

  /** One probe to send: which NI, and the port and target. */
  public record Probe(String ni, UplinkProbe.Target target) {}

  private static final class NiState {
    UplinkChoice base;
    ProbePlan plan = ProbePlan.GATEWAYS;
    Optional<String> inUse = Optional.empty();
    /** By port label, then method. */
    final Map<String, Map<UplinkProbe.Method, ProbeHealth>> ports = new TreeMap<>();

    PortHealth port(Port port) {
      Map<UplinkProbe.Method, ProbeHealth> seen = ports.getOrDefault(port.getLabel(), Map.of());
      Map<UplinkProbe.Method, ProbeHealth> enabled = new java.util.EnumMap<>(UplinkProbe.Method.class);
      plan.methods(port).forEach(m -> enabled.put(m, seen.getOrDefault(m, ProbeHealth.NEW)));
      return PortHealth.of(enabled);
    }

    Optional<Port> candidate(String label) {
      return base.candidates().stream().filter(p -> p.getLabel().equals(label)).findFirst();
    }

    PortHealth port(String label) {
      return candidate(label).map(this::port).orElse(PortHealth.NEW);
    }
  }

  private final Timers timers;
  private final Map<String, NiState> nis = new HashMap<>();

  public UplinkProber(Timers timers) {
    this.timers = timers;
  }

  public Timers timers() {
    return timers;
  }

  /** True when the label may name several ports, so the NI's uplink is chosen by probing. */
  static boolean probes(UplinkChoice choice) {
    return choice.candidates().size() > 1;
  }

  /**
   * The NI's uplink now: {@code base} (nim's view: candidates, usability, cost) refined by the
   * probes. Remembers the answer as the port in use. NIs not passed again are forgotten by
   * {@link #retain}.
   *
   * @param plan the probes the NI sends
   * @param needsAddress as for {@link UplinkSelector#choose}
   */
  public UplinkChoice choose(String ni, UplinkChoice base, ProbePlan plan, boolean needsAddress, Instant now) {
    if (!probes(base)) {
      nis.remove(ni);
      return base;
    }
    NiState state = nis.computeIfAbsent(ni, n -> new NiState());
    state.base = base;
    state.plan = plan;
    Set<String> labels = new java.util.HashSet<>(base.candidates().stream().map(Port::getLabel).toList());
    state.ports.keySet().retainAll(labels);
    UplinkChoice choice = decide(state, needsAddress, now);
    Optional<String> before = state.inUse;
    state.inUse = choice.port().map(Port::getLabel);
    if (!before.equals(state.inUse)) {
      choice = new UplinkChoice(choice.label(), choice.candidates(), choice.port(),
          choice.reason() + before.map(b -> " (was " + b + ")").orElse(""));
    }
    return choice;
  }

  /** True when the probes now call for another port than the one in use (the intent must be rebuilt). */
  public boolean wantsChange(String ni, boolean needsAddress, Instant now) {
    NiState state = nis.get(ni);
    return state != null && !decide(state, needsAddress, now).port().map(Port::getLabel).equals(state.inUse);
  }

  private UplinkChoice decide(NiState state, boolean needsAddress, Instant now) {
    UplinkChoice base = state.base;
    List<Port> usable = base.candidates().stream()
        .filter(p -> UplinkSelector.unusable(p, needsAddress).isEmpty()).toList();
    if (usable.isEmpty()) {
      return base; // nim has none: nothing to probe between
    }
    Optional<Port> current = state.inUse.flatMap(l -> usable.stream().filter(p -> p.getLabel().equals(l)).findFirst());
    Optional<Port> preferredAlive = usable.stream().filter(p -> health(state, p) != Health.DOWN).findFirst();
    if (preferredAlive.isEmpty()) {
      // every port fails: stay where we are (or on the cheapest); moving would not help
      Port stay = current.orElse(usable.get(0));
      return choice(base, stay, "every port of " + base.label() + " fails its probe; keeping " + stay.getLabel()
          + " (" + failures(state, usable) + ")");
    }
    if (current.isPresent() && health(state, current.get()) != Health.DOWN) {
      Port kept = current.get();
      Port better = preferredAlive.get();
      if (better.getLabel().equals(kept.getLabel())) {
        return choice(base, kept, reasonFor(state, kept, usable));
      }
      PortHealth h = state.port(better);
      if (h.health() == Health.UP && h.upSince().isPresent()
          && !h.upSince().get().plus(timers.failbackHold()).isAfter(now)) {
        return choice(base, better, "back to " + better.getLabel() + " (cost " + better.getCost() + "): its probe has "
            + "answered for " + timers.failbackHold().toSeconds() + " s");
      }
      return choice(base, kept, kept.getLabel() + " answers its probe; " + better.getLabel()
          + " is preferred but must answer for " + timers.failbackHold().toSeconds() + " s first (anti-flap)");
    }
    Port next = preferredAlive.get();
    if (current.isEmpty() && state.inUse.isEmpty()) {
      return choice(base, next, reasonFor(state, next, usable));
    }
    return choice(base, next, "failover to " + next.getLabel() + ": " + state.inUse.orElse("?")
        + (current.isPresent() ? " fails its probe (" + state.port(current.get()).lastError() + ")"
            : " is no longer usable"));
  }

  private UplinkChoice choice(UplinkChoice base, Port port, String reason) {
    return new UplinkChoice(base.label(), base.candidates(), Optional.of(port), reason);
  }

  private String reasonFor(NiState state, Port port, List<Port> usable) {
    List<String> skipped = new ArrayList<>();
    for (Port p : usable) {
      if (p.getLabel().equals(port.getLabel())) {
        break;
      }
      skipped.add(p.getLabel() + " fails its probe (" + state.port(p).lastError() + ")");
    }
    String health = switch (health(state, port)) {
      case UP -> "its probe answers";
      case UNKNOWN -> "not probed yet";
      case DOWN -> "its probe fails";
    };
    return "lowest cost (" + port.getCost() + ") port of " + state.base.label() + " not failing its probe ("
        + health + ")" + (skipped.isEmpty() ? "" : "; " + String.join(", ", skipped));
  }

  private String failures(NiState state, List<Port> ports) {
    return String.join(", ", ports.stream().map(p -> p.getLabel() + ": " + state.port(p).lastError()).toList());
  }

  private static Health health(NiState state, Port port) {
    return state.port(port).health();
  }

  /**
   * The probes to send now, from every usable port with an IPv4 address of every probing NI: a ping
   * to the port's gateway, and a TCP probe to the NI's remote target, as the NI's plan asks.
   */
  public List<Probe> due() {
    List<Probe> probes = new ArrayList<>();
    new TreeMap<>(nis).forEach((ni, state) -> {
      for (Port port : state.base.candidates()) {
        if (UplinkSelector.unusable(port, true).isPresent()) {
          continue;
        }
        Optional<InetAddress> source = port.getAddressesList().stream().map(IpPrefix::parse)
            .filter(IpPrefix::isIpv4).map(IpPrefix::address).findFirst();
        if (source.isEmpty()) {
          continue;
        }
        for (UplinkProbe.Method method : state.plan.methods(port)) {
          InetSocketAddress destination = switch (method) {
            case ICMP -> new InetSocketAddress(ipv4Gateway(port).orElseThrow(), 0);
            case TCP -> state.plan.remote().orElseThrow();
          };
          probes.add(new Probe(ni, new UplinkProbe.Target(method, port.getLabel(), port.getIfName(), source.get(),
              destination, timers.timeout())));
        }
      }
    });
    return probes;
  }

  private static Optional<InetAddress> ipv4Gateway(Port port) {
    return port.getGatewaysList().stream().map(IpPrefix::literal).filter(a -> a instanceof java.net.Inet4Address)
        .findFirst();
  }

  /** Records a probe's answer; true when the port's health changed (the status should say so). */
  public boolean record(String ni, String label, UplinkProbe.Method method, UplinkProbe.Result result, Instant now) {
    NiState state = nis.get(ni);
    if (state == null || state.candidate(label).isEmpty()) {
      return false; // the NI or the port went away meanwhile
    }
    PortHealth before = state.port(label);
    Map<UplinkProbe.Method, ProbeHealth> probes = state.ports.computeIfAbsent(label,
        l -> new java.util.EnumMap<>(UplinkProbe.Method.class));
    probes.put(method, probes.getOrDefault(method, ProbeHealth.NEW).after(result, timers, now));
    return before.health() != state.port(label).health();
  }

  /** The probe state of each candidate port of a probing NI (for status and metrics); empty if it does not probe. */
  public Map<String, PortHealth> health(String ni) {
    NiState state = nis.get(ni);
    if (state == null) {
      return Map.of();
    }
    Map<String, PortHealth> health = new TreeMap<>();
    state.base.candidates().forEach(p -> health.put(p.getLabel(), state.port(p)));
    return health;
  }

  /**
   * The NI's own probe target: a TCP custom probe's {@code host:port} (an IPv4 address: the probe
   * does not depend on DNS, which may itself go out of the failing port); empty for the gateways.
   */
  public static Optional<InetSocketAddress> customTarget(dev.verge.proto.config.v1.RouteProbe probe) {
    return checkProbe(probe).isEmpty() && probe.hasCustomProbe()
        ? Optional.of(new InetSocketAddress(IpPrefix.literal(probe.getCustomProbe().getHost()),
            probe.getCustomProbe().getPort()))
        : Optional.empty();
  }

  /** Why an NI's uplink probe config cannot be used; empty when it can. */
  public static Optional<NiError> checkProbe(dev.verge.proto.config.v1.RouteProbe probe) {
    if (!probe.hasCustomProbe()) {
      return Optional.empty();
    }
    var custom = probe.getCustomProbe();
    if (custom.getMethod() != dev.verge.proto.config.v1.CustomProbe.Method.METHOD_TCP) {
      return Optional.of(new NiError("BAD_UPLINK_PROBE", "uplink_probe.custom_probe.method",
          "only TCP custom probes are supported (" + custom.getMethod() + ")"));
    }
    try {
      if (!(IpPrefix.literal(custom.getHost()) instanceof java.net.Inet4Address)) {
        throw new IllegalArgumentException("not IPv4");
      }
    } catch (RuntimeException e) {
      return Optional.of(new NiError("BAD_UPLINK_PROBE", "uplink_probe.custom_probe.host",
          "the probe host '" + custom.getHost() + "' must be an IPv4 address"));
    }
    if (custom.getPort() < 1 || custom.getPort() > 65535) {
      return Optional.of(new NiError("BAD_UPLINK_PROBE", "uplink_probe.custom_probe.port",
          "the probe port " + custom.getPort() + " is not 1-65535"));
    }
    return Optional.empty();
  }

  /** Forgets NIs that no longer run. */
  public void retain(Set<String> running) {
    nis.keySet().retainAll(running);
  }
}
