package dev.verge.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Seeded random graphs and random edits: convergence, dependency order, determinism. */
class ReconcilerPropertiesTest {
  private static final int ITEMS = 25;

  /** Random acyclic intent: item i may depend only on items with a larger index (some missing). */
  static Graph randomIntent(Random rnd, int version) {
    Graph g = Graphs.newGraph(GraphSpec.named("P").withSubGraphs(GraphSpec.named("S1"), GraphSpec.named("S2")));
    for (int i = 0; i < ITEMS; i++) {
      if (rnd.nextInt(6) == 0) {
        continue; // absent this round
      }
      var deps = new ArrayList<Dependency>();
      for (int j = i + 1; j < ITEMS + 3; j++) {
        if (rnd.nextInt(8) == 0) {
          deps.add(Dependency.on("t", "i" + (j < 10 ? "0" : "") + j));
        }
      }
      var item = MockItem.of("t", "i" + (i < 10 ? "0" : "") + i, deps.toArray(Dependency[]::new))
          .withAttr(rnd.nextInt(3)).withStatic(rnd.nextInt(4) == 0 ? "s" + version : "");
      Graph at = switch (rnd.nextInt(3)) {
        case 0 -> g;
        case 1 -> g.subGraph("S1");
        default -> g.subGraph("S2");
      };
      at.putItem(item, null);
    }
    return g;
  }

  @Test
  void randomEditsConvergeInDependencyOrder() {
    for (long seed = 1; seed <= 60; seed++) {
      var rnd = new Random(seed);
      var cfg = new MockConfigurator();
      var reconciler = Reconciler.create(MockConfigurator.registry(cfg, "t"));
      Graph current = null;
      for (int round = 0; round < 6; round++) {
        Graph want = randomIntent(rnd, round);
        Status s = reconciler.reconcile(current, want);
        assertThat(s.error()).as("seed %d", seed).isEmpty();
        current = s.newCurrentState();
        checkOrder(s.operationLog(), want, seed);
        checkConverged(current, want, seed);
        assertThat(reconciler.reconcile(current, want).operationLog()).as("idempotent, seed %d", seed).isEmpty();
      }
    }
  }

  @Test
  void sameInputsGiveTheSameOperationLog() {
    List<List<String>> logs = new ArrayList<>();
    for (int attempt = 0; attempt < 2; attempt++) {
      var rnd = new Random(99);
      var reconciler = Reconciler.create(MockConfigurator.registry(new MockConfigurator(), "t"));
      Graph current = null;
      var all = new ArrayList<String>();
      for (int round = 0; round < 5; round++) {
        Status s = reconciler.reconcile(current, randomIntent(rnd, round));
        current = s.newCurrentState();
        all.addAll(Ops.of(s));
      }
      logs.add(all);
    }
    assertThat(logs.get(0)).isNotEmpty().isEqualTo(logs.get(1));
  }

  /** Every item whose dependencies are (transitively) satisfiable exists and equals the intent. */
  private static void checkConverged(Graph current, Graph want, long seed) {
    for (ItemEntry e : want.items(true)) {
      boolean satisfiable = e.item().dependencies().stream()
          .allMatch(d -> current.item(d.requiredItem()).isPresent());
      var actual = current.item(e.ref());
      if (satisfiable) {
        assertThat(actual).as("seed %d item %s", seed, e.ref()).isPresent();
        assertThat(actual.get().item().isEqual(e.item())).isTrue();
        assertThat(actual.get().path()).isEqualTo(e.path());
        assertThat(actual.get().stateOrCreated().state()).isEqualTo(ItemState.CREATED);
      } else {
        assertThat(actual).as("seed %d pending %s", seed, e.ref()).isEmpty();
      }
    }
    for (ItemEntry e : current.items(true)) {
      assertThat(want.item(e.ref())).as("seed %d stale %s", seed, e.ref()).isPresent();
    }
  }

  /**
   * Replays the log: every Create/Modify happens while all dependencies (per the new value) exist,
   * and nothing is deleted while a created item still depends on it.
   */
  private static void checkOrder(List<OpLogEntry> log, Graph want, long seed) {
    Map<String, Integer> position = new HashMap<>();
    for (int i = 0; i < log.size(); i++) {
      position.put(log.get(i).operation() + " " + log.get(i).item().name(), i);
    }
    for (int i = 0; i < log.size(); i++) {
      OpLogEntry e = log.get(i);
      if (e.operation() == Operation.CREATE) {
        for (Dependency d : e.item().dependencies()) {
          Integer created = position.get("CREATE " + d.requiredItem().name());
          Integer deleted = position.get("DELETE " + d.requiredItem().name());
          assertThat(created == null || created < i).as("seed %d: %s created before %s", seed, d.requiredItem(), e.ref()).isTrue();
          assertThat(deleted == null || deleted < i || (created != null && created < i))
              .as("seed %d: %s not deleted after dependent %s is created", seed, d.requiredItem(), e.ref()).isTrue();
        }
      }
      if (e.operation() == Operation.DELETE) {
        for (Dependency d : e.item().dependencies()) {
          Integer depDeleted = position.get("DELETE " + d.requiredItem().name());
          assertThat(depDeleted == null || depDeleted > i)
              .as("seed %d: %s deleted after its dependency %s", seed, e.ref(), d.requiredItem()).isTrue();
        }
      }
    }
  }
}
