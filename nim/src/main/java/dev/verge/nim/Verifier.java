package dev.verge.nim;

import dev.verge.pubsub.AgentLoop;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which port config nim runs and which of its ports carries controller traffic: EVE's verification
 * and failover, on the agent's loop and its clock (so tests run it on virtual time).
 *
 * <p>A config is verified by testing its management ports in cost order; the first that reaches
 * the controller becomes the controller port. Ports still waiting for an address are waited for
 * (5 × the test duration), then the config has failed and the next testable one is tried; when
 * none is left nim parks on the last config that worked (else the first) and retries later. While
 * a config works, the controller port is probed every probe interval (two misses re-verify), and
 * losing its carrier or address moves controller traffic to the next ready port at once (EVE
 * waits for its 300 s timer). A better port that comes back is probed after a hold-down and taken
 * back when it works.
 */
public final class Verifier {
  private static final Logger log = LoggerFactory.getLogger(Verifier.class);
  /** How often a config waiting for addresses is looked at again. */
  static final Duration WAIT_RETRY = Duration.ofSeconds(1);

  /** What the verifier needs to know about ports, from the kernel and the leases. */
  public interface Ports {
    /** Why the port cannot carry traffic now (missing, down, no carrier, no address), or empty. */
    Optional<String> notReady(Port port);

    /** The address a probe leaves from. */
    Optional<InetAddress> source(Port port);
  }

  public enum Phase { IDLE, VERIFYING, WORKING, PARKED }

  /** A config of the list with its test history (Unix epoch milliseconds, 0: never). */
  public record Entry(PortConfig config, long lastFailedMs, long lastSucceededMs, String lastError) {
    boolean workedBefore() {
      return lastSucceededMs > lastFailedMs;
    }
  }

  /** A port's test history. */
  public record PortResult(long lastFailedMs, long lastSucceededMs, String lastError, Duration roundTrip) {
    static final PortResult NONE = new PortResult(0, 0, "", Duration.ZERO);
  }

  /** Controller probes out of one port since nim started: counters for the metrics. */
  public record ProbeStats(long successes, long failures, Duration lastRoundTrip) {
    static final ProbeStats NONE = new ProbeStats(0, 0, Duration.ZERO);

    ProbeStats plus(ControllerProbe.Result result) {
      return result.ok() ? new ProbeStats(successes + 1, failures, result.roundTrip())
          : new ProbeStats(successes, failures + 1, lastRoundTrip);
    }
  }

  private final Map<String, ProbeStats> probeStats = new java.util.concurrent.ConcurrentHashMap<>();
  private final AgentLoop loop;
  private final ControllerProbe probe;
  private final Ports ports;
  private final Runnable changed;
  private NimTimers timers;

  /**
   * A config's history from before a restart.
   *
   * @param fingerprint {@link PortConfig#fingerprint()}: the history counts only for the same content
   */
  public record History(String key, String fingerprint, long lastFailedMs, long lastSucceededMs, String lastError) {}

  private final List<Entry> list = new ArrayList<>();
  private final Map<String, History> restored = new LinkedHashMap<>();
  private final Map<String, Integer> restoredRank = new java.util.HashMap<>();
  private final Map<String, PortResult> portResults = new LinkedHashMap<>();
  /** Configs compression dropped while their source still offers them (a manual config outranked). */
  private final java.util.Set<String> retired = new java.util.HashSet<>();
  /** Older contents of a source from before a restart, put back behind its newest content once it arrives. */
  private final List<Entry> restoredFallbacks = new ArrayList<>();
  /** Test-better attempts in a row whose better config failed: each doubles the wait (bounded). */
  private int betterFailures;
  private boolean testingBetter;
  private int current = -1;
  private Phase phase = Phase.IDLE;
  private String controllerPort = "";
  private String reason = "no port config yet";
  private long controllerPortChanges;
  private long failovers;
  private long verifyStartedNanos;
  private int generation;
  private boolean testInFlight;
  private int liveFailures;
  private boolean liveProbeInFlight;
  private int betterProbesInFlight;
  private final java.util.Set<String> standbyInFlight = new java.util.HashSet<>();
  private Future<?> retryTimer;
  private Future<?> probeTimer;
  private Future<?> betterTimer;

