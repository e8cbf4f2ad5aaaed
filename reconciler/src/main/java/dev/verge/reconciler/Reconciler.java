package dev.verge.reconciler;

import dev.verge.reconciler.internal.ReconcileRun;

/**
 * Drives a current-state graph towards an intended one, in dependency order. Stateless: what it
 * must remember between runs (background operations, what is known to differ) lives in the
 * current graph, so any instance can resume.
 */
public interface Reconciler {
  /**
   * Runs one reconcile. {@code current} may be null (a new graph named after the intent);
   * {@code intended} may be null (remove everything in {@code current}). Either may be a subgraph,
   * for a selective reconcile.
   */
  Status reconcile(Graph current, GraphR intended);

  static Reconciler create(ConfiguratorRegistry registry) {
    return create(registry, ReconcilerOptions.DEFAULT);
  }

  static Reconciler create(ConfiguratorRegistry registry, ReconcilerOptions options) {
    return (current, intended) -> ReconcileRun.run(registry, options, current, intended);
  }
}
