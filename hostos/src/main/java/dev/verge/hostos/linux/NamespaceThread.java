package dev.verge.hostos.linux;

import com.sun.jna.LastErrorException;
import dev.verge.hostos.Errno;
import dev.verge.hostos.HostException;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * Runs work inside a named network namespace ({@code /run/netns/<name>}) on one dedicated thread
 * that entered it with setns(2). setns changes only the calling thread, and this thread never does
 * anything else, so the JVM's other threads (and the machine's own namespace) stay untouched.
 * Sockets and /dev/net/tun handles opened here belong to the namespace for good.
 */
final class NamespaceThread implements AutoCloseable {
  private static final FutureTask<Void> STOP = new FutureTask<>(() -> null);

  private final String namespace;
  private final Thread thread;
  private final BlockingQueue<FutureTask<?>> tasks = new LinkedBlockingQueue<>();
  private final CompletableFuture<Void> entered = new CompletableFuture<>();
  private volatile boolean closed;

  private NamespaceThread(String namespace) {
    this.namespace = namespace;
    this.thread = new Thread(this::run, "netns-" + namespace);
    thread.setDaemon(true);
  }

  /** No thread at all: work runs on the caller, in the namespace the JVM already runs in. */
  private NamespaceThread() {
    this.namespace = "";
    this.thread = null;
    entered.complete(null);
  }

  /** For a node started under {@code ip netns exec}: its own namespace is the right one. */
  static NamespaceThread current() {
    return new NamespaceThread();
  }

  /**
   * Opens something that lives in a named namespace: enters it on a new thread and hands that
   * thread to {@code opener}; the thread ends again if opening fails.
   */
  static <T> T open(String namespace, java.util.function.Function<NamespaceThread, T> opener) {
    NamespaceThread thread = enter(namespace);
    try {
      return opener.apply(thread);
    } catch (RuntimeException e) {
      thread.close();
      throw e;
    }
  }

  /** Starts a thread inside the namespace; fails with the errno if it cannot be entered. */
  static NamespaceThread enter(String namespace) {
    NamespaceThread worker = new NamespaceThread(namespace);
    worker.thread.start();
    try {
      worker.entered.get();
    } catch (ExecutionException e) {
      throw (RuntimeException) e.getCause();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    return worker;
  }

  private void run() {
    try {
      int fd = LibC.INSTANCE.open("/run/netns/" + namespace, LibC.O_RDONLY | LibC.O_CLOEXEC);
      try {
        LibC.INSTANCE.setns(fd, LibC.CLONE_NEWNET);
      } finally {
        LibC.INSTANCE.close(fd);
      }
    } catch (LastErrorException e) {
      entered.completeExceptionally(
          new HostException(
              "enter namespace", namespace, Errno.of(e.getErrorCode()),
              Errno.of(e.getErrorCode()).description()));
      return; // the thread ends here: nothing runs outside the namespace
    }
    entered.complete(null);
    while (true) {
      FutureTask<?> task;
      try {
        task = tasks.take();
      } catch (InterruptedException e) {
        return;
      }
      if (task == STOP) {
        return;
      }
      task.run();
    }
  }

  /** Runs the work on the namespace thread and returns its result (or rethrows its failure). */
  <T> T call(Callable<T> work) {
    if (thread == null) {
      try {
        return work.call();
      } catch (RuntimeException e) {
        throw e;
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }
    FutureTask<T> task = new FutureTask<>(work);
    synchronized (this) {
      if (closed) {
        // work queued behind STOP would never run: fail instead of waiting forever
        throw new IllegalStateException("namespace " + namespace + " is closed");
      }
      tasks.add(task);
    }
    return await(task);
  }

  /** The result of work run on another thread, or its failure rethrown on this one. */
  static <T> T await(java.util.concurrent.Future<T> result) {
    try {
      return result.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException runtime) {
        throw runtime;
      }
      throw new IllegalStateException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public synchronized void close() {
    if (thread == null || closed) {
      return;
    }
    closed = true;
    tasks.add(STOP);
  }
}
