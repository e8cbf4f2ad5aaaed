package dev.verge.pubsub;

import com.google.protobuf.Message;
import dev.verge.testkit.UncaughtFailures;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Records every callback, in order, and mirrors the state the handlers were told about. A callback
 * that breaks the bus contract (a create for a known key, a modify or delete that does not match
 * what was delivered, a second synchronized signal) is recorded as a violation: the test asserts
 * them from its own thread ({@link #violations()}), and each is also reported to {@link
 * UncaughtFailures}, so it fails the test even where nobody asserts them. An exception thrown
 * here would only reach the loop's failure report, and a test waiting on the mirror would time out
 * for the wrong reason or pass.
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
      violation("create for a key already created: " + key);
    }
    events.add(new Event<>(Kind.CREATE, key, null, value));
  }

  @Override
  public synchronized void onModify(String key, T oldValue, T newValue) {
    if (!oldValue.equals(mirror.get(key)) || oldValue.equals(newValue)) {
      violation("bad modify of " + key + ": " + oldValue + " -> " + newValue);
    }
    mirror.put(key, newValue);
    events.add(new Event<>(Kind.MODIFY, key, oldValue, newValue));
  }

  @Override
  public synchronized void onDelete(String key, T lastValue) {
    if (!lastValue.equals(mirror.remove(key))) {
      violation("bad delete of " + key + ": " + lastValue);
    }
    events.add(new Event<>(Kind.DELETE, key, lastValue, null));
  }

  @Override
  public synchronized void onSynchronized() {
    if (keysAtSynchronized >= 0) {
      violation("a second synchronized signal");
    }
    keysAtSynchronized = mirror.size();
    events.add(new Event<>(Kind.SYNCHRONIZED, null, null, null));
  }

  @Override
  public synchronized void onRestarted() {
    keysAtRestarted = mirror.size();
    events.add(new Event<>(Kind.RESTARTED, null, null, null));
  }

  private void violation(String what) {
    violations.add(what);
    UncaughtFailures.report(new AssertionError("bus contract broken: " + what));
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
