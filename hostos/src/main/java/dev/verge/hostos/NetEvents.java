package dev.verge.hostos;

import java.util.function.Consumer;

/** Announcements of link, address and route changes. */
public interface NetEvents {
  /**
   * Calls the listener, on one thread of the backend's, for every change from now on; if events
   * were lost it gets a {@link NetEvent.Resynced} with the whole state.
   */
  Subscription subscribe(Consumer<NetEvent> listener);

  /** Ends a subscription. */
  interface Subscription extends AutoCloseable {
    @Override
    void close();
  }
}
