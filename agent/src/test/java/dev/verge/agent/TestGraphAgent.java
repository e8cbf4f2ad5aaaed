package dev.verge.agent;

import dev.verge.reconciler.Configurator;
import dev.verge.reconciler.Dependency;
import dev.verge.reconciler.Graph;
import dev.verge.reconciler.GraphR;
import dev.verge.reconciler.GraphSpec;
import dev.verge.reconciler.Graphs;
import dev.verge.reconciler.Item;
import dev.verge.reconciler.OpContext;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/** An agent whose intent the test sets directly, recording what its configurator did. */
final class TestGraphAgent implements Agent {
  /** A plain item of a given type, depending on other Things by name. */
  record Thing(String type, String name, List<String> dependsOn) implements Item {
    @Override
    public boolean isEqual(Item other) {
      return equals(other);
    }

    @Override
    public List<Dependency> dependencies() {
      return dependsOn.stream().map(d -> Dependency.on("Thing", d)).toList();
    }
  }

  static Thing item(String name, String... dependsOn) {
    return new Thing("Thing", name, List.of(dependsOn));
  }

  private final String name;
  private List<Item> intent = List.of();
  RuntimeException failIntent;
  final List<String> created = new ArrayList<>();
  final List<String> deleted = new ArrayList<>();
  final Map<String, CompletableFuture<Void>> asyncCreates = new HashMap<>();
  final List<Boolean> reconciledOnLoop = new ArrayList<>();
  /** Extra declarations at start (inputs, watchers), for tests of those. */
  Consumer<AgentContext> onStart = ctx -> {};
  AgentContext context;

  TestGraphAgent(String name) {
    this.name = name;
  }

  void intent(Item... items) {
    intent = List.of(items);
    failIntent = null;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public void start(AgentContext ctx) {
    this.context = ctx;
    onStart.accept(ctx);
    ctx.configure("Thing", new Configurator() {
      @Override
      public void create(OpContext op, Item item) {
        CompletableFuture<Void> gate = asyncCreates.get(item.name());
        if (gate != null) {
          Consumer<Throwable> done = op.continueInBackground();
          gate.whenComplete((ok, error) -> done.accept(error));
          return;
        }
        created.add(item.name());
      }

      @Override
      public void modify(OpContext op, Item oldItem, Item newItem) {}

      @Override
      public void delete(OpContext op, Item item) {
        deleted.add(item.name());
      }
    });
  }

  @Override
  public GraphR intendedState() {
    if (failIntent != null) {
      throw failIntent;
    }
    return Graphs.newGraph(GraphSpec.named(name).withItems(intent.toArray(Item[]::new)));
  }

  @Override
  public void reconciled(ReconcileOutcome outcome) {
    reconciledOnLoop.add(context.loop().inLoop());
  }
}
