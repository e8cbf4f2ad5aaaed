package dev.verge.pubsub;

import com.google.protobuf.Message;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/** Records every callback, in order, and mirrors the state the handlers were told about. */
final class RecordingHandler<T extends Message> implements SubscriptionHandler<T> {

  enum Kind {
    CREATE,
    MODIFY,
    DELETE,
    SYNCHRONIZED,
    RESTARTED
  }

  record Event<T>(Kind kind, String key, T oldValue, T newValue) {}

  private final List<Event<T>> events = new ArrayList<>();
  private final Map<String, T> mirror = new HashMap<>();
  private volatile int keysAtSynchronized = -1;
  private volatile int keysAtRestarted = -1;

  @Override
  public synchronized void onCreate(String key, T value) {
    if (mirror.put(key, value) != null) {
      throw new AssertionError("create for a key already created: " + key);
    }
    events.add(new Event<>(Kind.CREATE, key, null, value));
  }

  @Override
  public synchronized void onModify(String key, T oldValue, T newValue) {
    if (!oldValue.equals(mirror.get(key)) || oldValue.equals(newValue)) {
      throw new AssertionError("bad modify of " + key + ": " + oldValue + " -> " + newValue);
    }
    mirror.put(key, newValue);
    events.add(new Event<>(Kind.MODIFY, key, oldValue, newValue));
  }

  @Override
  public synchronized void onDelete(String key, T lastValue) {
    if (!lastValue.equals(mirror.remove(key))) {
      throw new AssertionError("bad delete of " + key + ": " + lastValue);
    }
    events.add(new Event<>(Kind.DELETE, key, lastValue, null));
  }

  @Override
  public synchronized void onSynchronized() {
    keysAtSynchronized = mirror.size();
    events.add(new Event<>(Kind.SYNCHRONIZED, null, null, null));
  }

  @Override
  public synchronized void onRestarted() {
    keysAtRestarted = mirror.size();
    events.add(new Event<>(Kind.RESTARTED, null, null, null));
  }

  synchronized List<Event<T>> events() {
    return List.copyOf(events);
  }

  synchronized List<Event<T>> events(Kind kind) {
    return events.stream().filter(e -> e.kind() == kind).toList();
  }

  synchronized long count(Predicate<Event<T>> predicate) {
    return events.stream().filter(predicate).count();
  }

  synchronized Map<String, T> mirror() {
    return Map.copyOf(mirror);
  }

  int keysAtSynchronized() {
    return keysAtSynchronized;
  }

  int keysAtRestarted() {
    return keysAtRestarted;
  }
}
