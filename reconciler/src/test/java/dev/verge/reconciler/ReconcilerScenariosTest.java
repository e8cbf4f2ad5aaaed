package dev.verge.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The reference reconciler's scenarios, with exact operation order. X→Y means X depends on Y. */
class ReconcilerScenariosTest {
  static final String T1 = "type1";
  static final String T2 = "type2";
  final MockConfigurator cfg = new MockConfigurator();
  /** Graph names the reconciler asked to resume, in order (the listener runs on other threads). */
  final java.util.concurrent.BlockingQueue<String> resumed = new java.util.concurrent.LinkedBlockingQueue<>();
  final Reconciler reconciler = Reconciler.create(MockConfigurator.registry(cfg, T1, T2),
      ReconcilerOptions.DEFAULT.withCancelTimeout(Duration.ofMillis(200)).withResumeListener(resumed::add));

  static Dependency dep(String type, String name) {
    return Dependency.on(type, name);
  }

  static Graph intent(Item... items) {
    return Graphs.newGraph(GraphSpec.named("TestGraph").describedAs("Graph for testing").withItems(items));
  }

  static ItemStateData state(Graph g, Item item) {
    return g.item(item.ref()).orElseThrow().stateOrCreated();
  }

  Status ok(Graph current, GraphR intended) {
    Status s = reconciler.reconcile(current, intended);
    assertThat(s.error()).isEmpty();
    assertThat(s.asyncOpsInProgress()).isFalse();
    return s;
  }

  @Test
  void itemsWithoutDependenciesAreCreatedModifiedAndDeleted() {
    Graph empty = intent();
    Status s = ok(null, empty);
    assertThat(s.operationLog()).isEmpty();
    Graph current = s.newCurrentState();
    assertThat(current.name()).isEqualTo("TestGraph");
    assertThat(current.description()).isEqualTo("Graph for testing");
    assertThat(s.asyncOpsInProgress()).isFalse();

    var a = MockItem.of(T1, "A");
    var b = MockItem.of(T1, "B");
    var c = MockItem.of(T2, "C");
    Graph want = intent(a, b, c);
    assertThat(Ops.of(ok(current, want))).containsExactly("Create A", "Create B", "Create C");
    assertThat(state(current, a)).isEqualTo(ItemStateData.of(ItemState.CREATED, Operation.CREATE));

    want.putItem(b.withAttr(1), null);
    assertThat(Ops.of(ok(current, want))).containsExactly("Modify B");
    assertThat(state(current, b).lastOperation()).isEqualTo(Operation.MODIFY);

    want.putItem(b.withAttr(1), null);
    assertThat(Ops.of(ok(current, want))).isEmpty();

    want.delItem(a.ref());
    want.delItem(c.ref());
    assertThat(Ops.of(ok(current, want))).containsExactly("Delete C", "Delete A");
    assertThat(current.items(true)).extracting(ItemEntry::ref).containsExactly(b.ref());
  }

  @Test
  void dependencyIsCreatedFirstAndDeletedLast() {
    var a = MockItem.of(T1, "A", dep(T2, "C"));
    var b = MockItem.of(T1, "B", dep(T2, "C"));
    var c = MockItem.of(T2, "C");
    Graph want = intent(a, b, c);
    Status s = ok(null, want);
    assertThat(Ops.of(s)).containsExactly("Create C", "Create B", "Create A");
    Graph current = s.newCurrentState();

    want.putItem(c.withAttr(1), null);
    assertThat(Ops.of(ok(current, want))).containsExactly("Modify C");

    want.delItem(c.ref());
    assertThat(Ops.of(ok(current, want))).containsExactly("Delete B", "Delete A", "Delete C");
  }

  @Test
  void recreateWhenModifiedRecreatesDependentsAroundTheModify() {
    var a = MockItem.of(T1, "A", dep(T2, "C").recreatedWhenModified());
    var b = MockItem.of(T1, "B", dep(T2, "C").recreatedWhenModified());
    var c = MockItem.of(T2, "C");
    Graph want = intent(a, b, c);
    Graph current = ok(null, want).newCurrentState();
    want.putItem(c.withAttr(1), null);
    assertThat(Ops.of(ok(current, want)))
        .containsExactly("Delete B", "Delete A", "Modify C", "Create B", "Create A");
  }

