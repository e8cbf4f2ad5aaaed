package dev.verge.hostos;

import java.nio.file.Path;

/**
 * Where a supervised daemon stands.
 *
 * @param pid the current process, 0 while it is not running
 * @param restarts how often it was restarted after exiting on its own
 * @param lastExitCode the exit code of its last run, -1 if it never exited
 */
public record DaemonStatus(
    String name, long pid, boolean running, int restarts, int lastExitCode, Path log) {}
