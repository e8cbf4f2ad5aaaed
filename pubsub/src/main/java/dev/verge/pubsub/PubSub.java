package dev.verge.pubsub;

import com.google.protobuf.Message;
import dev.verge.pubsub.internal.InJvmPubSub;
import dev.verge.pubsub.internal.UnixSocketPubSub;

/**
 * The bus: typed, keyed topics with one publisher and any number of subscribers. Both drivers
 * have the same semantics; pick in-JVM when all agents share a process (the default) and Unix
 * sockets when each agent runs as its own process.
 */
public interface PubSub extends AutoCloseable {

  /** All publishers and subscribers in this JVM share this instance. */
  static PubSub inJvm(PubSubConfig config) {
    return new InJvmPubSub(config);
  }

  /** Publishers listen and subscribers connect on Unix domain sockets under the socket dir. */
  static PubSub unixSockets(PubSubConfig config) {
    return new UnixSocketPubSub(config);
  }

  /**
   * Becomes the publisher of a topic. A persistent publication first restores its state from the
   * state directory, then is announced.
   *
   * @throws TopicAlreadyPublishedException when the topic has a publisher
   */
  <T extends Message> Publication<T> publish(Topic<T> topic, Durability durability);

  /**
   * Becomes the publisher of a topic whose changes are made on {@code loop} (as an agent's are).
   * The socket driver then serves the subscriber connections on that loop: a change reaches the
   * sockets without waking another thread, and the changes of one task go out together when it
   * ends. Publishing from other threads still works. The connections close with the loop.
   */
  default <T extends Message> Publication<T> publish(
      Topic<T> topic, Durability durability, AgentLoop loop) {
    return publish(topic, durability);
  }

  /** Subscribes without a durability expectation. */
  default <T extends Message> Subscription<T> subscribe(
      Topic<T> topic, AgentLoop loop, SubscriptionHandler<T> handler) {
    return subscribe(topic, loop, handler, null);
  }

  /**
   * Subscribes to a topic, published yet or not. Handlers run on {@code loop}. When {@code
   * expected} is not null and the publisher announces another durability, the mismatch is logged
   * and counted (the data is still delivered).
   */
  <T extends Message> Subscription<T> subscribe(
      Topic<T> topic, AgentLoop loop, SubscriptionHandler<T> handler, Durability expected);

  PubSubMetrics metrics();

  /** Closes every publication and subscription of this instance. */
  @Override
  void close();
}
