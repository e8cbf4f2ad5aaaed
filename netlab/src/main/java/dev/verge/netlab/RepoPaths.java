package dev.verge.netlab;

import java.nio.file.Files;
import java.nio.file.Path;

/** Finds the repository checkout (for scripts and the build directory). */
public final class RepoPaths {
  private RepoPaths() {}

  /**
   * The repository root: the {@code verge.repo.root} system property, the {@code VERGE_HOME}
   * environment variable, or the nearest parent of the working directory holding the launcher.
   */
  public static Path root() {
    String property = System.getProperty("verge.repo.root");
    if (property != null && !property.isBlank()) {
      return Path.of(property).toAbsolutePath().normalize();
    }
    String env = System.getenv("VERGE_HOME");
    if (env != null && !env.isBlank()) {
      return Path.of(env).toAbsolutePath().normalize();
    }
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      if (Files.isRegularFile(dir.resolve("verge")) && Files.isDirectory(dir.resolve("images"))) {
        return dir;
      }
    }
    throw new IllegalStateException(
        "cannot find the Verge checkout: set VERGE_HOME or run from inside it");
  }

  /** Where generated artefacts that outlive one module build are cached. */
  public static Path buildDir() {
    return root().resolve("build");
  }
}
