package dev.verge.netlab;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Process state as the kernel sees it. */
public final class Processes {
  private Processes() {}

  /**
   * True if the process exists and is not a zombie. {@link ProcessHandle#isAlive()} counts zombies
   * as alive, and an orphan stays a zombie until its (possibly non-reaping) parent collects it.
   */
  public static boolean isRunning(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      char state = stat.charAt(stat.lastIndexOf(')') + 2);
      return state != 'Z' && state != 'X';
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }
}
