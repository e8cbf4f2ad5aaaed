package dev.verge.reconciler;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** Renders DOT to SVG with Graphviz's {@code dot}, when it is installed. */
public final class DotRenderer {
  private final Path dotBinary;

  private DotRenderer(Path dotBinary) {
    this.dotBinary = dotBinary;
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
    Process process = new ProcessBuilder(dotBinary.toString(), "-Tsvg").redirectErrorStream(false).start();
    try {
      var stderr = new StringBuilder();
      Thread errReader = new Thread(() -> stderr.append(readAll(process.getErrorStream())));
      errReader.start();
      try (var in = process.getOutputStream()) {
        in.write(dot.getBytes(StandardCharsets.UTF_8));
      }
      String svg = readAll(process.getInputStream());
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        throw new IOException("dot did not finish within 30 s");
      }
      errReader.join();
      if (process.exitValue() != 0) {
        throw new IOException("dot failed (exit " + process.exitValue() + "): " + stderr.toString().strip());
      }
      return svg;
    } finally {
      process.destroyForcibly();
    }
  }

  /** Writes the SVG of {@code dot} to {@code file}. */
  public void renderTo(String dot, Path file) throws IOException, InterruptedException {
    Files.writeString(file, toSvg(dot));
  }

  private static String readAll(InputStream in) {
    try (in) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }
}
