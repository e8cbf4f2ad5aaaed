package dev.verge.reconciler.internal;

import dev.verge.reconciler.Configurator;
import dev.verge.reconciler.ConfiguratorRegistry;
import dev.verge.reconciler.Dependency;
import dev.verge.reconciler.Edge;
import dev.verge.reconciler.Graph;
import dev.verge.reconciler.GraphR;
import dev.verge.reconciler.Graphs;
import dev.verge.reconciler.Item;
import dev.verge.reconciler.ItemRef;
import dev.verge.reconciler.ItemState;
import dev.verge.reconciler.ItemStateData;
import dev.verge.reconciler.OpContext;
import dev.verge.reconciler.OpLogEntry;
import dev.verge.reconciler.Operation;
import dev.verge.reconciler.ReconcileMetrics;
import dev.verge.reconciler.ReconcileMetrics.OperationKey;
import dev.verge.reconciler.ReconcileMetrics.Result;
import dev.verge.reconciler.ReconcilerOptions;
import dev.verge.reconciler.Status;
import dev.verge.reconciler.SubGraphPath;
import dev.verge.reconciler.internal.GraphStore.Node;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * One reconcile run. Stage 1 walks from the seeds (differences, finished background operations,
 * dependents of external items) and runs Delete and Modify in DFS post-order, so dependents go
 * first. Stage 2 runs Create in DFS pre-order, so dependencies go first, and follows incoming
 * edges to pending items that may now be creatable. Stacks are filled in sorted order, so the
 * same inputs always give the same operation log.
 */
public final class ReconcileRun {
  private static final AtomicLong SEQUENCE = new AtomicLong();

  private record Visit(ItemRef ref, boolean postOrder) {}

  /** An operation decided in pre-order and run in post-order. */
  private record Plan(Operation operation, Item newItem) {}

  private enum AsyncCheck {
    NONE,
    IN_PROGRESS,
    DELETED,
    SKIP
  }

  private enum OpResult {
    DONE,
    FAILED,
    ASYNC
  }

  private final ConfiguratorRegistry registry;
  private final ReconcilerOptions options;
  private final GraphView current;
  private final GraphStore cur;
  private final GraphView intended;
  private final GraphStore want;
  private final ReconcilerState state;
  private final String graphName;
  private final long runStartNanos = System.nanoTime();

  private final ArrayDeque<Visit> stage1 = new ArrayDeque<>();
  private final ArrayDeque<ItemRef> stage2 = new ArrayDeque<>();
  private final Set<ItemRef> failed = new HashSet<>();
  private final Map<ItemRef, Plan> plans = new HashMap<>();
  private final Set<ItemRef> modified = new HashSet<>();
  private final Set<ItemRef> touched = new HashSet<>();
  private final List<OpLogEntry> log = new ArrayList<>();
  private final List<Throwable> errors = new ArrayList<>();
  /** Counted in a hash map (one update per operation), sorted once for the metrics. */
  private final Map<OperationKey, Integer> opCounts = new HashMap<>();
  private final TreeMap<ItemRef, String> failedItems = new TreeMap<>();
  private int visits;

  private ReconcileRun(
      ConfiguratorRegistry registry, ReconcilerOptions options, GraphView current, GraphView intended) {
    this.registry = registry;
    this.options = options;
    this.current = current;
    this.cur = current.store;
    this.intended = intended;
    this.want = intended == null ? null : intended.store;
    if (!(cur.privateData instanceof ReconcilerState)) {
      cur.privateData = new ReconcilerState();
    }
    this.state = (ReconcilerState) cur.privateData;
    this.graphName = current.name();
  }

  public static Status run(
      ConfiguratorRegistry registry, ReconcilerOptions options, Graph current, GraphR intended) {
    long startNanos = System.nanoTime();
    if (current == null && intended == null) {
      return StatusImpl.empty(null, startNanos);
    }
    if (current != null && intended != null && !current.name().equals(intended.name())) {
      var err = new IllegalArgumentException(
          "current/intended graph mismatch: " + current.name() + " vs. " + intended.name());
      return StatusImpl.failed(current, err, startNanos);
    }
    if (current == null) {
      current = Graphs.newGraph(intended.name(), intended.description());
    }
    var run = new ReconcileRun(
        registry, options, GraphView.asView(current), intended == null ? null : GraphView.asView(intended));
    return run.execute(startNanos);
  }