  @Test
  void staticChangeRecreatesTheItemAndItsDependents() {
    var a = MockItem.of(T1, "A", dep(T1, "B"));
    var b = MockItem.of(T1, "B");
    Graph want = intent(a, b);
    Graph current = ok(null, want).newCurrentState();
    want.putItem(b.withStatic("changed"), null);
    assertThat(Ops.of(ok(current, want))).containsExactly("Delete A", "Delete B", "Create B", "Create A");
  }

  @Test
  void transitiveDependenciesWaitForTheRoot() {
    var a = MockItem.of(T1, "A", dep(T1, "B"));
    var b = MockItem.of(T1, "B", dep(T1, "C"));
    var c = MockItem.of(T1, "C");
    Graph want = intent(a, b);
    Status s = ok(null, want);
    assertThat(s.operationLog()).isEmpty();
    Graph current = s.newCurrentState();
    assertThat(current.size(true)).isZero();

    want.putItem(c, null);
    assertThat(Ops.of(ok(current, want))).containsExactly("Create C", "Create B", "Create A");

    want.delItem(c.ref());
    assertThat(Ops.of(ok(current, want))).containsExactly("Delete A", "Delete B", "Delete C");
    assertThat(current.size(true)).isZero();
  }

  @Test
  void unsatisfiedDependencyKeepsTheItemPending() {
    var a = MockItem.of(T1, "A", dep(T1, "B"), dep(T1, "C"));
    var b = MockItem.of(T1, "B");
    Graph want = intent(a, b);
    Status s = ok(null, want);
    assertThat(Ops.of(s)).containsExactly("Create B");
    Graph current = s.newCurrentState();
    assertThat(current.item(a.ref())).isEmpty();

    want.delItem(b.ref());
    assertThat(Ops.of(ok(current, want))).containsExactly("Delete B");
  }

  @Test
  void mustSatisfyHoldsBackTheDependentUntilTheValueFits() {
    var a = MockItem.of(T1, "A", dep(T1, "B").satisfying(i -> ((MockItem) i).attr() == 42));
    var b = MockItem.of(T1, "B");
    Graph want = intent(a, b);
    Status s = ok(null, want);
    assertThat(Ops.of(s)).containsExactly("Create B");
    Graph current = s.newCurrentState();
    want.putItem(b.withAttr(42), null);
    assertThat(Ops.of(ok(current, want))).containsExactly("Modify B", "Create A");
  }

  @Test
  void modifiedDependenciesAreFollowed() {
    var a = MockItem.of(T1, "A", dep(T1, "B"));
    var b = MockItem.of(T1, "B");
    Graph want = intent(a, b);
    Graph current = ok(null, want).newCurrentState();

    // (1) A re-pointed to a missing C.
    var aToC = a.withDeps(dep(T1, "C"));
    want.putItem(aToC, null);
    assertThat(Ops.of(ok(current, want))).containsExactly("Delete A");
    var c = MockItem.of(T1, "C");
    want.putItem(c, null);
    assertThat(Ops.of(ok(current, want))).containsExactly("Create C", "Create A");

    // (2) A and C change together; A's new condition only holds for the new C. C is visited
    // first (reverse order of the sorted seeds), so A's condition already holds when A's turn comes.
    var aStrict = a.withDeps(dep(T1, "C").satisfying(i -> ((MockItem) i).attr() == 7)).withAttr(1);
    want.putItem(aStrict, null);
    want.putItem(c.withAttr(7), null);
    assertThat(Ops.of(ok(current, want))).containsExactly("Modify C", "Modify A");

    // (2b) The reverse: dependent D is visited before its dependency B, whose new value it needs:
    // D is deleted, B modified, D created again.
    var bb = MockItem.of(T1, "B");
    var dd = MockItem.of(T1, "D", dep(T1, "B"));
    Graph want2 = intent(bb, dd);
    Graph current2 = ok(null, want2).newCurrentState();
    want2.putItem(dd.withDeps(dep(T1, "B").satisfying(i -> ((MockItem) i).attr() == 7)).withAttr(1), null);
    want2.putItem(bb.withAttr(7), null);
    assertThat(Ops.of(ok(current2, want2))).containsExactly("Delete D", "Modify B", "Create D");

    // (3) A moves from C to B while C is removed: A is modified before C goes.
    want.putItem(aStrict.withDeps(dep(T1, "B")), null);
    want.delItem(c.ref());
    assertThat(Ops.of(ok(current, want))).containsExactly("Modify A", "Delete C");
  }

