/**
 * The host layer's API: everything an agent does to the machine goes through these interfaces
 * ({@link dev.verge.hostos.NetworkStack}, {@link dev.verge.hostos.Firewall},
 * {@link dev.verge.hostos.Sysfs}, {@link dev.verge.hostos.DaemonSupervisor}) and immutable records.
 * Refusals are {@link dev.verge.hostos.HostException}s naming the operation, the object, the errno
 * and the reason. Implementations: {@code linux} (netlink, libnftables, sysfs, child processes)
 * and {@code sim} (in memory, with fault injection).
 */
package dev.verge.hostos;
