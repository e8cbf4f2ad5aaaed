package dev.verge.agent;

import com.google.protobuf.Message;
import dev.verge.agent.internal.InputSubscription;
import dev.verge.agent.internal.KernelEventQueue;
import dev.verge.agent.internal.LeftoverReplacingConfigurator;
import dev.verge.agent.internal.LiveKernelView;
import dev.verge.agent.internal.RetryBook;
import dev.verge.agent.internal.RuntimeCounters;
import dev.verge.hostos.Host;
import dev.verge.hostos.Link;
import dev.verge.hostos.NetEvent;
import dev.verge.hostos.NetEvents;
import dev.verge.pubsub.AgentLoop;
import dev.verge.pubsub.Durability;
import dev.verge.pubsub.LoopFailures;
import dev.verge.pubsub.PubSub;
import dev.verge.pubsub.Publication;
import dev.verge.pubsub.Subscription;
import dev.verge.pubsub.SubscriptionHandler;
import dev.verge.pubsub.Topic;
import dev.verge.reconciler.Configurator;
import dev.verge.reconciler.DotExporter;
import dev.verge.reconciler.Graph;
import dev.verge.reconciler.GraphR;
import dev.verge.reconciler.Graphs;
import dev.verge.reconciler.Item;
import dev.verge.reconciler.ItemEntry;
import dev.verge.reconciler.ItemRef;
import dev.verge.reconciler.ItemState;
import dev.verge.reconciler.ItemStateData;
import dev.verge.reconciler.Operation;
import dev.verge.reconciler.Reconciler;
import dev.verge.reconciler.ReconcilerOptions;
import dev.verge.reconciler.Status;
import dev.verge.topics.AgentTopics;
import dev.verge.topics.v1.AgentGraphs;
import dev.verge.topics.v1.AgentHealth;
import dev.verge.topics.v1.AgentMetrics;
import dev.verge.topics.v1.FailedItem;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Future;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one {@link Agent} on its loop (the role java-operator-sdk's {@code Operator} plays for its
 * reconcilers). Everything here is confined to the loop; the only entry points from other threads
 * are kernel events and finished background operations, which hand over to the loop.
 *
 * <p>What it does for the agent: gates the first reconcile on every input's initial state;
 * coalesces bursts of input changes and kernel events into one reconcile after a short debounce;
 * rejects an intent that has a cycle or an item type without a configurator and keeps the last
 * good one; syncs the agent's external items into the current state; looks kernel-backed items up
 * again when the kernel reports a change on their links, so what vanished behind the agent's back
 * is recreated; retries failed items with exponential back-off; resumes background operations on
 * the loop; and publishes the agent's health, metrics and graphs.
 */