  @Test
  void subGraphsCanBeReconciledSelectivelyAndRemoved() {
    var a = MockItem.of(T1, "A");
    var b = MockItem.of(T1, "B");
    var c = MockItem.of(T2, "C", dep(T1, "A"));
    var d = MockItem.of(T2, "D", dep(T1, "B"));
    Graph want = Graphs.newGraph(GraphSpec.named("TestGraph").describedAs("Graph for testing")
        .withSubGraphs(GraphSpec.named("SubGraph").describedAs("SubGraph inside TestGraph").withItems(a, b)
            .withSubGraphs(GraphSpec.named("NestedSubGraph").describedAs("SubGraph inside SubGraph")
                .withItems(c, d))));
    Status s = ok(null, want);
    assertThat(Ops.of(s)).containsExactly("Create A", "Create C", "Create B", "Create D");
    Graph current = s.newCurrentState();
    Graph sub = current.subGraph("SubGraph");
    assertThat(sub.description()).isEqualTo("SubGraph inside TestGraph");
    assertThat(sub.items(false)).hasSize(2);
    assertThat(sub.subGraph("NestedSubGraph").items(false)).hasSize(2);
    assertThat(sub.item(c.ref()).orElseThrow().path()).isEqualTo(SubGraphPath.of("NestedSubGraph"));

    Graph wantSub = want.subGraph("SubGraph");
    wantSub.putItem(a.withStatic("modified"), null);
    wantSub.delItem(b.ref());
    wantSub.setDescription("Modified description");
    s = ok(sub, wantSub);
    assertThat(s.newCurrentState()).isSameAs(sub);
    assertThat(Ops.of(s)).containsExactly("Delete D", "Delete B", "Delete C", "Delete A", "Create A", "Create C");
    assertThat(sub.description()).isEqualTo("Modified description");
    assertThat(sub.items(false)).extracting(ItemEntry::ref).containsExactly(a.ref());
    assertThat(sub.subGraph("NestedSubGraph").items(false)).extracting(ItemEntry::ref).containsExactly(c.ref());

    assertThat(ok(sub, wantSub).operationLog()).isEmpty();

    Status removed = ok(sub.subGraph("NestedSubGraph"), null);
    assertThat(Ops.of(removed)).containsExactly("Delete C");
    assertThat(removed.newCurrentState()).isNull();
    assertThat(sub.subGraphs()).isEmpty();
    assertThat(sub.items(true)).hasSize(1);

    Status moved = ok(current, intent(a.withStatic("modified")));
    assertThat(moved.operationLog()).isEmpty();
    assertThat(current.subGraphs()).isEmpty();
    assertThat(current.item(a.ref()).orElseThrow().path()).isEqualTo(SubGraphPath.EMPTY);
  }

  @Test
  void recreateReachesItemsOutsideTheSelection() {
    var a = MockItem.of(T1, "A", dep(T1, "B"));
    var b = MockItem.of(T1, "B");
    Graph want = Graphs.newGraph(GraphSpec.named("TestGraph").withItems(a)
        .withSubGraphs(GraphSpec.named("SG").withItems(b)));
    Graph current = ok(null, want).newCurrentState();
    want.subGraph("SG").putItem(b.withStatic("new"), null);
    Status s = ok(current.subGraph("SG"), want.subGraph("SG"));
    assertThat(Ops.of(s)).containsExactly("Delete A", "Delete B", "Create B", "Create A");
  }

