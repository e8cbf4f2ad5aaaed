package dev.verge.agent.internal;

import dev.verge.agent.LeftoverAdopter;
import dev.verge.hostos.Errno;
import dev.verge.hostos.HostException;
import dev.verge.reconciler.Configurator;
import dev.verge.reconciler.Item;
import dev.verge.reconciler.OpContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates over what an earlier run of the agent left in the kernel. An agent starts from an empty
 * current state, but after a crash (kill -9, OOM, power loss of the process only) the kernel still
 * holds its bridges, taps, addresses and rules: their create fails with EEXIST and, retried as it
 * is, would fail forever. The object under the item's identity is removed with the item's own
 * delete and created again, so the agent converges on its intent, not on a guess about what the
 * leftover holds. A configurator that can reset the leftover to the item's state more cheaply
 * adopts it instead ({@link LeftoverAdopter}).
 */
public final class LeftoverReplacingConfigurator implements Configurator {
  private static final Logger log = LoggerFactory.getLogger(LeftoverReplacingConfigurator.class);

  private final Configurator configurator;

  public LeftoverReplacingConfigurator(Configurator configurator) {
    this.configurator = configurator;
  }

  @Override
  public void create(OpContext ctx, Item item) throws Exception {
    try {
      configurator.create(ctx, item);
    } catch (HostException e) {
      if (e.errno() != Errno.EEXIST) {
        throw e;
      }
      if (configurator instanceof LeftoverAdopter adopter && adopter.adoptLeftover(ctx, item)) {
        log.info("{} {}: already in the kernel (left by an earlier run?): adopted", item.type(), item.name());
        return;
      }
      log.info("{} {}: already in the kernel (left by an earlier run?): replacing it", item.type(), item.name());
      configurator.delete(ctx, item);
      configurator.create(ctx, item);
    }
  }

  @Override
  public void modify(OpContext ctx, Item oldItem, Item newItem) throws Exception {
    configurator.modify(ctx, oldItem, newItem);
  }

  @Override
  public void delete(OpContext ctx, Item item) throws Exception {
    configurator.delete(ctx, item);
  }

  @Override
  public boolean needsRecreate(Item oldItem, Item newItem) {
    return configurator.needsRecreate(oldItem, newItem);
  }
}