  private Status execute(long startNanos) {
    AsyncOps async = state.asyncOps;
    async.reconcileStarts(options.cancelTimeout(), options.resumeListener());
    syncUpdatedSubgraphs(current, intended);
    Seeds seeds = collectSeeds();
    rejectCycles(seeds);
    for (ItemRef ref : seeds.stage1) {
      stage1.push(new Visit(ref, false));
    }
    stage1Loop();
    if (!asyncInStage1) {
      stage2Loop();
    }
    resetExternallyModified();
    rememberWhereWeLeftOff(seeds);
    Graph newCurrent = syncDeletedSubgraphs(current, intended) ? null : current;

    log.sort(Comparator.comparingLong(OpLogEntry::sequence));
    for (OpLogEntry entry : log) {
      if (entry.error() != null) {
        errors.add(entry.error());
      }
    }
    int inFlight = async.size();
    var metrics = new ReconcileMetrics(
        Duration.ofNanos(System.nanoTime() - startNanos),
        sortedOpCounts(),
        failedItems,
        inFlight,
        cur.nodes.size(),
        seeds.stage1.size(),
        visits,
        seeds.full);
    return new StatusImpl(newCurrent, List.copyOf(log), errors, inFlight > 0 ? async : null, metrics);
  }

  private Map<OperationKey, Integer> sortedOpCounts() {
    var sorted = new TreeMap<OperationKey, Integer>(
        Comparator.comparing(OperationKey::itemType)
            .thenComparing(OperationKey::operation)
            .thenComparing(OperationKey::result));
    sorted.putAll(opCounts);
    return sorted;
  }

  // ---------------------------------------------------------------- seeds

  /** {@code diff} and {@code cycleRoots} are sorted and free of duplicates. */
  private record Seeds(List<ItemRef> stage1, List<ItemRef> diff, List<ItemRef> cycleRoots, boolean full) {}

  private boolean rootMode() {
    return current.isRoot() && intended != null && intended.isRoot();
  }

  private Seeds collectSeeds() {
    var marker = state.marker;
    TreeSet<ItemRef> candidates = null;
    List<ItemRef> changedIntent = null;
    if (rootMode() && marker != null && marker.intendedStoreId() == want.id) {
      changedIntent = want.changesSince(marker.intendedPosition());
      List<ItemRef> changedCurrent = cur.changesSince(marker.currentPosition());
      if (changedIntent != null && changedCurrent != null) {
        candidates = new TreeSet<>(marker.residual());
        candidates.addAll(changedIntent);
        candidates.addAll(changedCurrent);
      }
    }
    boolean full = candidates == null;
    List<ItemRef> diff;
    if (full) {
      diff = current.diffItems(intended);
    } else {
      diff = new ArrayList<>();
      for (ItemRef ref : candidates) {
        if (GraphView.differs(current, intended, ref)) {
          diff.add(ref);
        }
      }
    }
    var order = new ArrayList<>(diff);
    for (ItemRef ref : state.asyncOps.finishedItems(System.nanoTime())) {
      if (cur.node(ref) != null) {
        order.add(ref);
      }
    }
    order.addAll(externalDependents());

    List<ItemRef> cycleRoots = List.of();
    if (want != null) {
      if (full) {
        cycleRoots = diff;
      } else {
        var roots = new TreeSet<>(marker.cyclic());
        for (ItemRef ref : new TreeSet<>(changedIntent)) {
          if (want.edgesChangedSince(ref, marker.intendedPosition())) {
            roots.add(ref);
          }
        }
        cycleRoots = new ArrayList<>(roots);
      }
    }
    return new Seeds(order, diff, cycleRoots, full);
  }

  /**
   * Items that depend on an external item: external items change behind the reconciler's back, so
   * their dependents are re-checked on every run.
   */
  private List<ItemRef> externalDependents() {
    var externals = new TreeSet<>(cur.externals);
    if (want != null) {
      externals.addAll(want.externals);
    }
    var dependents = new ArrayList<ItemRef>();
    for (ItemRef ext : externals) {
      boolean extInView = current.nodeInView(ext) != null;
      for (Edge edge : cur.incoming(ext)) {
        if (extInView || current.nodeInView(edge.from()) != null) {
          dependents.add(edge.from());
        }
      }
    }
    return dependents;
  }