  @Test
  void externalItemsOnlySatisfyDependencies() {
    var a = MockItem.of(T1, "A", dep(T2, "External").recreatedWhenModified().autoDeletedWithExternal());
    var b = MockItem.of(T1, "B", dep(T2, "External").satisfying(i -> ((MockItem) i).attr() == 42));
    var ext = MockItem.external(T2, "External", 42);
    var reconcilerWithoutT2 = Reconciler.create(MockConfigurator.registry(cfg, T1));
    Graph want = intent(a, b, ext);
    Status s = reconcilerWithoutT2.reconcile(null, want);
    assertThat(s.error()).isEmpty();
    assertThat(s.operationLog()).isEmpty();
    Graph current = s.newCurrentState();

    current.putItem(ext, ItemStateData.of(ItemState.CREATED, Operation.CREATE));
    s = reconcilerWithoutT2.reconcile(current, want);
    assertThat(Ops.of(s)).containsExactly("Create A", "Create B");

    current.putItem(ext.withAttr(0), new ItemStateData(ItemState.CREATED, Operation.MODIFY, null, true));
    s = reconcilerWithoutT2.reconcile(current, want);
    assertThat(s.error()).isEmpty();
    assertThat(Ops.of(s)).containsExactly("Delete B", "Delete A", "Create A");
    assertThat(current.item(b.ref())).isEmpty();
    assertThat(state(current, ext).externallyModified()).isFalse();

    current.delItem(ext.ref());
    s = reconcilerWithoutT2.reconcile(current, want);
    assertThat(s.error()).isEmpty();
    assertThat(s.operationLog()).isEmpty();
    assertThat(current.size(true)).isZero();
    assertThat(cfg.calls).doesNotContain("Create External", "Delete External");
  }

  @Test
  void failuresAreRecordedFrozenForTheRunAndNotRetried() {
    var a = MockItem.of(T1, "A", dep(T1, "B"));
    var b = MockItem.of(T1, "B", dep(T1, "C")).failingCreate(true);
    var c = MockItem.of(T1, "C");
    Graph want = intent(a, b, c);
    Status s = reconciler.reconcile(null, want);
    assertThat(Ops.of(s)).containsExactly("Create C", "Create B: failed to create");
    assertThat(s.error()).hasValueSatisfying(e -> assertThat(e).hasMessage("failed to create"));
    assertThat(s.metrics().failedItems()).containsOnlyKeys(b.ref());
    Graph current = s.newCurrentState();
    assertThat(state(current, b)).extracting(ItemStateData::state, ItemStateData::lastOperation)
        .containsExactly(ItemState.FAILURE, Operation.CREATE);
    assertThat(ok(current, want).operationLog()).as("no automatic retry").isEmpty();

    // A changed value is retried; the log carries the previous error.
    var b2 = b.withAttr(1).failingCreate(false);
    want.putItem(b2, null);
    s = ok(current, want);
    assertThat(Ops.of(s)).containsExactly("Create B", "Create A");
    assertThat(s.operationLog().get(0).previousError()).hasMessage("failed to create");

    // A failed Modify keeps the old value.
    want.putItem(c.withAttr(5).failingCreate(true), null);
    s = reconciler.reconcile(current, want);
    assertThat(Ops.of(s)).containsExactly("Modify C: failed to modify");
    assertThat(((MockItem) current.item(c.ref()).orElseThrow().item()).attr()).isZero();
    assertThat(state(current, c).state()).isEqualTo(ItemState.FAILURE);

    // B's recreate fails at Delete: nothing is created again.
    var b3 = b2.withStatic("x").failingDelete(true);
    current.putItem(b2.failingDelete(true), ItemStateData.of(ItemState.CREATED, Operation.CREATE));
    want.putItem(c.withAttr(5), null);
    want.putItem(b3, null);
    s = reconciler.reconcile(current, want);
    assertThat(Ops.of(s)).containsExactly("Modify C", "Delete A", "Delete B: failed to delete");
    assertThat(current.item(a.ref())).isEmpty();

    // Deleting B while A's Delete fails: only A is attempted, B stays.
    var a2 = MockItem.of(T1, "A", dep(T1, "B")).failingDelete(true);
    var bb = MockItem.of(T1, "B");
    Graph want2 = intent(a2, bb);
    Graph current2 = ok(null, want2).newCurrentState();
    want2.delItem(bb.ref());
    s = reconciler.reconcile(current2, want2);
    assertThat(Ops.of(s)).containsExactly("Delete A: failed to delete");
    assertThat(current2.item(bb.ref())).isPresent();
    assertThat(state(current2, a2)).extracting(ItemStateData::state, ItemStateData::lastOperation)
        .containsExactly(ItemState.FAILURE, Operation.DELETE);
  }

