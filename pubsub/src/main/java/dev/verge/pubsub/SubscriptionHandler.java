package dev.verge.pubsub;

import com.google.protobuf.Message;

/**
 * Callbacks of a subscription. All run on the subscriber's {@link AgentLoop} thread, one at a
 * time, so agent code needs no locks. Under back-pressure changes coalesce: a handler may skip
 * intermediate values but never sees a value older than one it has seen.
 */
public interface SubscriptionHandler<T extends Message> {

  /** A key appeared. */
  default void onCreate(String key, T value) {}

  /** A key's value changed (never called with equal values). */
  default void onModify(String key, T oldValue, T newValue) {}

  /** A key disappeared; {@code lastValue} is the last value delivered. */
  default void onDelete(String key, T lastValue) {}

  /** The publisher's state at subscription time has been delivered. Called once. */
  default void onSynchronized() {}

  /**
   * The publisher declared its state restored after a (re)start. Called once per publisher
   * instance and declaration, after the keys published before the declaration.
   */
  default void onRestarted() {}
}