  /** Items on a dependency cycle of the intent are reported and left alone (frozen). */
  private void rejectCycles(Seeds seeds) {
    if (want == null || seeds.cycleRoots.isEmpty()) {
      return;
    }
    for (List<ItemRef> cycle : CycleFinder.cycles(want, seeds.cycleRoots)) {
      var err = new IllegalArgumentException("dependency cycle in the intended state between items " + cycle);
      errors.add(err);
      for (ItemRef ref : cycle) {
        failed.add(ref);
        failedItems.put(ref, err.getMessage());
        cyclic.add(ref);
      }
    }
  }

  private final Set<ItemRef> cyclic = new TreeSet<>();

  private void rememberWhereWeLeftOff(Seeds seeds) {
    if (!rootMode()) {
      // A selective run keeps the old marker: the journals since then cover what it changed.
      return;
    }
    var residual = new HashSet<ItemRef>();
    touched.addAll(seeds.diff);
    for (ItemRef ref : touched) {
      if (GraphView.differs(current, intended, ref)) {
        residual.add(ref);
      }
    }
    state.marker = new ReconcilerState.SyncMarker(
        want.id, want.journalPosition(), cur.journalPosition(), residual, Set.copyOf(cyclic));
  }

  // ---------------------------------------------------------------- stage 1

  private boolean asyncInStage1;
  private boolean dfsRunning;
  private ItemRef dfsOrigin;
  private boolean waitForAsync;

  private void stage1Loop() {
    while (!stage1.isEmpty()) {
      Visit visit = stage1.pop();
      ItemRef ref = visit.ref();
      visits++;
      touched.add(ref);
      Node stored = cur.node(ref);
      if (isExternal(ref, stored) || failed.contains(ref)) {
        continue;
      }
      Node node = current.inView(stored);
      boolean outside = false;
      if (node == null) {
        node = stored;
        if (node == null) {
          stage2.push(ref); // pending: Create runs in stage 2
          continue;
        }
        outside = true; // reached by the DFS: may be deleted or recreated, never updated
      }
      Item newItem = outside ? node.item : null;
      SubGraphPath intendedPath = null;
      Node wanted = intended == null ? null : intended.nodeInView(ref);
      if (wanted != null) {
        if (outside) {
          errors.add(new IllegalStateException("unable to update item " + ref
              + ": item is outside of the subgraph selected for reconciliation"));
          continue;
        }
        newItem = wanted.item;
        intendedPath = current.path().concatenate(wanted.path.trimPrefix(intended.path()));
      }
      boolean explicitDelete = newItem == null;
      if (visit.postOrder()) {
        plans.remove(ref);
      }
      if (dfsRunning) {
        boolean backAtOrigin = ref.equals(dfsOrigin);
        if (backAtOrigin) {
          dfsRunning = false;
        }
        if (waitForAsync) {
          // A dependent waits on a background operation: its dependency must wait too.
          if (backAtOrigin) {
            waitForAsync = false;
          }
          continue;
        }
      }
      AsyncCheck check = checkAsyncOp(ref);
      if (check == AsyncCheck.SKIP || check == AsyncCheck.DELETED) {
        continue;
      }
      if (check == AsyncCheck.IN_PROGRESS) {
        asyncInStage1 = true;
        waitForAsync |= dfsRunning;
        continue;
      }
      node = cur.node(ref);
      Item item = node.item;
      ItemStateData data = stateOf(node);
      if (outside) {
        newItem = item;
      }

      if (explicitDelete || !hasSatisfiedDeps(newItem)) {
        if (!data.isCreated()) {
          cur.delete(ref); // never created (failed): nothing to undo
        } else if (visit.postOrder()) {
          if (wasAutoDeleted(item) || deleteNow(ref, node, data) == OpResult.DONE) {
            cur.delete(ref);
          }
        } else {
          planThenVisitDependents(ref, new Plan(Operation.DELETE, null));
        }
        continue;
      }
      if (needsRecreate(node, newItem, data)) {
        if (!visit.postOrder()) {
          planThenVisitDependents(ref, new Plan(Operation.DELETE, null));
        } else if (deleteNow(ref, node, data) == OpResult.DONE) {
          cur.delete(ref);
          stage2.push(ref); // second half of the recreate
        }
        continue;
      }
      if (outside || putIsBlocked(newItem)) {
        continue;
      }
      if (!data.isCreated()) {
        stage2.push(ref);
        continue;
      }
      if (!item.isEqual(newItem)) {
        if (!visit.postOrder()) {
          planThenVisitDependents(ref, new Plan(Operation.MODIFY, newItem));
          continue;
        }
        OpResult result = runOperation(ref, Operation.MODIFY, item, newItem, data.lastError());
        if (result == OpResult.FAILED) {
          waitForAsync |= dfsRunning;
        } else if (result == OpResult.ASYNC) {
          asyncInStage1 = true;
          waitForAsync |= dfsRunning;
        } else {
          cur.put(newItem, new ItemStateData(ItemState.CREATED, Operation.MODIFY, null, false), intendedPath);
          modified.add(ref);
          stage2.push(ref); // pending dependents may now be creatable
        }
        continue;
      }
      if (!node.path.equals(intendedPath)) {
        cur.put(item, node.state, intendedPath); // moved to another subgraph only
      }
    }
  }