  @Test
  void asyncOperationsBlockDependentsUntilResumed() throws Exception {
    var a = MockItem.of(T1, "A", dep(T1, "B"));
    var b = MockItem.of(T1, "B").async(true, false);
    Graph want = intent(a, b);
    Status s = reconciler.reconcile(null, want);
    assertThat(Ops.of(s)).containsExactly("Create B (async)");
    assertThat(s.asyncOpsInProgress()).isTrue();
    Graph current = s.newCurrentState();
    assertThat(state(current, b)).extracting(ItemStateData::state, ItemStateData::lastOperation)
        .containsExactly(ItemState.CREATING, Operation.UNKNOWN);
    assertThat(Ops.of(reconciler.reconcile(current, want))).as("still running").isEmpty();

    cfg.finish("B");
    assertThat(resumed.poll(5, TimeUnit.SECONDS)).isEqualTo("TestGraph");
    assertThat(resumed).as("one signal per graph per run").isEmpty();
    s = ok(current, want);
    assertThat(Ops.of(s)).containsExactly("Create B", "Create A");

    // C modified in the background blocks B's Modify (B depends on C).
    var c = MockItem.of(T1, "C");
    var bOnC = b.async(false, false).withDeps(dep(T1, "C"));
    want.putItem(c, null);
    ok(current, want);
    want.putItem(c.withAttr(1).async(true, false), null);
    want.putItem(bOnC.withAttr(1), null);
    s = reconciler.reconcile(current, want);
    assertThat(Ops.of(s)).containsExactly("Modify C (async)");
    assertThat(state(current, b).lastOperation()).as("B's Modify waits").isEqualTo(Operation.CREATE);
    cfg.finish("C");
    assertThat(resumed.poll(5, TimeUnit.SECONDS)).isEqualTo("TestGraph");
    s = ok(current, want);
    assertThat(Ops.of(s)).containsExactly("Modify C", "Modify B");

    // A deleted in the background blocks B's and C's removal.
    current.putItem(a.async(false, true), ItemStateData.of(ItemState.CREATED, Operation.CREATE));
    want.delItem(a.ref());
    want.delItem(bOnC.ref());
    want.delItem(c.ref());
    s = reconciler.reconcile(current, want);
    assertThat(Ops.of(s)).containsExactly("Delete A (async)");
    cfg.finish("A");
    assertThat(resumed.poll(5, TimeUnit.SECONDS)).isEqualTo("TestGraph");
    s = ok(current, want);
    assertThat(Ops.of(s)).containsExactly("Delete A", "Delete B", "Delete C");
    assertThat(current.size(true)).isZero();
  }

  @Test
  void asyncFailuresAreReportedAfterResume() throws Exception {
    var a = MockItem.of(T1, "A").async(true, false).failingCreate(true);
    Graph want = intent(a);
    Status s = reconciler.reconcile(null, want);
    assertThat(Ops.of(s)).containsExactly("Create A (async)");
    Graph current = s.newCurrentState();
    cfg.finish("A");
    assertThat(resumed.poll(5, TimeUnit.SECONDS)).isEqualTo("TestGraph");
    s = reconciler.reconcile(current, want);
    assertThat(Ops.of(s)).containsExactly("Create A: failed to create");
    assertThat(state(current, a).state()).isEqualTo(ItemState.FAILURE);
    assertThat(s.asyncOpsInProgress()).isFalse();
  }

