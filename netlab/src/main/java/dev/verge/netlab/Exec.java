package dev.verge.netlab;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Runs short-lived commands and captures their output. Every wait is bounded: a command that
 * outlives its timeout is killed with its descendants, and output a leftover process keeps open
 * (a daemon the command started) is taken as far as it came instead of waited for forever.
 */
public final class Exec {
  static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);
  /** How long output may lag behind the exit of the command (or its kill) before it is cut off. */
  static final Duration OUTPUT_GRACE = Duration.ofSeconds(5);

  private Exec() {}

  public static ExecResult run(String... command) {
    return run(List.of(command), DEFAULT_TIMEOUT);
  }

  public static ExecResult run(List<String> command, Duration timeout) {
    Process process;
    try {
      process = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.PIPE).start();
      process.getOutputStream().close();
    } catch (IOException e) {
      return new ExecResult(command, 127, "", "cannot start " + command.get(0) + ": " + e.getMessage());
    }
    OutputCollector out = OutputCollector.start(process.getInputStream(), "exec-stdout");
    OutputCollector err = OutputCollector.start(process.getErrorStream(), "exec-stderr");
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly().waitFor(OUTPUT_GRACE.toMillis(), TimeUnit.MILLISECONDS);
        return new ExecResult(
            command, 124, out.awaitText(OUTPUT_GRACE), "timed out after " + timeout + "\n" + err.awaitText(OUTPUT_GRACE));
      }
      String stdout = out.awaitText(OUTPUT_GRACE);
      String stderr = err.awaitText(OUTPUT_GRACE);
      if (!out.ended() || !err.ended()) {
        stderr += "(output cut off " + OUTPUT_GRACE.toSeconds() + " s after the exit: a process the command"
            + " left running holds it open)\n";
      }
      return new ExecResult(command, process.exitValue(), stdout, stderr);
    } catch (InterruptedException e) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running " + command, e);
    }
  }

  /** True if the named program is found on the PATH. */
  public static boolean onPath(String program) {
    String path = System.getenv().getOrDefault("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
    for (String dir : path.split(":")) {
      if (new java.io.File(dir, program).canExecute()) {
        return true;
      }
    }
    return false;
  }

  /**
   * Reads a stream to its end on its own daemon thread (not a shared pool, where two blocked
   * readers could starve each other's process of a reader and deadlock it on a full pipe).
   */
  private static final class OutputCollector {
    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    private final CountDownLatch end = new CountDownLatch(1);

    static OutputCollector start(InputStream in, String name) {
      OutputCollector collector = new OutputCollector();
      Thread reader = new Thread(() -> collector.read(in), name);
      reader.setDaemon(true);
      reader.start();
      return collector;
    }

    private void read(InputStream in) {
      byte[] chunk = new byte[8192];
      try (in) {
        for (int n; (n = in.read(chunk)) >= 0; ) {
          synchronized (buffer) {
            buffer.write(chunk, 0, n);
          }
        }
      } catch (IOException e) {
        // closed under us: the output ends here
      } finally {
        end.countDown();
      }
    }

    /** The output once it ends, or as far as it came within {@code grace}. */
    String awaitText(Duration grace) throws InterruptedException {
      end.await(grace.toMillis(), TimeUnit.MILLISECONDS);
      synchronized (buffer) {
        return buffer.toString(StandardCharsets.UTF_8);
      }
    }

    boolean ended() {
      return end.getCount() == 0;
    }
  }
}
