package dev.verge.pubsub;

import com.google.protobuf.Message;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Records every callback, in order, and mirrors the state the handlers were told about. A callback
 * that breaks the bus contract (a create for a known key, a modify or delete that does not match
 * what was delivered) is recorded as a violation, which the test asserts from its own thread
 * ({@link #violations()}): an exception thrown here would only reach the loop's log.
 */
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
  private final List<String> violations = new ArrayList<>();
  private volatile int keysAtSynchronized = -1;
  private volatile int keysAtRestarted = -1;

  @Override
  public synchronized void onCreate(String key, T value) {
    if (mirror.put(key, value) != null) {
      violations.add("create for a key already created: " + key);
    }
    events.add(new Event<>(Kind.CREATE, key, null, value));
  }

  @Override
  public synchronized void onModify(String key, T oldValue, T newValue) {
    if (!oldValue.equals(mirror.get(key)) || oldValue.equals(newValue)) {
      violations.add("bad modify of " + key + ": " + oldValue + " -> " + newValue);
    }
    mirror.put(key, newValue);
    events.add(new Event<>(Kind.MODIFY, key, oldValue, newValue));
  }

  @Override
  public synchronized void onDelete(String key, T lastValue) {
    if (!lastValue.equals(mirror.remove(key))) {
      violations.add("bad delete of " + key + ": " + lastValue);
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

  /** Contract violations seen by the callbacks, in order; empty when the bus behaved. */
  synchronized List<String> violations() {
    return List.copyOf(violations);
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
