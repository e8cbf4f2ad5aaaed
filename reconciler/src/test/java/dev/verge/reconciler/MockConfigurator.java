package dev.verge.reconciler;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Configurator for {@link MockItem}. Records calls; async operations wait until the test calls
 * {@link #finish} (or they are cancelled, which ends them with "failed to complete").
 */
final class MockConfigurator implements Configurator {
  final List<String> calls = new ArrayList<>();
  final Map<String, Consumer<Throwable>> running = new LinkedHashMap<>();
  /** When false, cancel requests are ignored (to test the cancel timeout). */
  boolean honourCancel = true;

  static DefaultRegistry registry(MockConfigurator cfg, String... types) {
    var registry = new DefaultRegistry();
    for (String type : types) {
      registry.register(type, cfg);
    }
    return registry;
  }

  private void maybeAsync(OpContext ctx, MockItem item, boolean async, Exception injected) throws Exception {
    if (!async) {
      if (injected != null) {
        throw injected;
      }
      return;
    }
    Consumer<Throwable> done = ctx.continueInBackground();
    synchronized (this) {
      running.put(item.name(), done);
    }
    ctx.onCancel(() -> {
      if (honourCancel) {
        synchronized (this) {
          running.remove(item.name());
        }
        done.accept(new Exception("failed to complete"));
      }
    });
    if (injected != null) {
      // Reported at completion time, like a real background failure.
      synchronized (this) {
        running.put(item.name(), err -> done.accept(injected));
      }
    }
  }

  /** Completes the background operation of item {@code name}. */
  void finish(String name) {
    Consumer<Throwable> done;
    synchronized (this) {
      done = running.remove(name);
    }
    if (done == null) {
      throw new AssertionError("no background operation for " + name);
    }
    done.accept(null);
  }

  @Override
  public void create(OpContext ctx, Item item) throws Exception {
    var m = (MockItem) item;
    calls.add("Create " + item.name());
    maybeAsync(ctx, m, m.asyncCreate(), m.failToCreate() ? new Exception("failed to create") : null);
  }

  @Override
  public void modify(OpContext ctx, Item oldItem, Item newItem) throws Exception {
    if (oldItem.isEqual(newItem)) {
      throw new AssertionError("Modify called for an unchanged item " + newItem.name());
    }
    var m = (MockItem) newItem;
    calls.add("Modify " + newItem.name());
    maybeAsync(ctx, m, m.asyncCreate(), m.failToCreate() ? new Exception("failed to modify") : null);
  }

  @Override
  public void delete(OpContext ctx, Item item) throws Exception {
    var m = (MockItem) item;
    calls.add("Delete " + item.name());
    maybeAsync(ctx, m, m.asyncDelete(), m.failToDelete() ? new Exception("failed to delete") : null);
  }

  @Override
  public boolean needsRecreate(Item oldItem, Item newItem) {
    return !((MockItem) oldItem).staticAttr().equals(((MockItem) newItem).staticAttr());
  }
}