  /** @param changed told on the loop whenever the config in use or the controller port changed */
  public Verifier(AgentLoop loop, ControllerProbe probe, Ports ports, NimTimers timers, Runnable changed) {
    this.loop = loop;
    // Every probe, whichever path sent it, is counted per port (on the loop, where its answer lands).
    this.probe = (request, done) -> probe.probe(request, result -> {
      loop.execute(() -> probeStats.merge(request.label(), ProbeStats.NONE.plus(result),
          (a, b) -> a.plus(result)));
      done.accept(result);
    });
    this.ports = ports;
    this.timers = timers;
    this.changed = changed;
  }

  // ---------------------------------------------------------------- what others read

  public Optional<PortConfig> currentConfig() {
    return current < 0 ? Optional.empty() : Optional.of(list.get(current).config());
  }

  public int currentIndex() {
    return current;
  }

  public List<Entry> entries() {
    return List.copyOf(list);
  }

  public Phase phase() {
    return phase;
  }

  public Optional<String> controllerPort() {
    return controllerPort.isEmpty() ? Optional.empty() : Optional.of(controllerPort);
  }

  public long controllerPortChanges() {
    return controllerPortChanges;
  }

  public long failovers() {
    return failovers;
  }

  /** Why the verifier is where it is, in words. */
  public String reason() {
    return reason;
  }

  public PortResult portResult(String label) {
    return portResults.getOrDefault(label, PortResult.NONE);
  }

  public ProbeStats probeStats(String label) {
    return probeStats.getOrDefault(label, ProbeStats.NONE);
  }

  public void setTimers(NimTimers newTimers) {
    this.timers = newTimers;
  }

  // ---------------------------------------------------------------- inputs

  /**
   * The history persisted before a restart, given before the first configs: a config that failed
   * minutes ago and never worked is not tried first again (a device that reboots does not wait
   * out the same broken config before the one that worked).
   */
  public void restore(List<History> histories) {
    histories.forEach(h -> {
      restored.putIfAbsent(h.key(), h);
      restoredRank.putIfAbsent(h.key(), restoredRank.size());
    });
  }

  /**
   * Older contents of a source kept as its fallbacks before a restart (best first, with their
   * history): they go back behind the source's newest content when it first arrives, so a node
   * restarted on a bad newest config still falls back to the one that worked.
   */
  public void restoreFallbacks(List<Entry> fallbacks) {
    restoredFallbacks.addAll(fallbacks);
  }

