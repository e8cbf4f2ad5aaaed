package dev.verge.reconciler;

/**
 * For items the kernel cannot change in place (an address, a route, a rule, a listening socket):
 * any change is a delete and a create, so {@link #modify} is never called.
 */
public abstract class RecreatedConfigurator implements Configurator {
  @Override
  public final void modify(OpContext ctx, Item oldItem, Item newItem) {
    throw new UnsupportedOperationException("recreated, never modified");
  }

  @Override
  public boolean needsRecreate(Item oldItem, Item newItem) {
    return true;
  }
}
