package dev.verge.hostos;

/** The kernel's rules for interface names (dev_valid_name), checked before anything is sent. */
public final class LinkNames {
  /** IFNAMSIZ minus the terminating NUL. */
  public static final int MAX_LENGTH = 15;

  private LinkNames() {}

  /** Throws a {@link HostException} for {@code operation} unless {@code name} is a valid name. */
  public static void requireValid(String operation, String name) {
    if (name.isEmpty() || name.equals(".") || name.equals("..")) {
      throw new HostException(operation, "'" + name + "'", Errno.EINVAL, "not a valid interface name");
    }
    if (name.length() > MAX_LENGTH) {
      throw new HostException(
          operation, name, Errno.EINVAL,
          "interface name is " + name.length() + " characters, the kernel allows " + MAX_LENGTH);
    }
    for (char c : name.toCharArray()) {
      if (c == '/' || c == ':' || Character.isWhitespace(c) || c < 0x20 || c > 0x7e) {
        throw new HostException(
            operation, name, Errno.EINVAL, "interface name contains the illegal character '" + c + "'");
      }
    }
  }

  /**
   * Throws a {@link HostException} unless {@code namespace} can name an entry of /run/netns (no
   * path: moving a link anywhere but into a named namespace must be impossible).
   */
  public static void requireValidNamespace(String operation, String object, String namespace) {
    if (namespace.isEmpty() || namespace.contains("/") || namespace.equals(".") || namespace.equals("..")
        || namespace.chars().anyMatch(c -> c < 0x20 || c > 0x7e)) {
      throw new HostException(operation, object, Errno.EINVAL, "not a valid namespace name");
    }
  }
}
