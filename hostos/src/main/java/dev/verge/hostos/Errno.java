package dev.verge.hostos;

import java.util.Map;

/**
 * A Linux errno as the kernel reports it: the number, its symbolic name and the C library's
 * strerror(3) text. Both backends speak in these, so a caller can react to {@code EEXIST} the same way
 * on the sim and on the real kernel.
 */
public record Errno(int code, String name, String description) {
  public static final Errno EPERM = new Errno(1, "EPERM", "Operation not permitted");
  public static final Errno ENOENT = new Errno(2, "ENOENT", "No such file or directory");
  public static final Errno ESRCH = new Errno(3, "ESRCH", "No such process");
  public static final Errno EINTR = new Errno(4, "EINTR", "Interrupted system call");
  public static final Errno EIO = new Errno(5, "EIO", "Input/output error");
  public static final Errno ECHILD = new Errno(10, "ECHILD", "No child processes");
  public static final Errno EBADF = new Errno(9, "EBADF", "Bad file descriptor");
  public static final Errno EAGAIN = new Errno(11, "EAGAIN", "Resource temporarily unavailable");
  public static final Errno ENOMEM = new Errno(12, "ENOMEM", "Cannot allocate memory");
  public static final Errno EACCES = new Errno(13, "EACCES", "Permission denied");
  public static final Errno EBUSY = new Errno(16, "EBUSY", "Device or resource busy");
  public static final Errno EEXIST = new Errno(17, "EEXIST", "File exists");
  public static final Errno ENODEV = new Errno(19, "ENODEV", "No such device");
  public static final Errno EISDIR = new Errno(21, "EISDIR", "Is a directory");
  public static final Errno EINVAL = new Errno(22, "EINVAL", "Invalid argument");
  public static final Errno ENOSPC = new Errno(28, "ENOSPC", "No space left on device");
  public static final Errno ERANGE = new Errno(34, "ERANGE", "Numerical result out of range");
  public static final Errno ENAMETOOLONG = new Errno(36, "ENAMETOOLONG", "File name too long");
  public static final Errno ENOTEMPTY = new Errno(39, "ENOTEMPTY", "Directory not empty");
  public static final Errno EPROTO = new Errno(71, "EPROTO", "Protocol error");
  public static final Errno EPROTONOSUPPORT =
      new Errno(93, "EPROTONOSUPPORT", "Protocol not supported");
  public static final Errno EOPNOTSUPP = new Errno(95, "EOPNOTSUPP", "Operation not supported");
  public static final Errno EAFNOSUPPORT =
      new Errno(97, "EAFNOSUPPORT", "Address family not supported by protocol");
  public static final Errno EADDRINUSE = new Errno(98, "EADDRINUSE", "Address already in use");
  public static final Errno EADDRNOTAVAIL =
      new Errno(99, "EADDRNOTAVAIL", "Cannot assign requested address");
  public static final Errno ENETDOWN = new Errno(100, "ENETDOWN", "Network is down");
  public static final Errno ENETUNREACH = new Errno(101, "ENETUNREACH", "Network is unreachable");
  public static final Errno ENOBUFS = new Errno(105, "ENOBUFS", "No buffer space available");
  public static final Errno ETIMEDOUT = new Errno(110, "ETIMEDOUT", "Connection timed out");
  public static final Errno EHOSTUNREACH = new Errno(113, "EHOSTUNREACH", "No route to host");

  private static final Map<Integer, Errno> BY_CODE =
      Map.ofEntries(
          entry(EPERM), entry(ENOENT), entry(ESRCH), entry(EINTR), entry(EIO), entry(ECHILD), entry(EBADF),
          entry(EAGAIN), entry(ENOMEM), entry(EACCES), entry(EBUSY), entry(EEXIST), entry(ENODEV),
          entry(EISDIR), entry(EINVAL), entry(ENOSPC), entry(ERANGE), entry(ENAMETOOLONG), entry(ENOTEMPTY),
          entry(EPROTO), entry(EPROTONOSUPPORT), entry(EOPNOTSUPP), entry(EAFNOSUPPORT), entry(EADDRINUSE),
          entry(EADDRNOTAVAIL), entry(ENETDOWN), entry(ENETUNREACH), entry(ENOBUFS),
          entry(ETIMEDOUT), entry(EHOSTUNREACH));

  /** The errno for a (positive) code; codes we have no name for keep their number. */
  public static Errno of(int code) {
    int positive = Math.abs(code);
    Errno known = BY_CODE.get(positive);
    return known != null ? known : new Errno(positive, "E" + positive, "error " + positive);
  }

  /**
   * The errno whose strerror(3) text appears in a message (nft, sysfs writes, ...); empty if none.
   */
  public static java.util.Optional<Errno> inMessage(String message) {
    return BY_CODE.values().stream()
        .filter(errno -> message != null && message.contains(errno.description))
        .findFirst();
  }

  private static Map.Entry<Integer, Errno> entry(Errno errno) {
    return Map.entry(errno.code, errno);
  }

  @Override
  public String toString() {
    return name;
  }
}