  /**
   * The configs nim's sources give now, one per source key (controller, manual, override file,
   * last resort). Where each goes in the list is decided when it arrives ({@link PortConfigList});
   * a source whose content changed arrives again and its older content stays behind it as a
   * fallback until the new one works. A config that arrives ahead of the one in use (or the one
   * in use is gone) restarts verification from the top; otherwise the one in use stays.
   */
  public void setConfigs(List<PortConfig> sources) {
    Optional<PortConfig> inUse = currentConfig();
    java.util.Set<String> keys = new java.util.HashSet<>();
    sources.forEach(s -> keys.add(s.key()));
    list.removeIf(e -> !keys.contains(e.config().key()));
    retired.removeIf(id -> sources.stream().noneMatch(s -> identity(s).equals(id)));
    List<PortConfig> arrivals = new ArrayList<>();
    for (PortConfig source : restoredFirst(sources)) {
      if (retired.contains(identity(source))) {
        continue;
      }
      int newest = newestOf(source.key());
      if (newest >= 0 && list.get(newest).config().sameContent(source)) {
        Entry e = list.get(newest);
        list.set(newest, new Entry(source, e.lastFailedMs(), e.lastSucceededMs(), e.lastError()));
        continue;
      }
      Entry arriving = new Entry(source, 0, 0, "");
      int older = indexOf(source);
      History history = restored.remove(source.key());
      if (older >= 0) {
        Entry e = list.remove(older); // arrives again: keeps its history (EVE's updateDPC)
        arriving = new Entry(source, e.lastFailedMs(), e.lastSucceededMs(), e.lastError());
      } else if (history != null && history.fingerprint().equals(source.fingerprint())) {
        // From before a restart: back at its old rank, not as a new arrival.
        list.add(restoredIndex(source.key()),
            new Entry(source, history.lastFailedMs(), history.lastSucceededMs(), history.lastError()));
        continue;
      }
      list.add(PortConfigList.insertionIndex(list, source), arriving);
      arrivals.add(source);
    }
    putBackRestoredFallbacks();
    if (!arrivals.isEmpty()) {
      betterFailures = 0; // a new config deserves a fresh try at test-better time
      testingBetter = false;
    }
    if (list.isEmpty()) {
      if (current != -1 || !controllerPort.isEmpty()) {
        cancelTimers();
        generation++;
        current = -1;
        phase = Phase.IDLE;
        setControllerPort("", "no port config");
        changed.run();
      }
      return;
    }
    int inUseIndex = inUse.map(this::indexOf).orElse(-1);
    boolean arrivedAhead = inUseIndex >= 0 && arrivals.stream().anyMatch(a -> indexOf(a) < inUseIndex);
    if (inUse.isEmpty()) {
      int first = firstTestable();
      startVerify(first, "port config " + list.get(first).config().key()
          + (first == 0 ? " arrived" : " is the first not cooling down after a failure before the restart"));
    } else if (inUseIndex < 0) {
      current = -1;
      startVerify(0, "port config " + inUse.get().key() + " changed or was removed");
    } else if (arrivedAhead) {
      current = inUseIndex;
      startVerify(0, "port config " + list.get(0).config().key() + " arrived and ranks before " + inUse.get().key());
    } else {
      current = inUseIndex;
    }
  }

  private void putBackRestoredFallbacks() {
    for (Entry fallback : restoredFallbacks) {
      String key = fallback.config().key();
      int last = -1;
      for (int i = 0; i < list.size(); i++) {
        if (list.get(i).config().key().equals(key)) {
          last = i;
        }
      }
      if (last >= 0 && indexOf(fallback.config()) < 0) {
        list.add(last + 1, fallback);
        log.info("nim: port config {} of before the restart is back as the fallback of the newest", key);
      }
    }
    restoredFallbacks.clear();
  }

  /** Same source and same content: the same config, whatever its time priority. */
  private static String identity(PortConfig config) {
    return config.key() + "/" + config.fingerprint();
  }

  private int indexOf(PortConfig config) {
    for (int i = 0; i < list.size(); i++) {
      if (list.get(i).config().key().equals(config.key()) && list.get(i).config().sameContent(config)) {
        return i;
      }
    }
    return -1;
  }

  private int newestOf(String key) {
    for (int i = 0; i < list.size(); i++) {
      if (list.get(i).config().key().equals(key)) {
        return i;
      }
    }
    return -1;
  }

  /** Before the first entry that ranked after {@code key} before the restart (or was not there). */
  private int restoredIndex(String key) {
    int rank = restoredRank.getOrDefault(key, Integer.MAX_VALUE);
    for (int i = 0; i < list.size(); i++) {
      if (restoredRank.getOrDefault(list.get(i).config().key(), Integer.MAX_VALUE) > rank) {
        return i;
      }
    }
    return list.size();
  }

  /** Sources with a history from before a restart first, in their old order; the rest as given. */
  private List<PortConfig> restoredFirst(List<PortConfig> sources) {
    if (restored.isEmpty()) {
      return sources;
    }
    List<PortConfig> sorted = new ArrayList<>(sources);
    sorted.sort(java.util.Comparator.comparingInt(s -> {
      History h = restored.get(s.key());
      return h != null && h.fingerprint().equals(s.fingerprint()) ? restoredRank.get(s.key()) : Integer.MAX_VALUE;
    }));
    return sorted;
  }

  /** After each reconcile: the config's ports may be ready now. */
  public void reconciled() {
    if (phase == Phase.VERIFYING && !testInFlight) {
      runTest();
    }
  }

