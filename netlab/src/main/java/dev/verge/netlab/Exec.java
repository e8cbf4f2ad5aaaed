package dev.verge.netlab;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs short-lived commands and captures their output. */
public final class Exec {
  static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

  private Exec() {}

  public static ExecResult run(String... command) {
    return run(List.of(command), DEFAULT_TIMEOUT);
  }

  public static ExecResult run(List<String> command, Duration timeout) {
    try {
      Process process =
          new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.PIPE).start();
      process.getOutputStream().close();
      CompletableFuture<String> out = drain(process.getInputStream());
      CompletableFuture<String> err = drain(process.getErrorStream());
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly().waitFor();
        return new ExecResult(command, 124, out.join(), "timed out after " + timeout + "\n" + err.join());
      }
      return new ExecResult(command, process.exitValue(), out.join(), err.join());
    } catch (IOException e) {
      return new ExecResult(command, 127, "", "cannot start " + command.get(0) + ": " + e.getMessage());
    } catch (InterruptedException e) {
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

  static CompletableFuture<String> drain(InputStream in) {
    return CompletableFuture.supplyAsync(
        () -> {
          try (in) {
            ByteArrayOutputStream buffer = new ByteArrayOutputStream();
            in.transferTo(buffer);
            return buffer.toString(StandardCharsets.UTF_8);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
  }
}