  @Test
  void cancellingAllAsyncOperationsFailsThem() throws Exception {
    var a = MockItem.of(T1, "A").async(true, false);
    var b = MockItem.of(T1, "B").async(true, false);
    Status s = reconciler.reconcile(null, intent(a, b));
    Graph current = s.newCurrentState();
    s.cancelAsyncOps(null);
    assertThat(s.waitForAsyncOps(null, Duration.ofSeconds(5))).isTrue();
    s = reconciler.reconcile(current, intent(a, b));
    assertThat(Ops.of(s)).containsExactly("Create A: failed to complete", "Create B: failed to complete");
    assertThat(s.operationLog()).allSatisfy(e -> assertThat(e.cancelTime()).isNotNull());
  }

  @Test
  void cancellingSelectedAsyncOperationsLeavesTheOthersRunning() throws Exception {
    var a = MockItem.of(T1, "A").async(true, false);
    var b = MockItem.of(T1, "B").async(true, false);
    Graph want = intent(a, b);
    Status s = reconciler.reconcile(null, want);
    Graph current = s.newCurrentState();
    s.cancelAsyncOps(ref -> ref.name().equals("A"));
    assertThat(s.waitForAsyncOps(ref -> ref.name().equals("A"), Duration.ofSeconds(5))).isTrue();
    assertThat(s.waitForAsyncOps(null, Duration.ofMillis(10))).isFalse();
    s = reconciler.reconcile(current, want);
    assertThat(Ops.of(s)).containsExactly("Create A: failed to complete");
    assertThat(s.asyncOpsInProgress()).isTrue();
    assertThat(state(current, b).state()).isEqualTo(ItemState.CREATING);
  }

  @Test
  void ignoredCancelTurnsIntoAnErrorAfterTheTimeout() throws Exception {
    cfg.honourCancel = false;
    // Long enough that a stalled test thread cannot pass it between cancel and reconcile.
    Duration timeout = Duration.ofSeconds(1);
    Reconciler reconciler = Reconciler.create(MockConfigurator.registry(cfg, T1, T2),
        ReconcilerOptions.DEFAULT.withCancelTimeout(timeout));
    var a = MockItem.of(T1, "A").async(true, false);
    Graph want = intent(a);
    Status s = reconciler.reconcile(null, want);
    Graph current = s.newCurrentState();
    s.cancelAsyncOps(null);
    assertThat(Ops.of(reconciler.reconcile(current, want))).isEmpty();
    Thread.sleep(timeout.toMillis() + 100);
    s = reconciler.reconcile(current, want);
    assertThat(Ops.of(s)).containsExactly("Create A: failed to react to cancel() in time");
  }

  @Test
  void recreateWithDependentsDeletedAsynchronouslyConverges() throws Exception {
    var a = MockItem.of(T1, "A");
    var b = MockItem.of(T1, "B", dep(T1, "A")).async(false, true);
    var c = MockItem.of(T1, "C", dep(T1, "A")).async(false, true);
    var d = MockItem.of(T1, "D", dep(T1, "A")).async(false, true);
    Graph want = intent(a, b, c, d);
    Graph current = ok(null, want).newCurrentState();
    want.putItem(a.withStatic("new"), null);
    Status s = reconciler.reconcile(current, want);
    assertThat(Ops.of(s)).containsExactly("Delete D (async)");
    cfg.finish("D");
    s = reconciler.reconcile(current, want);
    assertThat(Ops.of(s)).containsExactly("Delete D", "Delete C (async)");
    cfg.finish("C");
    s = reconciler.reconcile(current, want);
    assertThat(Ops.of(s)).containsExactly("Delete C", "Delete B (async)");
    cfg.finish("B");
    s = ok(current, want);
    assertThat(Ops.of(s)).containsExactly(
        "Delete B", "Delete A", "Create A", "Create D", "Create C", "Create B");
  }
}