  /**
   * A link or address of a port changed (kernel event, lease). Losing the controller port moves
   * controller traffic to the next ready port at once; a better port that came back is tried after
   * the hold-down.
   */
  public void portChanged(String ifName) {
    Optional<PortConfig> config = currentConfig();
    if (config.isEmpty()) {
      return;
    }
    if (phase == Phase.VERIFYING) {
      if (!testInFlight) {
        runTest();
      }
      return;
    }
    if (phase != Phase.WORKING) {
      return;
    }
    Optional<Port> inUse = config.get().port(controllerPort);
    if (inUse.isPresent() && inUse.get().ifName().equals(ifName)) {
      Optional<String> why = ports.notReady(inUse.get());
      if (why.isPresent()) {
        failOver(config.get(), inUse.get(), why.get());
      }
      return;
    }
    Optional<Port> changedPort = config.get().managementPorts().stream().filter(p -> p.ifName().equals(ifName)).findFirst();
    if (changedPort.isPresent() && ranksBefore(config.get(), changedPort.get(), controllerPort)
        && ports.notReady(changedPort.get()).isEmpty()) {
      scheduleTestBetterPorts(timers.holdDown());
    }
  }

  // ---------------------------------------------------------------- verification

  private void startVerify(int index, String why) {
    cancelTimers();
    generation++;
    testInFlight = false;
    boolean configChanged = index != current;
    current = index;
    phase = Phase.VERIFYING;
    verifyStartedNanos = loop.nanoTime();
    reason = "verifying " + list.get(index).config().key() + ": " + why;
    log.info("nim: {}", reason);
    changed.run();
    // The test runs after the reconcile that applies the config (reconciled()), or now if the
    // config is already in place.
    if (!configChanged) {
      runTest();
    }
  }

  private void runTest() {
    if (phase != Phase.VERIFYING || current < 0) {
      return;
    }
    testInFlight = true;
    // Cost order, but a port whose last test failed goes last: a port that just proved dead is
    // not waited on (its timeout) before the others are tried (EVE drops such ports likewise).
    List<Port> candidates = list.get(current).config().managementPorts().stream()
        .sorted(java.util.Comparator.comparing((Port p) -> {
          PortResult r = portResult(p.label());
          return r.lastFailedMs() > r.lastSucceededMs();
        }))
        .toList();
    testPorts(candidates, 0, generation, new ArrayList<>(), false);
  }

  private void testPorts(List<Port> candidates, int i, int gen, List<String> errors, boolean anyNotReady) {
    if (gen != generation) {
      return;
    }
    if (i == candidates.size()) {
      testInFlight = false;
      allFailed(errors, anyNotReady);
      return;
    }
    Port port = candidates.get(i);
    Optional<String> notReady = ports.notReady(port);
    Optional<InetAddress> source = ports.source(port);
    if (notReady.isPresent() || source.isEmpty()) {
      String error = notReady.orElse("no address");
      recordPort(port, false, error, Duration.ZERO);
      errors.add(port.label() + ": " + error);
      testPorts(candidates, i + 1, gen, errors, true);
      return;
    }
    probe.probe(ControllerProbe.Request.verification(port, source.get(), timers.probeTimeout()),
        result -> loop.execute(() -> {
          if (gen != generation) {
            return;
          }
          recordPort(port, result.ok(), result.error(), result.roundTrip());
          if (result.ok()) {
            testInFlight = false;
            succeeded(port);
          } else {
            errors.add(port.label() + ": " + result.error());
            testPorts(candidates, i + 1, gen, errors, anyNotReady);
          }
        }));
  }

  private void succeeded(Port port) {
    Entry entry = list.get(current);
    list.set(current, new Entry(entry.config(), entry.lastFailedMs(), nowMs(), ""));
    phase = Phase.WORKING;
    liveFailures = 0;
    if (current == 0) {
      betterFailures = 0;
    }
    testingBetter = false;
    reason = entry.config().key() + " works: controller reached over " + port.label();
    setControllerPort(port.label(), reason);
    compress();
    changed.run();
    armProbes();
    if (current > 0 && !timers.testBetterInterval().isZero()) {
      Duration wait = testBetterWait();
      reason += "; " + list.get(0).config().key() + " is tried again in " + wait.toSeconds() + " s";
      betterTimer = loop.schedule(wait, () -> {
        if (phase == Phase.WORKING && current > 0) {
          testingBetter = true;
          startVerify(0, "testing whether a better config works again");
        }
      });
    }
  }

