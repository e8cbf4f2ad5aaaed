package dev.verge.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

/**
 * Milliseconds since this process started, for the node's start-phase log lines (./verge bench
 * node measures from the process start, so the phases are told on the same scale). The kernel's
 * start time of the process against its uptime, both in 10 ms ticks: ProcessHandle's start instant
 * adds the boot time, which the kernel gives in whole seconds (up to a second off).
 */
public final class StartClock {
  /** USER_HZ: the unit of /proc/PID/stat's start time on every Linux architecture we run on. */
  private static final int TICKS_PER_SECOND = 100;
  private static final long PROCESS_START_MS = processStartMs();

  private StartClock() {}

  /** Milliseconds from the process start to now. */
  public static long sinceProcessStart() {
    return System.currentTimeMillis() - PROCESS_START_MS;
  }

  private static long processStartMs() {
    try {
      String stat = Files.readString(Path.of("/proc/self/stat"));
      // the fields after the command's closing parenthesis: state is 3rd, starttime the 22nd
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      long startTicks = Long.parseLong(fields[22 - 3]);
      double uptimeSeconds = Double.parseDouble(Files.readString(Path.of("/proc/uptime")).split(" ")[0]);
      return System.currentTimeMillis() - Math.round(uptimeSeconds * 1000) + startTicks * 1000 / TICKS_PER_SECOND;
    } catch (IOException | RuntimeException e) {
      return ProcessHandle.current().info().startInstant().map(Instant::toEpochMilli).orElse(System.currentTimeMillis());
    }
  }
}