  /** Pre-order: remember the plan, come back in post-order after the dependents it breaks. */
  private void planThenVisitDependents(ItemRef ref, Plan plan) {
    plans.put(ref, plan);
    stage1.push(new Visit(ref, true));
    for (Edge edge : cur.incoming(ref)) {
      Node from = cur.node(edge.from());
      if (from == null) {
        continue;
      }
      ItemStateData data = stateOf(from);
      boolean breaks = data.inTransition()
          || (data.isCreated()
              && (plan.operation() == Operation.DELETE
                  || !edge.dependency().acceptsValue(plan.newItem())
                  || edge.dependency().recreateWhenModified()));
      if (breaks) {
        stage1.push(new Visit(edge.from(), false));
      }
    }
    if (!dfsRunning) {
      dfsRunning = true;
      dfsOrigin = ref;
    }
  }

  /** Runs Delete in post-order; the caller removes the item when it is done. */
  private OpResult deleteNow(ItemRef ref, Node node, ItemStateData data) {
    OpResult result = runOperation(ref, Operation.DELETE, node.item, null, data.lastError());
    if (result == OpResult.ASYNC) {
      asyncInStage1 = true;
    }
    if (result != OpResult.DONE) {
      waitForAsync |= dfsRunning;
    }
    return result;
  }

  // ---------------------------------------------------------------- stage 2

  private void stage2Loop() {
    while (!stage2.isEmpty()) {
      ItemRef ref = stage2.pop();
      visits++;
      touched.add(ref);
      if (want == null) {
        continue;
      }
      // Most pops are items created since they were pushed: look each graph up once only.
      Node node = cur.node(ref);
      Node wanted = want.node(ref);
      if (isExternal(ref, node) || failed.contains(ref)) {
        continue;
      }
      if (wanted == null) {
        continue; // removed in stage 1
      }
      ItemStateData data = node == null ? null : stateOf(node);
      if (data != null && data.inTransition()) {
        continue; // background operations are finished in stage 1
      }
      boolean wasModified = modified.remove(ref);
      if (data != null && data.isCreated()) {
        if (wasModified) {
          pushPendingDependents(ref);
        }
        continue;
      }
      Item item = wanted.item;
      if (!readyToCreate(item)) {
        continue;
      }
      ensureSubGraphs(wanted.path);
      OpResult result = runOperation(ref, Operation.CREATE, null, item, data == null ? null : data.lastError());
      if (result == OpResult.DONE) {
        cur.putFrom(wanted, item, new ItemStateData(ItemState.CREATED, Operation.CREATE, null, false), wanted.path);
        pushPendingDependents(ref);
      }
    }
  }

  /** Intended items that depend on {@code ref} and are not in the current state yet. */
  private void pushPendingDependents(ItemRef ref) {
    if (want == null) {
      return;
    }
    for (Edge edge : want.incoming(ref)) {
      if (cur.node(edge.from()) == null) {
        stage2.push(edge.from());
      }
    }
  }

