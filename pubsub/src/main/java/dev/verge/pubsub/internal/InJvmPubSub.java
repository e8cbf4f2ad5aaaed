package dev.verge.pubsub.internal;

import com.google.protobuf.Message;
import dev.verge.pubsub.AgentLoop;
import dev.verge.pubsub.Durability;
import dev.verge.pubsub.PubSub;
import dev.verge.pubsub.PubSubConfig;
import dev.verge.pubsub.PubSubMetrics;
import dev.verge.pubsub.Publication;
import dev.verge.pubsub.Subscription;
import dev.verge.pubsub.SubscriptionHandler;
import dev.verge.pubsub.Topic;
import dev.verge.pubsub.TopicAlreadyPublishedException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * All agents in one JVM: a publication hands its changes straight to each subscriber's pending
 * map (no copy: protobuf messages are immutable). Any number of subscribers per topic; a
 * subscriber outlives its publisher and resynchronises with the next one.
 */
public final class InJvmPubSub implements PubSub {
  private final BusParts parts;
  private final Map<String, TopicEntry> topics = new HashMap<>();
  private boolean closed;

  /** A topic's current publisher (if any) and its subscribers. Guarded by the bus lock. */
  private static final class TopicEntry {
    final Topic<?> topic;
    DefaultPublication<?> publication;
    final List<SubscriberCore<?>> subscribers = new ArrayList<>();

    TopicEntry(Topic<?> topic) {
      this.topic = topic;
    }
  }

  public InJvmPubSub(PubSubConfig config) {
    this.parts = new BusParts(config);
  }

  @Override
  public synchronized <T extends Message> Publication<T> publish(
      Topic<T> topic, Durability durability) {
    requireOpen();
    var entry = entry(topic);
    if (entry.publication != null) {
      throw new TopicAlreadyPublishedException(topic.name(), "in this JVM");
    }
    var publication = parts.publication(topic, durability, p -> released(entry, p));
    entry.publication = publication;
    for (var subscriber : entry.subscribers) {
      publication.attach(cast(subscriber));
    }
    return publication;
  }

  @Override
  public synchronized <T extends Message> Subscription<T> subscribe(
      Topic<T> topic, AgentLoop loop, SubscriptionHandler<T> handler, Durability expected) {
    requireOpen();
    var entry = entry(topic);
    var core = parts.subscriber(topic, loop, handler, expected, c -> unsubscribed(entry, c));
    entry.subscribers.add(core);
    if (entry.publication != null) {
      DefaultPublication<T> publication = cast(entry.publication);
      publication.attach(core);
    }
    return core;
  }

  @Override
  public PubSubMetrics metrics() {
    return parts.counters.snapshot();
  }

  @Override
  public void close() {
    List<DefaultPublication<?>> publications = new ArrayList<>();
    List<SubscriberCore<?>> subscribers = new ArrayList<>();
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      for (var entry : topics.values()) {
        if (entry.publication != null) {
          publications.add(entry.publication);
        }
        subscribers.addAll(entry.subscribers);
      }
    }
    subscribers.forEach(SubscriberCore::close);
    publications.forEach(DefaultPublication::abandon);
    parts.close();
  }

  private TopicEntry entry(Topic<?> topic) {
    var entry = topics.computeIfAbsent(topic.name(), name -> new TopicEntry(topic));
    if (!entry.topic.messageType().equals(topic.messageType())) {
      throw new IllegalArgumentException(
          "topic " + topic + " carries " + entry.topic.messageType() + ", not "
              + topic.messageType());
    }
    return entry;
  }

  private synchronized void released(TopicEntry entry, DefaultPublication<?> publication) {
    if (entry.publication == publication) {
      entry.publication = null;
    }
  }

  private void unsubscribed(TopicEntry entry, SubscriberCore<?> core) {
    DefaultPublication<?> publication;
    synchronized (this) {
      entry.subscribers.remove(core);
      publication = entry.publication;
    }
    if (publication != null) {
      publication.detach(cast(core));
    }
  }

  @SuppressWarnings("unchecked")
  private static <X> X cast(Object o) {
    return (X) o;
  }

  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException("bus is closed");
    }
  }
}
