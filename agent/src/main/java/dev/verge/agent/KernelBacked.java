package dev.verge.agent;

import dev.verge.reconciler.Item;
import java.util.Optional;
import java.util.Set;

/**
 * An item that stands for kernel state (a link, an address, a route). When the kernel reports a
 * change on one of its links, the runtime looks the item up again: gone behind the agent's back,
 * it leaves the current state (and the next reconcile creates it again); changed, its observed
 * value replaces the current one (and the next reconcile sets it back).
 */
public interface KernelBacked {

  /** The links whose kernel events concern this item: its own, or the one it sits on. */
  Set<String> kernelLinks();

  /**
   * This item as the kernel has it now: the item itself (or an equal value) when it matches, the
   * value it drifted to when something else changed it, empty when it is gone.
   */
  Optional<? extends Item> observe(KernelView kernel);
}
