package dev.verge.nim;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * For tests and benchmarks whose JVM runs outside the node's namespace: a single thread that entered a named network namespace with setns(2) and runs only the tasks
 * given to it, so sockets it opens (nim's controller probes in the ITs) live in that namespace
 * and never in the machine's own. Setting up the thread fails if the namespace cannot be entered:
 * nothing then runs outside it.
 */
public final class NetnsExecutor {
  private NetnsExecutor() {}

  interface CLib extends Library {
    CLib INSTANCE = Native.load("c", CLib.class);
    int O_RDONLY = 0;
    int O_CLOEXEC = 0x80000;
    int CLONE_NEWNET = 0x40000000;

    int open(String path, int flags) throws LastErrorException;

    int setns(int fd, int nstype) throws LastErrorException;

    int close(int fd) throws LastErrorException;
  }

  public static ExecutorService enter(String namespace) {
    ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "netns-" + namespace);
      t.setDaemon(true);
      return t;
    });
    CompletableFuture<Void> entered = CompletableFuture.runAsync(() -> {
      int fd = CLib.INSTANCE.open("/run/netns/" + namespace, CLib.O_RDONLY | CLib.O_CLOEXEC);
      try {
        CLib.INSTANCE.setns(fd, CLib.CLONE_NEWNET);
      } finally {
        CLib.INSTANCE.close(fd);
      }
    }, executor);
    try {
      entered.get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      // The thread may be outside the namespace: it must never run anything.
      executor.shutdownNow();
      throw new IllegalStateException("cannot enter namespace " + namespace, e);
    }
    return executor;
  }
}
