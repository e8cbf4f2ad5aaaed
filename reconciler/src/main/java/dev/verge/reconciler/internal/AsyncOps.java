package dev.verge.reconciler.internal;

import dev.verge.reconciler.Item;
import dev.verge.reconciler.ItemRef;
import dev.verge.reconciler.ResumeListener;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Background operations of one current-state graph. Thread-safe: completion callbacks and cancel
 * requests come from other threads, reconcile runs from the owner's thread.
 */
final class AsyncOps {
  /** One background operation. Fields guarded by the enclosing {@link AsyncOps}. */
  final class Op {
    final long id;
    final ItemRef ref;
    final String graphName;
    final long sequence;
    final Instant startTime;
    /** New value of an item being modified. */
    final Item newItem;
    boolean done;
    Instant endTime;
    Instant cancelTime;
    // Decisions use the monotonic clock: an edge device's wall clock steps (NTP after boot).
    long endNanos;
    long cancelNanos;
    Throwable error;
    final List<Runnable> cancelActions = new ArrayList<>();

    Op(long id, ItemRef ref, String graphName, long sequence, Instant startTime, Item newItem) {
      this.id = id;
      this.ref = ref;
      this.graphName = graphName;
      this.sequence = sequence;
      this.startTime = startTime;
      this.newItem = newItem;
    }

    boolean cancelTimedOut(long nowNanos) {
      if (cancelTime == null) {
        return false;
      }
      long end = done ? endNanos : nowNanos;
      return end - cancelNanos > cancelTimeout.toNanos();
    }

    /** Whether it finished after the monotonic instant {@code nanos}. */
    boolean finishedAfter(long nanos) {
      return done && endNanos - nanos > 0;
    }
  }

  private final Map<Long, Op> ops = new LinkedHashMap<>();
  private final Set<String> resumeSignalled = new HashSet<>();
  private ResumeListener resumeListener = ResumeListener.NONE;
  private long nextId;
  private Duration cancelTimeout = Duration.ofMinutes(1);

  synchronized void reconcileStarts(Duration timeout, ResumeListener listener) {
    cancelTimeout = timeout;
    resumeListener = listener;
    resumeSignalled.clear();
  }

  synchronized Op register(ItemRef ref, String graphName, long sequence, Instant start, Item newItem) {
    Op op = new Op(++nextId, ref, graphName, sequence, start, newItem);
    ops.put(op.id, op);
    return op;
  }

  /** Completion callback of an operation; late calls for forgotten operations are ignored. */
  void done(Op op, Throwable error) {
    ResumeListener toTell = null;
    synchronized (this) {
      if (op.done || ops.get(op.id) != op) {
        return;
      }
      op.done = true;
      op.endTime = Instant.now();
      op.endNanos = System.nanoTime();
      op.error = error;
      // Coalesced: one signal per graph per reconcile run.
      if (resumeSignalled.add(op.graphName)) {
        toTell = resumeListener;
      }
      notifyAll();
    }
    if (toTell != null) {
      toTell.readyToResume(op.graphName); // outside the lock: it may reconcile at once
    }
  }

  synchronized Op get(long id) {
    return ops.get(id);
  }

  synchronized void remove(Op op) {
    ops.remove(op.id);
    notifyAll();
  }

  /** Items whose operation finished, or ignored a cancel for too long. */
  synchronized List<ItemRef> finishedItems(long nowNanos) {
    var refs = new ArrayList<ItemRef>();
    for (Op op : ops.values()) {
      if (op.done || op.cancelTimedOut(nowNanos)) {
        refs.add(op.ref);
      }
    }
    return refs;
  }

  synchronized int size() {
    return ops.size();
  }

  synchronized int running() {
    int n = 0;
    for (Op op : ops.values()) {
      n += op.done ? 0 : 1;
    }
    return n;
  }

  void cancel(Predicate<ItemRef> which) {
    var actions = new ArrayList<Runnable>();
    synchronized (this) {
      for (Op op : ops.values()) {
        if (op.done || op.cancelTime != null || (which != null && !which.test(op.ref))) {
          continue;
        }
        op.cancelTime = Instant.now();
        op.cancelNanos = System.nanoTime();
        actions.addAll(op.cancelActions);
      }
    }
    actions.forEach(Runnable::run);
  }

  synchronized boolean isCancelled(Op op) {
    return op.cancelTime != null;
  }

  /** Registers a cancel action; runs it at once when already cancelled. */
  void onCancel(Op op, Runnable action) {
    synchronized (this) {
      if (op.cancelTime == null) {
        op.cancelActions.add(action);
        return;
      }
    }
    action.run();
  }

  synchronized boolean await(Predicate<ItemRef> which, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      boolean pending = false;
      for (Op op : ops.values()) {
        if (!op.done && (which == null || which.test(op.ref))) {
          pending = true;
          break;
        }
      }
      if (!pending) {
        return true;
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      wait(Math.max(1, left / 1_000_000));
    }
  }
}
