package dev.verge.hostos;

/**
 * A host operation the kernel (or nft, or the sim) refused. It names what was attempted, on what,
 * the errno and the reason in words, so that the message alone says what went wrong: {@code cannot
 * create vlan eth0.100: kernel has no 8021q support (EOPNOTSUPP)}.
 */
public final class HostException extends RuntimeException {
  private final String operation;
  private final String object;
  private final Errno errno;
  private final String reason;

  public HostException(String operation, String object, Errno errno, String reason) {
    super("cannot " + operation + " " + object + ": " + reason + " (" + errno.name() + ")");
    this.operation = operation;
    this.object = object;
    this.errno = errno;
    this.reason = reason;
  }

  /** What was attempted, e.g. {@code create vlan}. */
  public String operation() {
    return operation;
  }

  /** What it was attempted on, e.g. {@code eth0.100}. */
  public String object() {
    return object;
  }

  public Errno errno() {
    return errno;
  }

  /** The reason in words: the kernel's extended ack, nft's error text, or the errno's meaning. */
  public String reason() {
    return reason;
  }
}
