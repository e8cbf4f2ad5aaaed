package dev.verge.netlab;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A long-running child process (daemon, VM, child JVM) whose output goes to a log file. Closing
 * it ends the process and all of its descendants.
 */
public final class BackgroundProcess implements AutoCloseable {
  private final String name;
  private final List<String> command;
  private final Process process;
  private final Path log;

  private BackgroundProcess(String name, List<String> command, Process process, Path log) {
    this.name = name;
    this.command = List.copyOf(command);
    this.process = process;
    this.log = log;
  }

  static BackgroundProcess start(String name, List<String> command, Path logDir) {
    try {
      Files.createDirectories(logDir);
      Path log = logDir.resolve(name + ".log");
      Process process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .redirectInput(ProcessBuilder.Redirect.PIPE)
              .start();
      return new BackgroundProcess(name, command, process, log);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + name + ": " + String.join(" ", command), e);
    }
  }

  public String name() {
    return name;
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  public Path logFile() {
    return log;
  }

  /** The output so far (stdout and stderr interleaved). */
  public String output() {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  /**
   * Waits until the output satisfies the condition. Fails early, with the output, when the process
   * exits first.
   */
  public String awaitOutput(Predicate<String> condition, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      String out = output();
      if (condition.test(out)) {
        return out;
      }
      if (!process.isAlive()) {
        String last = output();
        if (condition.test(last)) {
          return last;
        }
        throw new IllegalStateException(
            name + " exited with " + process.exitValue() + " before the expected output:\n" + tail(last));
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            name + ": expected output not seen within " + timeout + ":\n" + tail(out));
      }
      sleep(50);
    }
  }

  /** Waits for the process to exit on its own and returns its exit code. */
  public int awaitExit(Duration timeout) {
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new IllegalStateException(name + " still running after " + timeout + ":\n" + tail(output()));
      }
      return process.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * Stops the process as {@code systemctl stop} does: SIGTERM to it alone, then up to {@code grace}
   * for it to stop its children and exit by itself ({@link #close} gives 3 s and signals the
   * children too). Whatever is left after the grace is closed.
   *
   * @return how long the process took to exit
   */
  public Duration stop(Duration grace) {
    long start = System.nanoTime();
    process.destroy();
    try {
      process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    close();
    return took;
  }

  /**
   * Kills the process and its descendants with SIGKILL, as a crash or a power cut would: nothing of
   * theirs runs on the way out (no shutdown hook, no clean close).
   *
   * @throws IllegalStateException if it is still there after 10 s
   */
  public void kill() {
    List<ProcessHandle> children = process.descendants().toList();
    process.destroyForcibly();
    children.forEach(ProcessHandle::destroyForcibly);
    awaitKilled();
  }

  /**
   * Kills the process alone with SIGKILL, as {@code kill -9 PID} or the OOM killer would: its
   * children (daemons, VMs) live on as orphans, for the next start of the program to find.
   *
   * @throws IllegalStateException if it is still there after 10 s
   */
  public void crash() {
    process.destroyForcibly();
    awaitKilled();
  }

  private void awaitKilled() {
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        throw new IllegalStateException(name + " survived SIGKILL for 10 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Ends the process: SIGTERM, then SIGKILL after a grace period; descendants too. */
  @Override
  public void close() {
    List<ProcessHandle> children = process.descendants().toList();
    process.destroy();
    children.forEach(ProcessHandle::destroy);
    try {
      if (!process.waitFor(3, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    children.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
  }

  @Override
  public String toString() {
    return name + " (pid " + process.pid() + "): " + String.join(" ", command);
  }

  static String tail(String text) {
    int max = 4000;
    return text.length() <= max ? text : "..." + text.substring(text.length() - max);
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
