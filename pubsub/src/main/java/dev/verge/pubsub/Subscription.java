package dev.verge.pubsub;

import com.google.protobuf.Message;
import java.util.Map;
import java.util.Optional;

/** A subscriber's view of one topic. Its reads are safe from any thread. */
public interface Subscription<T extends Message> extends AutoCloseable {

  Topic<T> topic();

  /** The value last delivered to the handler for this key. */
  Optional<T> get(String key);

  /** A copy of the values delivered to the handler so far. */
  Map<String, T> snapshot();

  /** True once {@link SubscriptionHandler#onSynchronized()} ran. */
  boolean isSynchronized();

  /** True once {@link SubscriptionHandler#onRestarted()} ran. */
  boolean isRestarted();

  /** What the current publisher announced at the last handshake, if one happened. */
  Optional<PublisherInfo> publisher();

  @Override
  void close();
}
