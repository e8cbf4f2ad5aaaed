package dev.verge.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * The output of a child process, read line by line on a daemon thread. A test waits for a line
 * with a deadline instead of blocking in {@code readLine()}: a child that hangs without printing
 * fails the test with what it printed, instead of hanging the build (a blocked read ignores the
 * test's timeout, which only interrupts).
 */
public final class ProcessOutput {
  private final String name;
  private final List<String> lines = new ArrayList<>();
  private boolean ended;

  private ProcessOutput(String name, InputStream in) {
    this.name = name;
    Thread reader = new Thread(() -> read(in), "output-of-" + name);
    reader.setDaemon(true);
    reader.start();
  }

  /** Reads the process's standard output (merge stderr into it with redirectErrorStream). */
  public static ProcessOutput of(String name, Process process) {
    return new ProcessOutput(name, process.getInputStream());
  }

  private void read(InputStream in) {
    try (BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      for (String line; (line = reader.readLine()) != null; ) {
        synchronized (this) {
          lines.add(line);
          notifyAll();
        }
      }
    } catch (IOException e) {
      // the stream was closed under us (the process was killed): the output ends here
    } finally {
      synchronized (this) {
        ended = true;
        notifyAll();
      }
    }
  }

  /**
   * The first line that matches, waiting at most {@code timeout} for it.
   *
   * @throws AssertionError with the output so far when no such line came in time or the output
   *     ended without one
   */
  public synchronized String awaitLine(Predicate<String> matching, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    int checked = 0;
    while (true) {
      for (; checked < lines.size(); checked++) {
        if (matching.test(lines.get(checked))) {
          return lines.get(checked);
        }
      }
      long left = deadline - System.nanoTime();
      if (ended || left <= 0) {
        throw new AssertionError(
            name + ": expected line " + (ended ? "not printed before the output ended" : "not printed within " + timeout)
                + "; output so far:\n" + String.join("\n", tail()));
      }
      wait(Math.max(1, left / 1_000_000));
    }
  }

  /** Waits until the output ends (the process closed it, usually by exiting); false on timeout. */
  public synchronized boolean awaitEnd(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!ended) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      wait(Math.max(1, left / 1_000_000));
    }
    return true;
  }

  /** Every line read so far. */
  public synchronized List<String> lines() {
    return List.copyOf(lines);
  }

  private List<String> tail() {
    return lines.subList(Math.max(0, lines.size() - 40), lines.size());
  }
}