public final class AgentRuntime implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AgentRuntime.class);

  private final Agent agent;
  private final String name;
  private final PubSub bus;
  private final Host host;
  private final AgentLoop loop;
  private final RuntimeSettings settings;
  private final Reconciler reconciler;
  private final Map<String, Configurator> configurators = new HashMap<>();
  /** The links of this agent's naming scheme ({@link AgentContext#ownLinks}). */
  private final List<Predicate<Link>> ownedLinks = new java.util.concurrent.CopyOnWriteArrayList<>();
  private final List<InputSubscription<?>> inputs = new ArrayList<>();
  private final List<Publication<?>> outputs = new ArrayList<>();
  private final List<Subscription<?>> watches = new ArrayList<>();
  private final List<Predicate<Link>> linkWatchers = new ArrayList<>();
  private final KernelView kernel;
  private final KernelEventQueue kernelEvents;
  private final RetryBook retries;
  private final RuntimeCounters counters = new RuntimeCounters();
  private final Context context = new Context();
  private final java.util.concurrent.CountDownLatch startedLatch = new java.util.concurrent.CountDownLatch(1);

  // Loop-confined state.
  private Graph current;
  private GraphR lastGoodIntent;
  private final Map<ItemRef, Item> externals = new HashMap<>();
  /** Link name → kernel-backed items of the current state that sit on it. */
  private Map<String, Set<ItemRef>> itemsByLink = new HashMap<>();
  private boolean started;
  private boolean firstReconcileDone;
  /** Whether the links an earlier run left were removed (or kept as the intent's). */
  private boolean leftoversSettled;
  private long startedNanos;
  private Future<?> leftoverWaitOver;
  private boolean closed;
  private Future<?> scheduledReconcile;
  private final Set<String> pendingReasons = new TreeSet<>();
  /** When the first pending reason arose (System.nanoTime, for latency figures); 0: none pending. */
  private long firstRequestNanos;
  private String intentError = "";
  private long lastReconcileMs;
  private long startedMs;
  private boolean graphsDirty;
  private ReconcileOutcome lastOutcome;

  private Publication<AgentHealth> health;
  private Publication<AgentMetrics> metrics;
  private Publication<AgentGraphs> graphs;
  private NetEvents.Subscription netEvents;

  private AgentRuntime(Agent agent, PubSub bus, Host host, AgentLoop loop, RuntimeSettings settings) {
    this.agent = agent;
    this.name = agent.name();
    this.bus = bus;
    this.host = host;
    this.loop = loop;
    this.settings = settings;
    this.reconciler =
        Reconciler.create(
            item -> configurators.get(item.type()),
            ReconcilerOptions.DEFAULT.withResumeListener(
                graph -> loop.execute(() -> requestReconcile("background operation finished"))));
    this.kernel = host == null ? null : new LiveKernelView(host.network());
    this.kernelEvents = new KernelEventQueue(loop, this::onKernelEvents);
    this.retries = new RetryBook(loop, settings, this::retryDue);
    this.current = Graphs.newGraph(name, "current state of " + name);
  }

  /**
   * Starts the agent on its loop: the runtime's publications, then {@link Agent#start}, then the
   * kernel events; the first reconcile follows once every input is synchronized.
   */
  public static AgentRuntime start(
      Agent agent, PubSub bus, Host host, AgentLoop loop, RuntimeSettings settings) {
    java.util.Objects.requireNonNull(host, "host");
    AgentRuntime runtime = new AgentRuntime(agent, bus, host, loop, settings);
    loop.execute(runtime::startOnLoop);
    return runtime;
  }

  /** Starts an agent that does not act on the kernel (no host, no kernel events). */
  public static AgentRuntime startWithoutHost(
      Agent agent, PubSub bus, AgentLoop loop, RuntimeSettings settings) {
    AgentRuntime runtime = new AgentRuntime(agent, bus, null, loop, settings);
    loop.execute(runtime::startOnLoop);
    return runtime;
  }

  public String name() {
    return name;
  }

  public AgentLoop loop() {
    return loop;
  }

  /** The current state graph. Read it on the loop (or, in a test, between loop runs). */
  public GraphR currentState() {
    return current;
  }

  /** The outcome of the last reconcile, if one ran. Read on the loop. */
  public Optional<ReconcileOutcome> lastOutcome() {
    return Optional.ofNullable(lastOutcome);
  }

  /** How many reconciles ran. Safe from any thread. */
  public long reconcileRuns() {
    return counters.reconcileRuns();
  }

  // ---------------------------------------------------------------- start and stop

  private void startOnLoop() {
    // Every line logged on this agent's loop carries its name (the JSON log's "agent" field).
    org.slf4j.MDC.put("agent", name);
    startedMs = loop.now().toEpochMilli();
    startedNanos = loop.nanoTime();
    health = bus.publish(AgentTopics.health(name), Durability.VOLATILE, loop);
    metrics = bus.publish(AgentTopics.metrics(name), Durability.VOLATILE, loop);
    graphs = bus.publish(AgentTopics.graphs(name), Durability.VOLATILE, loop);
    try {
      agent.start(context);
    } catch (RuntimeException e) {
      counters.handlerError();
      intentError = "agent failed to start: " + e;
      LoopFailures.report(log, "agent " + name + ": start", e);
    }
    started = true;
    if (host != null) {
      netEvents = host.network().subscribe(kernelEvents::offer);
    }
    loop.every(settings.graphInterval(), this::publishGraphsIfChanged);
    log.info("agent {} started on {} with {} inputs ({} ms after the process started)", name,
        host == null ? "no host" : host.description(), inputs.size(), StartClock.sinceProcessStart());
    publishHealth();
    startedLatch.countDown();
    if (allInputsSynchronized()) {
      requestReconcile("start");
    }
  }

  /** Waits until {@link Agent#start} has run (or failed). @return false on timeout */
  public boolean awaitStarted(java.time.Duration timeout) throws InterruptedException {
    return startedLatch.await(timeout.toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS);
  }

  /** Stops the agent: no reconcile after this; the agent's publications are released. */
  @Override
  public void close() {
    Runnable stop =
        () -> {
          if (closed) {
            return;
          }
          closed = true;
          if (scheduledReconcile != null) {
            scheduledReconcile.cancel(false);
          }
          if (leftoverWaitOver != null) {
            leftoverWaitOver.cancel(false);
          }
          retries.cancelAll();
          if (netEvents != null) {
            netEvents.close();
          }
          try {
            agent.stop();
          } catch (RuntimeException e) {
            LoopFailures.report(log, "agent " + name + ": stop", e);
          }
          inputs.forEach(InputSubscription::close);
          watches.forEach(Subscription::close);
          outputs.forEach(Publication::close);
          for (Publication<?> own : List.of(health, metrics, graphs)) {
            if (own != null) {
              own.close();
            }
          }
        };
    if (loop.inLoop()) {
      stop.run();
    } else {
      loop.execute(stop);
    }
  }

  // ---------------------------------------------------------------- reconcile

  /** Asks for a reconcile after the debounce; the reasons of a burst are logged together. */
  void requestReconcile(String reason) {
    requestReconcile(reason, System.nanoTime());
  }

  private void requestReconcile(String reason, long arisenNanos) {
    if (closed) {
      return;
    }
    if (pendingReasons.isEmpty() || arisenNanos - firstRequestNanos < 0) {
      firstRequestNanos = arisenNanos;
    }
    pendingReasons.add(reason);
    if (!started || !allInputsSynchronized() || scheduledReconcile != null) {
      return;
    }
    scheduledReconcile = loop.schedule(settings.debounce(), this::reconcileNow);
  }

  private void reconcileNow() {
    scheduledReconcile = null;
    if (closed) {
      return;
    }
    String reason = String.join(", ", pendingReasons);
    pendingReasons.clear();
    long requestedNanos = firstRequestNanos;
    long wallStart = System.nanoTime();
    long startNanos = loop.nanoTime();
    syncExternals();
    Optional<String> rejected = Optional.empty();
    GraphR intent = buildIntent();
    if (intent == null) {
      rejected = Optional.of(intentError);
      intent = lastGoodIntent;
    }
    if (intent == null) {
      log.warn("agent {}: no intent yet ({}): nothing to reconcile", name, intentError);
      publishHealth();
      return;
    }
    if (!leftoversSettled) {
      settleLeftoverLinks(intent);
    }
    java.time.Instant reconcileBegan = java.time.Instant.now();
    Status status = reconciler.reconcile(current, intent);
    if (status.newCurrentState() != null) {
      current = status.newCurrentState();
    } else {
      current = Graphs.newGraph(name, "current state of " + name);
    }
    if (!firstReconcileDone) {
      log.info("agent {}: first reconcile done {} ms after the process started ({} operations)", name,
          StartClock.sinceProcessStart(), status.operationLog().size());
    }
    firstReconcileDone = true;
    lastReconcileMs = loop.now().toEpochMilli();
    if (!status.operationLog().isEmpty() || itemsByLink.isEmpty()) {
      indexKernelBackedItems();
      graphsDirty = true;
    }
    TreeMap<ItemRef, String> failed = failedItems();
    retries.update(failed.keySet());
    counters.reconciled(status.metrics(), (loop.nanoTime() - startNanos) / 1e6);
    logFailedOperations(status);
    if (!status.operationLog().isEmpty() || !failed.isEmpty()) {
      log.info("agent {}: reconciled ({}): {} operations, {} failed items{}{}", name, reason,
          status.operationLog().size(), failed.size(),
          status.error().map(e -> ": " + e.getMessage()).orElse(""), slowestTypes(status.operationLog(), reconcileBegan));
    }
    lastOutcome =
        new ReconcileOutcome(reason, current, status.operationLog(), failed, rejected, status.metrics(),
            requestedNanos, wallStart, System.nanoTime());
    try {
      agent.reconciled(lastOutcome);
    } catch (RuntimeException e) {
      counters.handlerError();
      LoopFailures.report(log, "agent " + name + ": reconciled callback", e);
    }
    publishHealth();
    publishMetrics(status);
  }

  /**
   * Where a reconcile's time went: the three item types whose operations of this run took longest,
   * in total (operations that finished in the background of an earlier run are not counted).
   */
  private static String slowestTypes(List<dev.verge.reconciler.OpLogEntry> operations, java.time.Instant began) {
    Map<String, Long> micros = new HashMap<>();
    for (dev.verge.reconciler.OpLogEntry entry : operations) {
      if (entry.startTime() != null && entry.endTime() != null && !entry.startTime().isBefore(began)) {
        micros.merge(entry.ref().type(), java.time.Duration.between(entry.startTime(), entry.endTime()).toNanos() / 1000,
            Long::sum);
      }
    }
    return micros.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(3)
        .map(e -> e.getKey() + " " + e.getValue() / 1000 + " ms").reduce((a, b) -> a + ", " + b)
        .map(top -> "; slowest: " + top).orElse("");
  }

  /**
   * Removes what an earlier run left once the intent names all the agent's links, or once the
   * wait for that is over (a reconcile is asked for then).
   */
  private void settleLeftoverLinks(GraphR intent) {
    long waited = loop.nanoTime() - startedNanos;
    boolean complete;
    try {
      complete = agent.intentNamesAllItsLinks();
    } catch (RuntimeException e) {
      counters.handlerError();
      LoopFailures.report(log, "agent " + name + ": intentNamesAllItsLinks", e);
      complete = true;
    }
    if (complete || waited >= settings.leftoverWait().toNanos()) {
      if (!complete) {
        log.info("agent {}: its intent still lacks links after {}: removing what an earlier run left", name,
            settings.leftoverWait());
      }
      removeLeftoverLinks(intent);
      leftoversSettled = true;
      if (leftoverWaitOver != null) {
        leftoverWaitOver.cancel(false);
      }
    } else if (leftoverWaitOver == null) {
      leftoverWaitOver = loop.schedule(settings.leftoverWait().minusNanos(waited),
          () -> requestReconcile("the wait for its intent to name all its links is over"));
    }
  }

  /**
   * Deletes the links of this agent's naming scheme ({@link AgentContext#ownLinks}) that an earlier
   * run left and that no intended item stands on. The ones it does intend stay: their create
   * adopts or replaces them ({@link LeftoverReplacingConfigurator}).
   */
  private void removeLeftoverLinks(GraphR intent) {
    if (ownedLinks.isEmpty() || host == null) {
      return;
    }
    Set<String> intended = new HashSet<>();
    for (ItemEntry entry : intent.items(true)) {
      if (entry.item() instanceof KernelBacked backed) {
        intended.addAll(backed.kernelLinks());
      }
      intended.add(entry.item().name());
    }
    for (Link link : host.network().links()) {
      if (!intended.contains(link.name()) && ownedLinks.stream().anyMatch(owned -> owned.test(link))) {
        try {
          host.network().deleteLink(link.name());
          log.info("agent {}: deleted {}, left by an earlier run and not in its intent", name, link.name());
        } catch (RuntimeException e) {
          log.warn("agent {}: cannot delete leftover link {}: {}", name, link.name(), e.getMessage());
        }
      }
    }
  }

  /** The agent's intent, checked; null when rejected ({@link #intentError} says why). */
  /** One line per failed operation, with the item, operation and error as fields a log collector can query. */
  private void logFailedOperations(Status status) {
    for (dev.verge.reconciler.OpLogEntry entry : status.operationLog()) {
      if (entry.error() != null) {
        log.atWarn()
            .addKeyValue("agent", name)
            .addKeyValue("item", entry.ref().toString())
            .addKeyValue("item_type", entry.ref().type())
            .addKeyValue("operation", entry.operation().name())
            .addKeyValue("error", String.valueOf(entry.error().getMessage()))
            .log("agent {}: {} {} failed: {}", name, entry.operation(), entry.ref(), entry.error().getMessage());
      }
    }
  }

  private GraphR buildIntent() {
    GraphR intent;
    try {
      intent = agent.intendedState();
    } catch (RuntimeException e) {
      return rejectIntent("building the intended state failed: " + e, e);
    }
    if (intent == null || !intent.name().equals(name)) {
      return rejectIntent("the intended state must be a graph named " + name
          + (intent == null ? ", got none" : ", got " + intent.name()), null);
    }
    for (ItemEntry entry : intent.items(true)) {
      Item item = entry.item();
      if (!item.external() && !configurators.containsKey(item.type())) {
        return rejectIntent("unknown item type " + item.type() + " (item " + item.ref()
            + "): no configurator is registered for it", null);
      }
    }
    Optional<List<ItemRef>> cycle = intent.detectCycle();
    if (cycle.isPresent()) {
      return rejectIntent("dependency cycle in the intended state between items " + cycle.get(), null);
    }
    intentError = "";
    lastGoodIntent = intent;
    return intent;
  }

  private GraphR rejectIntent(String error, Throwable cause) {
    counters.intentError();
    boolean changed = !error.equals(intentError);
    intentError = error;
    if (changed) {
      log.error("agent {}: intended state rejected, keeping the last good one: {}", name, error,
          cause);
    }
    return null;
  }

  /** Every item of the current state whose last operation failed. */
  private TreeMap<ItemRef, String> failedItems() {
    TreeMap<ItemRef, String> failed = new TreeMap<>();
    for (ItemEntry entry : current.items(true)) {
      ItemStateData state = entry.state();
      if (state != null && state.state() == ItemState.FAILURE) {
        Throwable error = state.lastError();
        failed.put(entry.item().ref(), error == null ? "failed" : String.valueOf(error.getMessage()));
      }
    }
    return failed;
  }

  /** A failed item's back-off ran out: make the reconciler try it again. */
  private void retryDue(ItemRef ref) {
    Optional<ItemEntry> entry = current.item(ref);
    if (entry.isEmpty() || entry.get().state() == null
        || entry.get().state().state() != ItemState.FAILURE) {
      return;
    }
    ItemStateData state = entry.get().state();
    counters.retry();
    if (state.lastOperation() == Operation.CREATE) {
      current.delItem(ref); // it does not exist: the next run creates it again
    } else {
      // Modify or delete failed and the old value is still there: the next run tries again.
      putInPlace(entry.get(), entry.get().item(), ItemStateData.of(ItemState.CREATED, state.lastOperation()));
    }
    requestReconcile("retry " + ref);
  }

  /** Replaces an item of the current state in the subgraph it lives in (putItem on the root would move it). */
  private void putInPlace(ItemEntry where, Item item, ItemStateData state) {
    Graph graph = current;
    for (String subGraph : where.path().elements()) {
      graph = graph.ensureSubGraph(subGraph, "");
    }
    graph.putItem(item, state);
  }

  // ---------------------------------------------------------------- external items

  /** Puts the agent's external items, as they are now, into the current state. */
  private void syncExternals() {
    Collection<? extends Item> now;
    try {
      now = agent.externalItems();
    } catch (RuntimeException e) {
      counters.handlerError();
      LoopFailures.report(log, "agent " + name + ": external items", e);
      return; // as last seen
    }
    Map<ItemRef, Item> seen = new HashMap<>();
    for (Item item : now) {
      seen.put(item.ref(), item);
      Item before = externals.get(item.ref());
      if (before == null) {
        current.putItem(item, ItemStateData.of(ItemState.CREATED, Operation.CREATE));
      } else if (!before.isEqual(item)) {
        current.putItem(item, new ItemStateData(ItemState.CREATED, Operation.MODIFY, null, true));
      }
    }
    for (ItemRef gone : externals.keySet()) {
      if (!seen.containsKey(gone)) {
        current.delItem(gone);
      }
    }
    externals.clear();
    externals.putAll(seen);
  }

  // ---------------------------------------------------------------- kernel events

  private void indexKernelBackedItems() {
    Map<String, Set<ItemRef>> index = new HashMap<>();
    for (ItemEntry entry : current.items(true)) {
      if (entry.item() instanceof KernelBacked backed && !entry.item().external()) {
        for (String link : backed.kernelLinks()) {
          index.computeIfAbsent(link, l -> new HashSet<>()).add(entry.item().ref());
        }
      }
    }
    itemsByLink = index;
  }

  /** A batch of kernel events, on the loop: look again at what they touched. */
  private void onKernelEvents(List<NetEvent> events, long receivedNanos) {
    if (closed) {
      return;
    }
    counters.kernelEvents(events.size());
    Set<String> touched = new TreeSet<>();
    boolean watched = false;
    Map<Integer, String> linkNames = new HashMap<>(); // filled at the first address or route event
    for (NetEvent event : events) {
      if (event instanceof NetEvent.LinkEvent e) {
        touched.add(e.link().name());
        linkNames.put(e.link().index(), e.link().name());
        watched |= linkWatchers.stream().anyMatch(w -> w.test(e.link()));
      } else if (event instanceof NetEvent.AddressEvent e) {
        touchLinkOf(e.address().linkIndex(), linkNames, touched);
      } else if (event instanceof NetEvent.RouteEvent e) {
        touchLinkOf(e.route().linkIndex(), linkNames, touched);
      } else if (event instanceof NetEvent.Resynced) {
        touched.addAll(itemsByLink.keySet());
        watched |= !linkWatchers.isEmpty();
      }
    }
    List<String> drifted = new ArrayList<>();
    for (String link : touched) {
      for (ItemRef ref : itemsByLink.getOrDefault(link, Set.of())) {
        if (observe(ref)) {
          drifted.add(ref.toString());
        }
      }
    }
    if (!drifted.isEmpty()) {
      requestReconcile("kernel changed " + String.join(", ", drifted), receivedNanos);
    } else if (watched) {
      requestReconcile("watched link changed", receivedNanos);
    }
  }

  /** The link an address or route event names; when it is gone already, every indexed link. */
  private void touchLinkOf(int linkIndex, Map<Integer, String> linkNames, Set<String> touched) {
    if (!linkNames.containsKey(linkIndex)) {
      kernel.links().forEach(l -> linkNames.putIfAbsent(l.index(), l.name()));
      linkNames.putIfAbsent(linkIndex, null); // gone already: dump once per batch, not per event
    }
    String name = linkNames.get(linkIndex);
    if (name != null) {
      touched.add(name);
    } else if (linkIndex != 0) {
      touched.addAll(itemsByLink.keySet());
    }
  }

  /** Looks an item up in the kernel again; true when the current state had to change. */
  private boolean observe(ItemRef ref) {
    Optional<ItemEntry> entry = current.item(ref);
    if (entry.isEmpty()) {
      return false;
    }
    ItemStateData state = entry.get().state();
    if (state != null && (state.inTransition() || !state.isCreated())) {
      return false; // an operation is under way, or it failed and the retry handles it
    }
    Optional<? extends Item> seen;
    try {
      seen = ((KernelBacked) entry.get().item()).observe(kernel);
    } catch (RuntimeException e) {
      counters.handlerError();
      LoopFailures.report(log, "agent " + name + ": observe " + ref, e);
      return false;
    }
    if (seen.isEmpty()) {
      log.warn("agent {}: {} vanished from the kernel behind the agent's back", name, ref);
      current.delItem(ref);
      return true;
    }
    if (!seen.get().isEqual(entry.get().item())) {
      log.warn("agent {}: {} was changed in the kernel behind the agent's back", name, ref);
      putInPlace(entry.get(), seen.get(), ItemStateData.of(ItemState.CREATED, Operation.MODIFY));
      return true;
    }
    return false;
  }

  // ---------------------------------------------------------------- inputs

  private boolean allInputsSynchronized() {
    for (InputSubscription<?> input : inputs) {
      if (!input.isSynchronized()) {
        return false;
      }
    }
    return true;
  }

  private void inputChanged(Topic<?> topic) {
    counters.inputChange();
    if (!firstReconcileDone && !allInputsSynchronized()) {
      publishHealth();
    }
    requestReconcile("input " + topic.name());
  }

  // ---------------------------------------------------------------- publications

  private void publishHealth() {
    if (health == null) {
      return;
    }
    AgentHealth.Builder h =
        AgentHealth.newBuilder()
            .setAgent(name)
            .setStartedMs(startedMs)
            .setPid(ProcessHandle.current().pid())
            .setLastReconcileMs(lastReconcileMs)
            .setReconcileRuns(counters.reconcileRuns())
            .setLastError(intentError);
    for (InputSubscription<?> input : inputs) {
      if (!input.isSynchronized()) {
        h.addWaitingFor(input.topic().name());
      }
    }
    TreeMap<ItemRef, String> failed = current == null ? new TreeMap<>() : failedItems();
    failed.forEach(
        (ref, error) -> {
          ItemStateData state = current.item(ref).map(ItemEntry::state).orElse(null);
          h.addFailedItems(
              FailedItem.newBuilder()
                  .setType(ref.type())
                  .setName(ref.name())
                  .setOperation(state == null ? "" : state.lastOperation().name())
                  .setError(error)
                  .setSinceMs(retries.firstFailureMs(ref))
                  .setRetries(retries.attempts(ref)));
        });
    if (h.getWaitingForCount() > 0) {
      h.setState(AgentHealth.State.STATE_WAITING_FOR_INPUTS);
    } else if (!failed.isEmpty() || !intentError.isEmpty()) {
      h.setState(AgentHealth.State.STATE_DEGRADED);
    } else {
      h.setState(AgentHealth.State.STATE_RUNNING);
    }
    health.publish(name, h.build());
  }

  private void publishMetrics(Status status) {
    metrics.publish(
        name,
        counters.toMessage(name, failedItems().size(), status.metrics().asyncOpsInFlight(),
            current.size(true)));
  }

  private void publishGraphsIfChanged() {
    if (closed) {
      return;
    }
    if (lastOutcome != null) {
      // Counters move between reconciles too (kernel events, input changes).
      metrics.publish(name, counters.toMessage(name, lastOutcome.failedItems().size(),
          lastOutcome.metrics().asyncOpsInFlight(), current.size(true)));
    }
    if (!graphsDirty || lastGoodIntent == null) {
      return;
    }
    graphsDirty = false;
    publishGraphs();
  }

  /** Renders and publishes both graphs now (the timer does it when they changed). */
  public void publishGraphs() {
    DotExporter dot = new DotExporter(true);
    graphs.publish(
        name,
        AgentGraphs.newBuilder()
            .setAgent(name)
            .setIntendedDot(lastGoodIntent == null ? "" : dot.export(lastGoodIntent))
            .setCurrentDot(dot.export(current))
            .setAtMs(loop.now().toEpochMilli())
            .build());
  }

  // ---------------------------------------------------------------- the agent's view

  private final class Context implements AgentContext {
    @Override
    public AgentLoop loop() {
      return loop;
    }

    @Override
    public Host host() {
      if (host == null) {
        throw new IllegalStateException("agent " + name + " was started without a host");
      }
      return host;
    }

    @Override
    public KernelView kernel() {
      host();
      return kernel;
    }

    @Override
    public <T extends Message> Subscription<T> watch(Topic<T> topic, SubscriptionHandler<T> handler) {
      Subscription<T> subscription = bus.subscribe(topic, loop, handler);
      watches.add(subscription);
      return subscription;
    }

    @Override
    public <T extends Message> Input<T> input(Topic<T> topic) {
      return input(topic, null);
    }

    @Override
    public <T extends Message> Input<T> input(Topic<T> topic, SubscriptionHandler<T> listener) {
      requireNotStarted("input");
      InputSubscription<T> input =
          new InputSubscription<>(
              bus, loop, topic, listener,
              new InputSubscription.Events() {
                @Override
                public void changed() {
                  inputChanged(topic);
                }

                @Override
                public void synchronizedNow() {
                  log.info("agent {}: input {} synchronized ({} ms after the process started)", name, topic,
                      StartClock.sinceProcessStart());
                  if (allInputsSynchronized()) {
                    requestReconcile("inputs synchronized");
                  } else {
                    publishHealth();
                  }
                }

                @Override
                public void listenerFailed(RuntimeException e) {
                  counters.handlerError();
                  LoopFailures.report(log, "agent " + name + ": input listener of " + topic, e);
                }
              });
      inputs.add(input);
      return input;
    }

    @Override
    public <T extends Message> Publication<T> output(Topic<T> topic, Durability durability) {
      Publication<T> publication = bus.publish(topic, durability, loop);
      outputs.add(publication);
      return publication;
    }

    @Override
    public void configure(String itemType, Configurator configurator) {
      if (configurators.putIfAbsent(itemType, new LeftoverReplacingConfigurator(configurator)) != null) {
        throw new IllegalArgumentException("item type " + itemType + " already has a configurator");
      }
    }

    @Override
    public void requestReconcile(String reason) {
      AgentRuntime.this.requestReconcile(reason);
    }

    @Override
    public void ownLinks(Predicate<Link> owned) {
      ownedLinks.add(owned);
    }

    @Override
    public void watchLinks(Predicate<Link> interesting) {
      linkWatchers.add(interesting);
    }

    private void requireNotStarted(String what) {
      if (started) {
        throw new IllegalStateException("declare every " + what + " in Agent.start");
      }
    }
  }
}