  private void ensureSubGraphs(SubGraphPath path) {
    if (path.isEmpty() || cur.byPath.containsKey(path)) {
      return;
    }
    Graph at = cur.view(cur.rootMeta);
    GraphView from = want.view(want.rootMeta);
    for (String name : path.elements()) {
      from = from == null ? null : from.subGraph(name);
      at = at.subGraph(name) != null ? at.subGraph(name) : at.ensureSubGraph(name, from == null ? "" : from.description());
    }
  }

  // ---------------------------------------------------------------- operations

  /** Runs one configurator operation, updates the item's state on failure or when it goes async. */
  private OpResult runOperation(ItemRef ref, Operation operation, Item oldItem, Item newItem, Throwable prevError) {
    Item subject = newItem != null ? newItem : oldItem;
    long sequence = SEQUENCE.incrementAndGet();
    Instant start = Instant.now();
    Configurator configurator = registry.configuratorFor(subject);
    Throwable error = null;
    OpCtx ctx = new OpCtx(ref, sequence, start, operation == Operation.MODIFY ? newItem : null);
    if (configurator == null) {
      error = new IllegalStateException("missing configurator for item: " + ref);
    } else if (!options.mockRun()) {
      try {
        switch (operation) {
          case CREATE -> configurator.create(ctx, newItem);
          case MODIFY -> configurator.modify(ctx, oldItem, newItem);
          case DELETE -> configurator.delete(ctx, oldItem);
          default -> throw new IllegalStateException("unknown operation for " + ref);
        }
      } catch (Exception e) {
        error = e;
      }
    }
    if (ctx.op != null && error == null) {
      log.add(new OpLogEntry(sequence, subject, operation, start, null, null, true, null, prevError));
      count(subject, operation, Result.IN_PROGRESS);
      state.opByItem.put(ref, ctx.op);
      ItemState transition = switch (operation) {
        case CREATE -> ItemState.CREATING;
        case MODIFY -> ItemState.MODIFYING;
        default -> ItemState.DELETING;
      };
      Item kept = operation == Operation.CREATE ? newItem : oldItem;
      Node node = cur.node(ref);
      ItemStateData old = node == null ? null : stateOf(node);
      cur.put(kept, new ItemStateData(transition, old == null ? Operation.UNKNOWN : old.lastOperation(),
          old == null ? null : old.lastError(), false), node != null ? node.path : wantedPath(ref));
      return OpResult.ASYNC;
    }
    if (ctx.op != null) {
      state.asyncOps.remove(ctx.op); // threw after going async: a plain failure
    }
    log.add(new OpLogEntry(sequence, subject, operation, start, Instant.now(), null, false, error, prevError));
    count(subject, operation, error == null ? Result.SUCCEEDED : Result.FAILED);
    if (error != null) {
      markFailed(ref, operation == Operation.CREATE ? newItem : oldItem, operation, error);
      return OpResult.FAILED;
    }
    return OpResult.DONE;
  }

  private SubGraphPath wantedPath(ItemRef ref) {
    Node wanted = want == null ? null : want.node(ref);
    return wanted == null ? SubGraphPath.EMPTY : wanted.path;
  }

  /** A failed Create leaves the item not created; a failed Modify or Delete keeps the old value. */
  private void markFailed(ItemRef ref, Item kept, Operation operation, Throwable error) {
    Node node = cur.node(ref);
    SubGraphPath path = node != null ? node.path : wantedPath(ref);
    if (node == null) {
      ensureSubGraphs(path);
    }
    cur.put(kept, new ItemStateData(ItemState.FAILURE, operation, error, false), path);
    failed.add(ref);
    failedItems.put(ref, String.valueOf(error.getMessage()));
  }

  private void count(Item item, Operation operation, Result result) {
    opCounts.merge(new OperationKey(item.type(), operation, result), 1, Integer::sum);
  }

