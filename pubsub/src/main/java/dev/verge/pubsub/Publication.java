package dev.verge.pubsub;

import com.google.protobuf.Message;
import java.util.Map;
import java.util.Optional;

/** The single publisher of a topic. Thread-safe. */
public interface Publication<T extends Message> extends AutoCloseable {

  Topic<T> topic();

  Durability durability();

  /**
   * Sets the value of a key and notifies subscribers.
   *
   * @return false when the key already had an equal value (nothing happens)
   * @throws IllegalArgumentException for an invalid key or a value of another type
   * @throws MessageTooLargeException when the serialized value exceeds the bus limit
   * @throws IllegalStateException when the publication is closed
   */
  boolean publish(String key, T value);

  /**
   * Removes a key and notifies subscribers.
   *
   * @return false when the key was not published
   */
  boolean unpublish(String key);

  Optional<T> get(String key);

  /** A copy of the current state. */
  Map<String, T> snapshot();

  /**
   * Declares the state restored after a (re)start: subscribers get {@link
   * SubscriptionHandler#onRestarted()} after every key published before this call.
   */
  void signalRestarted();

  /**
   * Releases the topic. A volatile publication unpublishes its keys first; a persistent one keeps
   * them on disk for the next instance.
   */
  @Override
  void close();
}
