package dev.verge.pubsub.internal;

import com.google.protobuf.Message;
import dev.verge.pubsub.Durability;
import dev.verge.pubsub.Keys;
import dev.verge.pubsub.MessageTooLargeException;
import dev.verge.pubsub.Publication;
import dev.verge.pubsub.PublisherInfo;
import dev.verge.pubsub.Topic;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The publisher side shared by both drivers: validation, equality, size limit, persistence and
 * fan-out to {@link PublicationSink}s. Every change happens under the instance lock, so each sink
 * sees changes in publication order.
 */
final class DefaultPublication<T extends Message> implements Publication<T> {
  private static final Logger log = LoggerFactory.getLogger(DefaultPublication.class);
  private static final SecureRandom EPOCHS = new SecureRandom();

  private final Topic<T> topic;
  private final Durability durability;
  private final TopicStore store; // null when volatile
  private final int maxMessageBytes;
  private final BusCounters counters;
  private final Consumer<DefaultPublication<?>> onClose;
  private final long epoch = EPOCHS.nextLong() | 1; // never 0: 0 means "no publisher seen"
  private final Map<String, T> state;
  private final List<PublicationSink<T>> sinks = new ArrayList<>();
  private long restartCounter;
  private boolean closed;

  DefaultPublication(
      Topic<T> topic,
      Durability durability,
      TopicStore store,
      int maxMessageBytes,
      BusCounters counters,
      Consumer<DefaultPublication<?>> onClose) {
    this.topic = topic;
    this.durability = durability;
    this.store = store;
    this.maxMessageBytes = maxMessageBytes;
    this.counters = counters;
    this.onClose = onClose;
    // Restore before anyone can attach: subscribers never see a half-restored state.
    this.state = store == null ? new HashMap<>() : store.load(topic.parser());
    if (store != null) {
      log.info("topic {}: restored {} keys from {}", topic, state.size(), store.dir());
    }
  }

  @Override
  public Topic<T> topic() {
    return topic;
  }

  @Override
  public Durability durability() {
    return durability;
  }

  @Override
  public synchronized boolean publish(String key, T value) {
    Keys.validate(key);
    Objects.requireNonNull(value, "value");
    if (!topic.accepts(value)) {
      throw new IllegalArgumentException(
          "topic " + topic + " carries " + topic.messageType() + ", not "
              + value.getDescriptorForType().getFullName());
    }
    int size = value.getSerializedSize();
    if (size > maxMessageBytes) {
      counters.refusedOversized.increment();
      throw new MessageTooLargeException(topic.name(), key, size, maxMessageBytes);
    }
    requireOpen();
    T old = state.get(key);
    if (value.equals(old)) {
      return false;
    }
    if (store != null) {
      store.write(key, value.toByteArray());
    }
    state.put(key, value);
    for (int i = 0; i < sinks.size(); i++) {
      sinks.get(i).update(key, value);
    }
    counters.published.increment();
    return true;
  }

  @Override
  public synchronized boolean unpublish(String key) {
    Keys.validate(key);
    requireOpen();
    if (!state.containsKey(key)) {
      return false;
    }
    if (store != null) {
      store.delete(key);
    }
    state.remove(key);
    for (var sink : sinks) {
      sink.delete(key);
    }
    counters.unpublished.increment();
    return true;
  }

  @Override
  public synchronized Optional<T> get(String key) {
    return Optional.ofNullable(state.get(key));
  }

  @Override
  public synchronized Map<String, T> snapshot() {
    return Map.copyOf(state);
  }

  @Override
  public synchronized void signalRestarted() {
    requireOpen();
    restartCounter++;
    log.info("topic {}: publisher declares its state restored ({})", topic, restartCounter);
    for (var sink : sinks) {
      sink.restarted(epoch, restartCounter);
    }
  }

  synchronized PublisherInfo info() {
    return new PublisherInfo(topic.name(), topic.messageType(), durability, epoch, restartCounter);
  }

  /** Sends the full state to the sink, then every later change. */
  synchronized void attach(PublicationSink<T> sink) {
    if (closed) {
      return; // the next publisher of the topic will attach it
    }
    sink.beginSnapshot(info());
    state.forEach(sink::update);
    sink.endSnapshot(); // the info above carries the restart counter
    sinks.add(sink);
  }

  synchronized void detach(PublicationSink<T> sink) {
    sinks.remove(sink);
  }

  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      if (durability == Durability.VOLATILE) {
        for (String key : List.copyOf(state.keySet())) {
          unpublish(key);
        }
      }
      closed = true;
      sinks.clear();
    }
    onClose.accept(this);
  }

  /** Leaves without unpublishing, as a crash would: used by the owning bus when it closes. */
  void abandon() {
    synchronized (this) {
      closed = true;
      sinks.clear();
    }
    onClose.accept(this);
  }

  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException("publication of " + topic + " is closed");
    }
  }
}