  /** Finishes a background operation that ended; tells whether the item is still busy. */
  private AsyncCheck checkAsyncOp(ItemRef ref) {
    Node node = cur.node(ref);
    if (node == null || !stateOf(node).inTransition()) {
      return AsyncCheck.NONE;
    }
    ItemStateData data = stateOf(node);
    AsyncOps.Op op = state.opByItem.get(ref);
    AsyncOps ops = state.asyncOps;
    if (op == null || ops.get(op.id) != op) {
      errors.add(new IllegalStateException("missing async operation for item " + ref));
      return AsyncCheck.SKIP;
    }
    Throwable error;
    Instant endTime;
    Instant cancelTime;
    synchronized (ops) {
      boolean timedOut = op.cancelTimedOut(System.nanoTime());
      if (!op.done && !timedOut) {
        return AsyncCheck.IN_PROGRESS;
      }
      if (op.finishedAfter(runStartNanos)) {
        return AsyncCheck.IN_PROGRESS; // finished during this run: handled by the next one
      }
      error = timedOut ? new IllegalStateException("failed to react to cancel() in time") : op.error;
      endTime = op.done ? op.endTime : Instant.now();
      cancelTime = op.cancelTime;
    }
    ops.remove(op);
    state.opByItem.remove(ref);
    Operation operation = data.state().transitionOperation();
    log.add(new OpLogEntry(op.sequence, node.item, operation, op.startTime, endTime, cancelTime, false, error,
        data.lastError()));
    count(node.item, operation, error == null ? Result.SUCCEEDED : Result.FAILED);
    if (error != null) {
      markFailed(ref, node.item, operation, error);
      return AsyncCheck.NONE;
    }
    switch (operation) {
      case DELETE -> {
        cur.delete(ref);
        return AsyncCheck.DELETED;
      }
      case MODIFY -> cur.put(op.newItem, new ItemStateData(ItemState.CREATED, Operation.MODIFY, null, false), node.path);
      default -> cur.put(node.item, new ItemStateData(ItemState.CREATED, Operation.CREATE, null, false), node.path);
    }
    pushPendingDependents(ref);
    return AsyncCheck.NONE;
  }

  /** Configurator context of one operation; becomes a background operation on request. */
  private final class OpCtx implements OpContext {
    final ItemRef ref;
    final long sequence;
    final Instant start;
    final Item newItem;
    AsyncOps.Op op;

    OpCtx(ItemRef ref, long sequence, Instant start, Item newItem) {
      this.ref = ref;
      this.sequence = sequence;
      this.start = start;
      this.newItem = newItem;
    }

    @Override
    public String graphName() {
      return graphName;
    }

    @Override
    public Consumer<Throwable> continueInBackground() {
      if (op == null) {
        op = state.asyncOps.register(ref, graphName, sequence, start, newItem);
      }
      AsyncOps.Op registered = op;
      AsyncOps ops = state.asyncOps;
      return error -> ops.done(registered, error);
    }

    @Override
    public boolean isCancelled() {
      return op != null && state.asyncOps.isCancelled(op);
    }

    @Override
    public void onCancel(Runnable action) {
      if (op == null) {
        throw new IllegalStateException("onCancel needs continueInBackground() first");
      }
      state.asyncOps.onCancel(op, action);
    }
  }

  // ---------------------------------------------------------------- dependency checks

  private static ItemStateData stateOf(Node node) {
    return node.state == null ? ItemStateData.CREATED : node.state;
  }

  private boolean isExternal(ItemRef ref) {
    return isExternal(ref, cur.node(ref));
  }

  /** {@link #isExternal(ItemRef)} with the current node of {@code ref} (or null) at hand. */
  private boolean isExternal(ItemRef ref, Node node) {
    if (node != null) {
      return node.item.external();
    }
    Node wanted = want == null ? null : want.node(ref);
    return wanted != null && wanted.item.external();
  }

  private boolean hasSatisfiedDeps(Item item) {
    for (Dependency dep : item.dependencies()) {
      if (!isSatisfied(dep)) {
        return false;
      }
    }
    return true;
  }

  /**
   * The required item exists, is created, is not about to be deleted, and passes the condition
   * with its current value and, when it is being modified, with its new value too.
   */
  private boolean isSatisfied(Dependency dep) {
    return isSatisfied(dep, cur.node(dep.requiredItem()));
  }

