package dev.verge.hostos;

import java.nio.file.Path;

/**
 * The directories a daemon may use, and only these: its configuration (written by its agent before
 * the start), its state (leases, databases; also its working directory), its run directory
 * (sockets, pid files) and its log.
 */
public record DaemonPaths(Path config, Path state, Path run, Path log) {}
