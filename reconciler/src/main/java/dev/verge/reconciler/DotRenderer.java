package dev.verge.reconciler;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** Renders DOT to SVG with Graphviz's {@code dot}, when it is installed. */
public final class DotRenderer {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private final Path dotBinary;

  private DotRenderer(Path dotBinary) {
    this.dotBinary = dotBinary;
  }

  /** A renderer running the given {@code dot} executable. */
  static DotRenderer of(Path dotBinary) {
    return new DotRenderer(dotBinary);
  }

  /** A renderer using {@code dot} from the PATH, if there is one. */
  public static Optional<DotRenderer> fromPath() {
    String path = System.getenv("PATH");
    if (path == null) {
      return Optional.empty();
    }
    for (String dir : path.split(java.io.File.pathSeparator)) {
      Path candidate = Path.of(dir, "dot");
      if (Files.isExecutable(candidate)) {
        return Optional.of(new DotRenderer(candidate));
      }
    }
    return Optional.empty();
  }

  /** Runs {@code dot -Tsvg}; throws IOException when it fails or takes over 30 s. */
  public String toSvg(String dot) throws IOException, InterruptedException {
    return toSvg(dot, TIMEOUT);
  }

  /**
   * Input, output and errors go through files, not pipes: nothing here can block on a {@code dot}
   * that hangs, and the only wait is bounded by {@code timeout}.
   */
  String toSvg(String dot, Duration timeout) throws IOException, InterruptedException {
    Path dir = Files.createTempDirectory("verge-dot-");
    try {
      Path in = Files.writeString(dir.resolve("graph.dot"), dot);
      Path out = dir.resolve("graph.svg");
      Path err = dir.resolve("dot.err");
      Process process = new ProcessBuilder(dotBinary.toString(), "-Tsvg")
          .redirectInput(in.toFile()).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
      try {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
          throw new IOException("dot did not finish within " + timeout.toSeconds() + " s");
        }
      } finally {
        process.destroyForcibly();
      }
      if (process.exitValue() != 0) {
        throw new IOException("dot failed (exit " + process.exitValue() + "): " + Files.readString(err).strip());
      }
      return Files.readString(out, StandardCharsets.UTF_8);
    } finally {
      try (var files = Files.list(dir)) {
        for (Path file : files.toList()) {
          Files.deleteIfExists(file);
        }
      }
      Files.deleteIfExists(dir);
    }
  }

  /** Writes the SVG of {@code dot} to {@code file}. */
  public void renderTo(String dot, Path file) throws IOException, InterruptedException {
    Files.writeString(file, toSvg(dot));
  }
}