  /** {@link #isSatisfied(Dependency)} with the current node of the required item (or null) at hand. */
  private boolean isSatisfied(Dependency dep, Node node) {
    ItemRef target = dep.requiredItem();
    if (node == null) {
      return false;
    }
    ItemStateData data = stateOf(node);
    if (!data.isCreated()) {
      return false;
    }
    Plan plan = plans.get(target);
    if (plan != null && plan.operation() == Operation.DELETE) {
      return false;
    }
    if (dep.mustSatisfy() == null) {
      return true;
    }
    if (!dep.acceptsValue(node.item)) {
      return false;
    }
    Item newValue = null;
    if (data.state() == ItemState.MODIFYING) {
      AsyncOps.Op op = state.opByItem.get(target);
      newValue = op == null ? null : op.newItem;
    } else if (plan != null && plan.operation() == Operation.MODIFY) {
      newValue = plan.newItem();
    }
    return newValue == null || dep.acceptsValue(newValue);
  }

  /** The item vanished with the external item it depends on: drop it without Delete. */
  private boolean wasAutoDeleted(Item item) {
    for (Dependency dep : item.dependencies()) {
      if (dep.autoDeletedByExternal() && isExternal(dep.requiredItem()) && !isSatisfied(dep)) {
        return true;
      }
    }
    return false;
  }

  /**
   * {@code hasSatisfiedDeps(item) && !putIsBlocked(item)} with one lookup per dependency, as stage 2
   * asks this for every pending item. Conditions are tested exactly as hasSatisfiedDeps does.
   */
  private boolean readyToCreate(Item item) {
    boolean blocked = false;
    for (Dependency dep : item.dependencies()) {
      Node node = cur.node(dep.requiredItem());
      if (!isSatisfied(dep, node)) {
        return false;
      }
      // Satisfied, so the node exists.
      blocked |= failed.contains(dep.requiredItem()) || stateOf(node).state() == ItemState.MODIFYING;
    }
    return !blocked;
  }

  /** Create and Modify wait while a dependency failed in this run or is being modified. */
  private boolean putIsBlocked(Item item) {
    for (Dependency dep : item.dependencies()) {
      if (failed.contains(dep.requiredItem())) {
        return true;
      }
      Node node = cur.node(dep.requiredItem());
      if (node != null && stateOf(node).state() == ItemState.MODIFYING) {
        return true;
      }
    }
    return false;
  }

  private boolean needsRecreate(Node node, Item newItem, ItemStateData data) {
    if (!data.isCreated()) {
      return false;
    }
    for (Edge edge : node.outgoing) {
      if (!edge.dependency().recreateWhenModified()) {
        continue;
      }
      Node target = cur.node(edge.to());
      if (target == null) {
        continue;
      }
      Plan plan = plans.get(edge.to());
      if (plan != null && plan.operation() == Operation.MODIFY) {
        return true;
      }
      if (target.item.external() && stateOf(target).externallyModified()) {
        return true;
      }
    }
    if (node.item.isEqual(newItem)) {
      return false;
    }
    Configurator configurator = registry.configuratorFor(newItem);
    return configurator != null && configurator.needsRecreate(node.item, newItem);
  }

  // ---------------------------------------------------------------- wrap-up

  private void resetExternallyModified() {
    for (ItemRef ref : new ArrayList<>(cur.externals)) {
      Node node = current.nodeInView(ref);
      if (node != null && node.state != null && node.state.externallyModified()) {
        cur.put(node.item, node.state.withExternallyModified(false), node.path);
      }
    }
  }

  /** Copies names and descriptions of intended subgraphs into the current state. */
  private static void syncUpdatedSubgraphs(GraphView at, GraphView wanted) {
    if (wanted == null) {
      return;
    }
    at.setDescription(wanted.description());
    for (GraphView child : wanted.subGraphs()) {
      GraphView mine = at.subGraph(child.name());
      if (mine == null) {
        mine = (GraphView) at.ensureSubGraph(child.name(), child.description());
      }
      syncUpdatedSubgraphs(mine, child);
    }
  }

  /** Drops empty subgraphs no longer intended; true when {@code at} itself was dropped. */
  private static boolean syncDeletedSubgraphs(GraphView at, GraphView wanted) {
    for (GraphView child : at.subGraphs()) {
      syncDeletedSubgraphs(child, wanted == null ? null : wanted.subGraph(child.name()));
    }
    if (wanted == null && at.size(true) == 0 && !at.isRoot()) {
      at.parentGraph().delSubGraph(at.name());
      return true;
    }
    return false;
  }
}
