package dev.verge.agent.internal;

import com.google.protobuf.Message;
import dev.verge.agent.Input;
import dev.verge.pubsub.AgentLoop;
import dev.verge.pubsub.PubSub;
import dev.verge.pubsub.Subscription;
import dev.verge.pubsub.SubscriptionHandler;
import dev.verge.pubsub.Topic;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/** An agent's input: a bus subscription whose changes go to the agent's listener, then the runtime. */
public final class InputSubscription<T extends Message> implements Input<T> {

  /** What the runtime hears from an input. All on the agent's loop. */
  public interface Events {
    void changed();

    void synchronizedNow();

    void listenerFailed(RuntimeException e);
  }

  private final Topic<T> topic;
  private final Subscription<T> subscription;

  public InputSubscription(
      PubSub bus, AgentLoop loop, Topic<T> topic, SubscriptionHandler<T> listener, Events events) {
    this.topic = topic;
    this.subscription =
        bus.subscribe(
            topic,
            loop,
            new SubscriptionHandler<>() {
              @Override
              public void onCreate(String key, T value) {
                if (listener != null) {
                  call(() -> listener.onCreate(key, value));
                }
                events.changed();
              }

              @Override
              public void onModify(String key, T oldValue, T newValue) {
                if (listener != null) {
                  call(() -> listener.onModify(key, oldValue, newValue));
                }
                events.changed();
              }

              @Override
              public void onDelete(String key, T lastValue) {
                if (listener != null) {
                  call(() -> listener.onDelete(key, lastValue));
                }
                events.changed();
              }

              @Override
              public void onSynchronized() {
                if (listener != null) {
                  call(listener::onSynchronized);
                }
                events.synchronizedNow();
              }

              @Override
              public void onRestarted() {
                if (listener != null) {
                  call(listener::onRestarted);
                }
              }

              private void call(Runnable call) {
                try {
                  call.run();
                } catch (RuntimeException e) {
                  events.listenerFailed(e);
                }
              }
            });
  }

  @Override
  public Topic<T> topic() {
    return topic;
  }

  @Override
  public Optional<T> get(String key) {
    return subscription.get(key);
  }

  @Override
  public SortedMap<String, T> all() {
    return new TreeMap<>(subscription.snapshot());
  }

  @Override
  public boolean isSynchronized() {
    return subscription.isSynchronized();
  }

  public void close() {
    subscription.close();
  }
}