  /** The most test-better waits for a better config that keeps failing: 8 × the interval. */
  static final int MAX_BETTER_BACKOFF = 8;

  /**
   * How long a worse config runs before the better one is tried again: the test-better interval,
   * doubled for each attempt in a row that failed, at most {@link #MAX_BETTER_BACKOFF} times it
   * (a better config that is broken for good costs a short outage ever more rarely, never never).
   */
  Duration testBetterWait() {
    long factor = Math.min(MAX_BETTER_BACKOFF, 1L << Math.min(betterFailures, 30));
    return timers.testBetterInterval().multipliedBy(factor);
  }

  /** EVE's list compression, once a config works: see {@link PortConfigList#keepAfterSuccess}. */
  private void compress() {
    List<Integer> keep = PortConfigList.keepAfterSuccess(list, current);
    if (keep.size() == list.size()) {
      return;
    }
    List<Entry> kept = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      if (keep.contains(i)) {
        kept.add(list.get(i));
      } else {
        log.info("nim: dropping port config {} (priority {}) from the list: {}", list.get(i).config().key(),
            list.get(i).config().timePriorityMs(), list.get(i).workedBefore() ? "a newer config works" : "it never worked");
        if (newestOf(list.get(i).config().key()) == i) {
          retired.add(identity(list.get(i).config())); // its source still offers it: not to come back as new
        }
      }
    }
    Entry inUse = list.get(current);
    list.clear();
    list.addAll(kept);
    current = list.indexOf(inUse);
  }

  private void allFailed(List<String> errors, boolean anyNotReady) {
    Duration elapsed = Duration.ofNanos(loop.nanoTime() - verifyStartedNanos);
    Entry entry = list.get(current);
    if (anyNotReady && elapsed.compareTo(timers.addressWait()) < 0) {
      reason = "verifying " + entry.config().key() + ": waiting for ports " + errors;
      retryTimer = loop.schedule(WAIT_RETRY, this::runTest);
      return;
    }
    String error = errors.isEmpty() ? "the config has no management port"
        : "no management port reaches the controller: " + String.join("; ", errors);
    list.set(current, new Entry(entry.config(), nowMs(), entry.lastSucceededMs(), error));
    log.warn("nim: port config {} failed: {}", entry.config().key(), error);
    if (testingBetter && current == 0) {
      betterFailures++;
    }
    testingBetter = false;
    Optional<Integer> next = nextTestable();
    if (next.isPresent()) {
      failovers++;
      startVerify(next.get(), entry.config().key() + " failed (" + error + ")");
      return;
    }
    park(error);
  }

  /**
   * Nothing left to try: stay on a console operator's config if there is one (EVE), else on the
   * config that last worked (else the first); retry later.
   */
  private void park(String error) {
    int parkAt = 0;
    long best = 0;
    for (int i = 0; i < list.size(); i++) {
      if (list.get(i).lastSucceededMs() > best) {
        best = list.get(i).lastSucceededMs();
        parkAt = i;
      }
    }
    int manual = PortConfigList.searchLimit(list);
    if (list.get(manual).config().key().equals(PortConfig.MANUAL)) {
      parkAt = manual;
    }
    boolean move = parkAt != current;
    current = parkAt;
    phase = Phase.PARKED;
    reason = "every port config failed; parked on " + list.get(parkAt).config().key() + " (" + error + ")";
    setControllerPort("", reason);
    changed.run();
    retryTimer = loop.schedule(timers.probeInterval(), () -> startVerify(0, "retrying after every config failed"));
    if (move) {
      log.info("nim: {}", reason);
    }
  }

  private Optional<Integer> nextTestable() {
    int limit = PortConfigList.searchLimit(list);
    for (int k = 1; k < list.size(); k++) {
      int index = (current + k) % list.size();
      if (index <= limit && testable(list.get(index))) {
        return Optional.of(index);
      }
    }
    return Optional.empty();
  }

  /** Where the first verification starts: the best config that is not cooling down, else the best. */
  private int firstTestable() {
    for (int index = 0; index <= PortConfigList.searchLimit(list); index++) {
      if (testable(list.get(index))) {
        return index;
      }
    }
    return 0;
  }

  /** Worth a test: never failed, worked before, or failed longer than the cooldown ago (or in the future: the clock stepped). */
  private boolean testable(Entry e) {
    long now = nowMs();
    boolean cooled = e.lastFailedMs() == 0 || e.workedBefore() || now - e.lastFailedMs() >= timers.cooldown().toMillis()
        || e.lastFailedMs() > now;
    return cooled && !e.config().managementPorts().isEmpty();
  }

  // ---------------------------------------------------------------- while a config works

  private void armProbes() {
    if (probeTimer != null) {
      probeTimer.cancel(false);
    }
    probeTimer = loop.every(timers.probeInterval(), () -> {
      probeControllerPort();
      probeStandbyPorts();
    });
  }

  /**
   * The management ports not in use are probed too (not only checked for carrier and address), so
   * a failover picks a backup known to reach the controller; metered ones much more rarely.
   */
  private void probeStandbyPorts() {
    Optional<PortConfig> config = currentConfig();
    if (phase != Phase.WORKING || config.isEmpty()) {
      return;
    }
    int gen = generation;
    for (Port port : config.get().managementPorts()) {
      if (port.label().equals(controllerPort) || standbyInFlight.contains(port.label())
          || ports.notReady(port).isPresent() || ports.source(port).isEmpty()) {
        continue;
      }
      PortResult last = portResult(port.label());
      long lastProbed = Math.max(last.lastFailedMs(), last.lastSucceededMs());
      if (nowMs() - lastProbed < timers.standbyInterval(port).toMillis()) {
        continue;
      }
      standbyInFlight.add(port.label());
      probe.probe(ControllerProbe.Request.of(port, ports.source(port).get(), timers.probeTimeout()),
          result -> loop.execute(() -> {
            standbyInFlight.remove(port.label());
            if (gen == generation) {
              recordPort(port, result.ok(), result.error(), result.roundTrip());
            }
          }));
    }
  }

  private void probeControllerPort() {
    Optional<PortConfig> config = currentConfig();
    if (phase != Phase.WORKING || config.isEmpty()) {
      return;
    }
    Optional<Port> port = config.get().port(controllerPort);
    if (port.isEmpty()) {
      startVerify(current, "controller port " + controllerPort + " left the config");
      return;
    }
    Optional<String> notReady = ports.notReady(port.get());
    if (notReady.isPresent()) {
      failOver(config.get(), port.get(), notReady.get());
      return;
    }
    if (liveProbeInFlight) {
      return; // a slow probe (up to its timeout) is not stacked with more: the prober would queue them
    }
    liveProbeInFlight = true;
    int gen = generation;
    probe.probe(ControllerProbe.Request.of(port.get(), ports.source(port.get()).orElseThrow(), timers.probeTimeout()),
        result -> loop.execute(() -> {
          liveProbeInFlight = false;
          if (gen != generation || !controllerPort.equals(port.get().label())) {
            return;
          }
          recordPort(port.get(), result.ok(), result.error(), result.roundTrip());
          if (result.ok()) {
            liveFailures = 0;
            return;
          }
          liveFailures++;
          // EVE's rule: one miss may be a blip; the second in a row re-verifies (all ports, cost order).
          if (liveFailures >= 2) {
            failovers++;
            startVerify(current, "controller port " + port.get().label() + " failed twice: " + result.error());
          } else {
            probeControllerPort(); // the second chance at once, not a probe interval later
          }
        }));
    if (ranksBetterPortExists(config.get()) && betterProbesInFlight == 0) {
      testBetterPorts();
    }
  }

  /** The controller port lost its carrier or address: the next ready port takes over now, then is tested. */
  private void failOver(PortConfig config, Port lost, String why) {
    failovers++;
    Optional<Port> next = config.managementPorts().stream()
        .filter(p -> !p.label().equals(lost.label()))
        .filter(p -> ports.notReady(p).isEmpty() && ports.source(p).isPresent())
        // A backup whose last standby probe failed goes last: the switch should land where it works.
        .sorted(java.util.Comparator.comparing((Port p) -> {
          PortResult r = portResult(p.label());
          return r.lastFailedMs() > r.lastSucceededMs();
        }))
        .findFirst();
    recordPort(lost, false, why, Duration.ZERO);
    if (next.isEmpty()) {
      startVerify(current, "controller port " + lost.label() + " lost (" + why + ") and no other port is ready");
      return;
    }
    reason = "controller port " + lost.label() + " lost (" + why + "): switched to " + next.get().label();
    log.info("nim: {}", reason);
    setControllerPort(next.get().label(), reason);
    changed.run();
    liveFailures = 0;
    // Confirm at once that the new port reaches the controller; two misses re-verify as usual.
    probeControllerPort();
  }

  private boolean ranksBetterPortExists(PortConfig config) {
    return config.managementPorts().stream().anyMatch(p -> ranksBefore(config, p, controllerPort));
  }

  private static boolean ranksBefore(PortConfig config, Port port, String than) {
    List<Port> order = config.managementPorts();
    int a = order.indexOf(port);
    int b = -1;
    for (int i = 0; i < order.size(); i++) {
      if (order.get(i).label().equals(than)) {
        b = i;
      }
    }
    return a >= 0 && b >= 0 && a < b;
  }

  private void scheduleTestBetterPorts(Duration delay) {
    if (betterTimer != null && !betterTimer.isDone()) {
      betterTimer.cancel(false);
    }
    betterTimer = loop.schedule(delay, this::testBetterPorts);
  }

  /** Probes the ports that rank before the controller port; the best one that works takes over. */
  private void testBetterPorts() {
    Optional<PortConfig> config = currentConfig();
    if (phase != Phase.WORKING || config.isEmpty()) {
      return;
    }
    int gen = generation;
    String from = controllerPort;
    for (Port port : config.get().managementPorts()) {
      if (!ranksBefore(config.get(), port, from)) {
        break;
      }
      if (ports.notReady(port).isPresent() || ports.source(port).isEmpty()) {
        continue;
      }
      // Anti-flap: a port that failed within the hold-down is not taken back yet.
      if (nowMs() - portResult(port.label()).lastFailedMs() < timers.holdDown().toMillis()) {
        continue;
      }
      betterProbesInFlight++;
      probe.probe(ControllerProbe.Request.of(port, ports.source(port).get(), timers.probeTimeout()),
          result -> loop.execute(() -> {
            betterProbesInFlight--;
            if (gen != generation || phase != Phase.WORKING) {
              return;
            }
            recordPort(port, result.ok(), result.error(), result.roundTrip());
            if (result.ok() && ranksBefore(config.get(), port, controllerPort)) {
              reason = "back to " + port.label() + ": it reaches the controller again";
              log.info("nim: {}", reason);
              setControllerPort(port.label(), reason);
              liveFailures = 0;
              changed.run();
            }
          }));
    }
  }

  // ---------------------------------------------------------------- helpers

  private void setControllerPort(String label, String why) {
    if (!label.equals(controllerPort)) {
      controllerPort = label;
      controllerPortChanges++;
      log.info("nim: controller port is now '{}': {}", label, why);
    }
  }

  private void recordPort(Port port, boolean ok, String error, Duration roundTrip) {
    PortResult before = portResult(port.label());
    portResults.put(port.label(), ok
        ? new PortResult(before.lastFailedMs(), nowMs(), before.lastError(), roundTrip)
        : new PortResult(nowMs(), before.lastSucceededMs(), error, before.roundTrip()));
  }

  private long nowMs() {
    return loop.now().toEpochMilli();
  }

  private void cancelTimers() {
    for (Future<?> timer : new Future<?>[] {retryTimer, probeTimer, betterTimer}) {
      if (timer != null) {
        timer.cancel(false);
      }
    }
    retryTimer = null;
    probeTimer = null;
    betterTimer = null;
  }

  /** Stops every timer (the agent stops). */
  public void close() {
    cancelTimers();
    generation++;
  }
}
