package dev.verge.agent;

import dev.verge.hostos.Errno;
import dev.verge.hostos.HostException;
import dev.verge.reconciler.Item;
import dev.verge.reconciler.OpContext;

/**
 * A {@link dev.verge.reconciler.Configurator} that can take over the kernel object an earlier run
 * left under an item's identity instead of deleting it and creating it again. An agent's create
 * that meets such a leftover (EEXIST) otherwise replaces it, which for some objects is costly: the
 * kernel's removal of a bridge waits for RCU grace periods (~40 ms each, most of a restarted
 * zedrouter's first reconcile with ten NIs).
 */
public interface LeftoverAdopter {
  /**
   * Brings the leftover to exactly the state the item's create would have made, dropping whatever
   * else the earlier run had hung on it, since the agent's current state does not know it.
   *
   * @return false when the leftover is not of the item's kind (then it is replaced)
   */
  boolean adoptLeftover(OpContext ctx, Item item) throws Exception;

  /**
   * Runs one step of a reset that another agent's restart may overtake (a bridge's port or a
   * tap's address that agent removes at the same time): gone counts as done, any other refusal
   * fails the adoption.
   */
  static void ignoringGone(Runnable step) {
    try {
      step.run();
    } catch (HostException e) {
      if (e.errno() != Errno.ENODEV && e.errno() != Errno.EADDRNOTAVAIL) {
        throw e;
      }
    }
  }
}
