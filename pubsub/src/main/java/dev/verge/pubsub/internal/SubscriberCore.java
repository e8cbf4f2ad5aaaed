package dev.verge.pubsub.internal;

import com.google.protobuf.Message;
import dev.verge.pubsub.AgentLoop;
import dev.verge.pubsub.Durability;
import dev.verge.pubsub.LoopFailures;
import dev.verge.pubsub.PublisherInfo;
import dev.verge.pubsub.Subscription;
import dev.verge.pubsub.SubscriptionHandler;
import dev.verge.pubsub.Topic;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The subscriber side shared by both drivers. Changes arrive on any thread into a pending map
 * (key → latest value or deletion), which coalesces them while the agent loop is busy; a drain
 * task on the agent loop then runs the handlers. Create vs modify is decided against the values
 * already delivered, and equal values are dropped.
 *
 * <p>Resynchronisation (mark-and-sweep): the core tracks the keys its publisher announced. A new
 * dump (after a reconnect or a new publisher instance) marks the keys it carries; at its end every
 * announced key it did not carry is queued as a delete.
 */
final class SubscriberCore<T extends Message> implements PublicationSink<T>, Subscription<T> {
  private static final Logger log = LoggerFactory.getLogger(SubscriberCore.class);
  private static final Object DELETED = new Object();

  private final Topic<T> topic;
  private final AgentLoop loop;
  private final SubscriptionHandler<T> handler;
  private final Durability expected;
  private final BusCounters counters;
  private final long slowNanos;
  private final Consumer<SubscriberCore<?>> onClose;
  private final Runnable drainTask = this::drain;

  private final Object lock = new Object();
  // Guarded by lock.
  private LinkedHashMap<String, Object> pending = new LinkedHashMap<>();
  private LinkedHashMap<String, Object> spare = new LinkedHashMap<>();
  private final Set<String> announced = new HashSet<>();
  private Set<String> dumpKeys; // non-null while a dump is in progress
  private PublisherInfo dumpInfo;
  private boolean synchronizedQueued;
  private boolean synchronizedPending;
  private boolean restartedPending;
  private long lastRestartEpoch;
  private long lastRestartCounter;
  private boolean drainScheduled;
  private boolean closed;

  // Written on the agent loop only; read from anywhere.
  private final Map<String, T> delivered = new ConcurrentHashMap<>();
  private volatile boolean isSynchronized;
  private volatile boolean isRestarted;
  private volatile PublisherInfo publisher;

  // The handler call in progress, for the watchdog: start time (0 = none) and key.
  private final AtomicLong callStart = new AtomicLong();
  private String callKey;
  private long stuckReported; // watchdog thread only

  SubscriberCore(
      Topic<T> topic,
      AgentLoop loop,
      SubscriptionHandler<T> handler,
      Durability expected,
      BusCounters counters,
      long slowNanos,
      Consumer<SubscriberCore<?>> onClose) {
    this.topic = topic;
    this.loop = loop;
    this.handler = handler;
    this.expected = expected;
    this.counters = counters;
    this.slowNanos = slowNanos;
    this.onClose = onClose;
  }

  // ---- PublicationSink: any thread, in publication order ----

  @Override
  public void beginSnapshot(PublisherInfo info) {
    if (expected != null && info.durability() != expected) {
      counters.durabilityMismatches.increment();
      log.warn(
          "topic {}: subscriber expects a {} publication but the publisher is {}",
          topic,
          expected,
          info.durability());
    }
    publisher = info;
    synchronized (lock) {
      dumpKeys = new HashSet<>();
      dumpInfo = info;
    }
  }

  @Override
  public void update(String key, T value) {
    synchronized (lock) {
      if (closed) {
        return;
      }
      announced.add(key);
      if (dumpKeys != null) {
        dumpKeys.add(key);
      }
      if (pending.put(key, value) != null) {
        counters.coalesced.increment();
      }
      scheduleDrain();
    }
  }

  @Override
  public void delete(String key) {
    synchronized (lock) {
      if (closed) {
        return;
      }
      queueDelete(key);
      scheduleDrain();
    }
  }

  @Override
  public void endSnapshot() {
    synchronized (lock) {
      if (closed || dumpKeys == null) {
        return;
      }
      for (String key : Set.copyOf(announced)) {
        if (!dumpKeys.contains(key)) {
          log.debug("topic {}: key {} vanished while disconnected", topic, key);
          queueDelete(key);
        }
      }
      dumpKeys = null;
      if (!synchronizedQueued) {
        synchronizedQueued = true;
        synchronizedPending = true;
      }
      noteRestart(dumpInfo.epoch(), dumpInfo.restartCounter());
      scheduleDrain();
    }
  }

