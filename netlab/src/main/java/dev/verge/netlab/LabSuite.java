package dev.verge.netlab;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Runs JUnit suites inside the lab VM on its real kernel: the modules' test classpaths (written by
 * {@code scripts/lab}, i.e. Maven's dependency:build-classpath) go onto the payload disk, and
 * testkit's {@code LabTestMain} runs the selected tests there.
 *
 * <pre>
 *   LabSuite --module hostos [--module nim...] [--timeout-minutes N] selector...
 *   LabSuite --module hostos --run 'shell command'     (to look around in the VM)
 * </pre>
 *
 * A selector is a class name, {@code Class#method} or {@code package:name}. Exit code: the suite's.
 */
public final class LabSuite {
  /** What a run produced: the suite's exit code and output, and its timings. */
  public record Result(ExecResult suite, Duration bootToReady, Duration suiteTime, GuestVm.Accel accel) {}

  /** The JVM inside the VM: C1 only and serial GC, as C2's compilations cost most under TCG. */
  static final String GUEST_JAVA =
      "java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xmx768m -Dverge.lab=true";

  private LabSuite() {}

  public static void main(String[] args) {
    List<String> modules = new ArrayList<>();
    List<String> selectors = new ArrayList<>();

    Duration timeout = Duration.ofMinutes(40);
    String shellCommand = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--module" -> modules.add(args[++i]);
        case "--timeout-minutes" -> timeout = Duration.ofMinutes(Long.parseLong(args[++i]));
        case "--run" -> shellCommand = args[++i];
        default -> selectors.add(args[i]);
      }
    }
    if (modules.isEmpty() || selectors.isEmpty() && shellCommand == null) {
      System.err.println("usage: LabSuite --module M [--module M...] [--timeout-minutes N] selector...");
      System.exit(2);
    }
    Set<Path> classpath = new LinkedHashSet<>();
    modules.forEach(module -> classpath.addAll(moduleTestClasspath(module)));
    LabImage image = LabImage.ensureBuilt();
    String guestCommand = shellCommand == null ? testCommand(selectors) : shellCommand;
    System.out.println("lab: kernel " + image.kernelVersion() + ", running "
        + (shellCommand == null ? String.join(" ", selectors) : shellCommand));
    Result result = run(image, List.copyOf(classpath), guestCommand, timeout, line -> System.out.println("  vm| " + line));
    System.out.printf("lab: %s, boot to ready %d ms, suite %d s, exit %d%n", result.accel(),
        result.bootToReady().toMillis(), result.suiteTime().toSeconds(), result.suite().exitCode());
    System.exit(result.suite().exitCode());
  }

  /** The guest's command that runs the selected tests. */
  public static String testCommand(List<String> selectors) {
    return GUEST_JAVA + " -cp \"$CLASSPATH\" dev.verge.testkit.LabTestMain " + String.join(" ", selectors);
  }

  /**
   * Boots the VM with the classpath on its payload disk, runs {@code command} there (with {@code
   * $CLASSPATH} set to the classpath as the VM sees it), and closes the VM.
   */
  public static Result run(LabImage image, List<Path> classpath, String command, Duration timeout,
      Consumer<String> progress) {
    Map<String, Path> payload = new LinkedHashMap<>();
    List<String> guestClasspath = new ArrayList<>();
    int n = 0;
    for (Path entry : classpath) {
      String name = String.format("cp/%03d-%s", n++, entry.getFileName());
      payload.put(name, entry);
      guestClasspath.add(LabVm.GUEST_PAYLOAD.resolve(name).toString());
    }
    try (LabVm vm = LabVm.boot(image, payload, LabVm.Options.defaults(), Duration.ofMinutes(5))) {
      long start = System.nanoTime();
      ExecResult suite = vm.run("export CLASSPATH=" + String.join(":", guestClasspath) + "; " + command,
          timeout, progress);
      return new Result(suite, vm.bootToReady(), Duration.ofNanos(System.nanoTime() - start), vm.accel());
    }
  }

  /**
   * A module's test classpath: its test classes, its classes and the entries Maven wrote to
   * {@code target/lab-classpath.txt} ({@code scripts/lab} writes them).
   */
  public static List<Path> moduleTestClasspath(String module) {
    Path dir = RepoPaths.root().resolve(module);
    Path file = dir.resolve("target/lab-classpath.txt");
    try {
      List<Path> entries = new ArrayList<>(List.of(dir.resolve("target/test-classes"), dir.resolve("target/classes")));
      for (String entry : Files.readString(file).trim().split(":")) {
        if (!entry.isBlank()) {
          entries.add(Path.of(entry));
        }
      }
      return entries;
    } catch (IOException e) {
      throw new UncheckedIOException("no test classpath for " + module + " (" + file + "): run scripts/lab", e);
    }
  }
}
