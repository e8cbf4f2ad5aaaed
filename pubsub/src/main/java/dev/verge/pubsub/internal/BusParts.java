package dev.verge.pubsub.internal;

import com.google.protobuf.Message;
import dev.verge.pubsub.AgentLoop;
import dev.verge.pubsub.Durability;
import dev.verge.pubsub.PubSubConfig;
import dev.verge.pubsub.SubscriptionHandler;
import dev.verge.pubsub.Topic;
import java.util.function.Consumer;

/**
 * Makes the publication and subscriber halves the same way for every driver, so the drivers
 * differ only in how the halves are connected.
 */
final class BusParts implements AutoCloseable {
  final PubSubConfig config;
  final BusCounters counters = new BusCounters();
  private final HandlerWatchdog watchdog;

  BusParts(PubSubConfig config) {
    this.config = config;
    this.watchdog = new HandlerWatchdog(config.slowHandlerThreshold());
  }

  /** A publication, restored from {@code <stateDir>/<agent>/<Type>/} when persistent. */
  <T extends Message> DefaultPublication<T> publication(
      Topic<T> topic, Durability durability, Consumer<DefaultPublication<?>> onClose) {
    TopicStore store = null;
    if (durability == Durability.PERSISTENT) {
      var stateDir =
          config
              .stateDir()
              .orElseThrow(
                  () ->
                      new IllegalStateException(
                          "topic " + topic + " is persistent but the bus has no state directory"));
      store =
          new TopicStore(
              stateDir.resolve(topic.agent()).resolve(topic.type()), topic.name(), counters);
    }
    return new DefaultPublication<>(
        topic, durability, store, config.maxMessageBytes(), counters, onClose);
  }

  <T extends Message> SubscriberCore<T> subscriber(
      Topic<T> topic,
      AgentLoop loop,
      SubscriptionHandler<T> handler,
      Durability expected,
      Consumer<SubscriberCore<?>> onClose) {
    var core =
        new SubscriberCore<>(
            topic,
            loop,
            handler,
            expected,
            counters,
            config.slowHandlerThreshold().toNanos(),
            c -> {
              watchdog.unwatch(c);
              onClose.accept(c);
            });
    watchdog.watch(core);
    return core;
  }

  @Override
  public void close() {
    watchdog.close();
  }
}