  @Override
  public void restarted(long epoch, long restartCounter) {
    synchronized (lock) {
      if (closed) {
        return;
      }
      noteRestart(epoch, restartCounter);
      scheduleDrain();
    }
  }

  private void queueDelete(String key) {
    announced.remove(key);
    if (pending.put(key, DELETED) != null) {
      counters.coalesced.increment();
    }
  }

  /** One signal per publisher instance and declaration. */
  private void noteRestart(long epoch, long restartCounter) {
    if (restartCounter > 0
        && (epoch != lastRestartEpoch || restartCounter != lastRestartCounter)) {
      lastRestartEpoch = epoch;
      lastRestartCounter = restartCounter;
      restartedPending = true;
    }
  }

  private void scheduleDrain() {
    if (!drainScheduled) {
      drainScheduled = true;
      loop.execute(drainTask);
    }
  }

  // ---- the agent loop ----

  private void drain() {
    LinkedHashMap<String, Object> batch;
    boolean signalSynchronized;
    boolean signalRestarted;
    synchronized (lock) {
      drainScheduled = false;
      if (closed) {
        return;
      }
      batch = pending;
      pending = spare != null ? spare : new LinkedHashMap<>();
      spare = null;
      signalSynchronized = synchronizedPending;
      signalRestarted = restartedPending;
      synchronizedPending = false;
      restartedPending = false;
    }
    for (var e : batch.entrySet()) {
      apply(e.getKey(), e.getValue());
    }
    batch.clear();
    synchronized (lock) {
      spare = batch;
    }
    // Keys first, then signals: a signal covers every change queued before it.
    if (signalSynchronized) {
      isSynchronized = true;
      call(Call.SYNCHRONIZED, "synchronized", null, null);
    }
    if (signalRestarted) {
      isRestarted = true;
      call(Call.RESTARTED, "restarted", null, null);
    }
  }

  @SuppressWarnings("unchecked")
  private void apply(String key, Object change) {
    T old = delivered.get(key);
    if (change == DELETED) {
      if (old != null) {
        delivered.remove(key);
        call(Call.DELETE, key, old, null);
      }
      return;
    }
    T value = (T) change;
    if (old == null) {
      delivered.put(key, value);
      call(Call.CREATE, key, null, value);
    } else if (!old.equals(value)) {
      delivered.put(key, value);
      call(Call.MODIFY, key, old, value);
    }
  }

  private enum Call {
    CREATE,
    MODIFY,
    DELETE,
    SYNCHRONIZED,
    RESTARTED
  }

  /**
   * Runs one handler call under the slow-handler watchdog. A switch rather than a lambda per call:
   * the delivery path allocates nothing of its own.
   */
  private void call(Call kind, String key, T old, T value) {
    long start = System.nanoTime();
    callKey = key; // published to the watchdog by the release store below
    callStart.lazySet(start);
    try {
      switch (kind) {
        case CREATE -> handler.onCreate(key, value);
        case MODIFY -> handler.onModify(key, old, value);
        case DELETE -> handler.onDelete(key, old);
        case SYNCHRONIZED -> handler.onSynchronized();
        case RESTARTED -> handler.onRestarted();
      }
    } catch (RuntimeException | AssertionError e) {
      counters.handlerErrors.increment();
      LoopFailures.report(log, "topic " + topic + " key " + key + ": handler", e);
    } finally {
      callStart.lazySet(0);
      long took = System.nanoTime() - start;
      counters.delivered.increment();
      if (took > slowNanos) {
        counters.slowHandlers.increment();
        log.warn(
            "topic {} key {}: slow handler took {} ms on agent loop {}",
            topic,
            key,
            took / 1_000_000,
            loop.name());
      }
    }
  }

  /** Called by the {@link HandlerWatchdog}: warns once per call that outlives the threshold. */
  void reportIfStuck(long now) {
    long start = callStart.get();
    if (start != 0 && now - start > slowNanos && start != stuckReported) {
      stuckReported = start;
      counters.stalledHandlers.increment();
      log.warn(
          "topic {} key {}: handler still running after {} ms on agent loop {}",
          topic,
          callKey,
          (now - start) / 1_000_000,
          loop.name());
    }
  }

  // ---- Subscription ----

  @Override
  public Topic<T> topic() {
    return topic;
  }

  @Override
  public Optional<T> get(String key) {
    return Optional.ofNullable(delivered.get(key));
  }

  @Override
  public Map<String, T> snapshot() {
    return Map.copyOf(delivered);
  }

  @Override
  public boolean isSynchronized() {
    return isSynchronized;
  }

  @Override
  public boolean isRestarted() {
    return isRestarted;
  }

  @Override
  public Optional<PublisherInfo> publisher() {
    return Optional.ofNullable(publisher);
  }

  @Override
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      pending.clear();
    }
    onClose.accept(this);
  }
}
