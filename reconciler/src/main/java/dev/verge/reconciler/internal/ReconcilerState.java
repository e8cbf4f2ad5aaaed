package dev.verge.reconciler.internal;

import dev.verge.reconciler.ItemRef;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/** What the reconciler keeps in the private data of a current-state root graph between runs. */
final class ReconcilerState {
  final AsyncOps asyncOps = new AsyncOps();
  /** Background operation of each item in transition. */
  final Map<ItemRef, AsyncOps.Op> opByItem = new HashMap<>();
  /** Where the last root-to-root run left off, for incremental diffs; null forces a full diff. */
  SyncMarker marker;

  /**
   * After a root run against intended store {@code intendedStoreId}: journal positions of both
   * graphs, the items still differing, and the items on rejected cycles.
   */
  record SyncMarker(
      long intendedStoreId, long intendedPosition, long currentPosition, Set<ItemRef> residual, Set<ItemRef> cyclic) {}
}
