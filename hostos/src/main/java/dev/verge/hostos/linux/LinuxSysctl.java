package dev.verge.hostos.linux;

import dev.verge.hostos.Errno;
import dev.verge.hostos.HostException;
import dev.verge.hostos.Sysctl;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * sysctl through {@code /proc/sys}. The files under {@code /proc/sys/net} show the network
 * namespace of the thread that opens them, so they are opened on the namespace's thread.
 */
public final class LinuxSysctl implements Sysctl, AutoCloseable {
  private final NamespaceThread namespace;

  private LinuxSysctl(NamespaceThread namespace) {
    this.namespace = namespace;
  }

  public static LinuxSysctl inCurrentNamespace() {
    return new LinuxSysctl(NamespaceThread.current());
  }

  public static LinuxSysctl inNamespace(String netnsName) {
    return NamespaceThread.open(netnsName, LinuxSysctl::new);
  }

  @Override
  public String get(String key) {
    Path file = path("read sysctl", key, key);
    return namespace.call(
        () -> {
          try {
            return Files.readString(file).strip();
          } catch (IOException e) {
            throw failure("read sysctl", key, file, e);
          }
        });
  }

  @Override
  public void set(String key, String value) {
    String object = key + " to " + value;
    Path file = path("set sysctl", key, object);
    namespace.call(
        () -> {
          try {
            Files.writeString(file, value);
            return null;
          } catch (IOException e) {
            throw failure("set sysctl", object, file, e);
          }
        });
  }

  /**
   * {@code net.ipv4.conf.eth0.rp_filter} → {@code /proc/sys/net/ipv4/conf/eth0/rp_filter}. As in
   * sysctl(8), a dot inside an interface name is written '/' in the key ({@code eth0/100}).
   */
  static Path path(String operation, String key, String object) {
    if (!key.matches("[A-Za-z0-9_]+(\\.[A-Za-z0-9_@:/-]+)+")) {
      throw new HostException(operation, object, Errno.EINVAL, "not a sysctl key");
    }
    Path path = Path.of("/proc/sys");
    for (String segment : key.split("\\.")) {
      if (segment.isEmpty() || segment.equals("/") || segment.contains("//")) {
        throw new HostException(operation, object, Errno.EINVAL, "not a sysctl key");
      }
      path = path.resolve(segment.replace('/', '.'));
    }
    return path;
  }

  /** Runs on the namespace thread: whether the file is a directory must be seen from there. */
  private static HostException failure(String operation, String object, Path file, IOException e) {
    if (e instanceof NoSuchFileException) {
      return new HostException(operation, object, Errno.ENOENT, "the kernel has no such key");
    }
    if (Files.isDirectory(file)) {
      return new HostException(operation, object, Errno.EISDIR, "a directory of keys, not a key");
    }
    if (e instanceof AccessDeniedException) {
      return new HostException(operation, object, Errno.EACCES, "permission denied (read-only key, or not root)");
    }
    Errno errno = Errno.inMessage(String.valueOf(e.getMessage())).orElse(Errno.EINVAL);
    String reason = errno == Errno.EINVAL ? "the kernel refused the value" : errno.description();
    return new HostException(operation, object, errno, reason);
  }

  @Override
  public void close() {
    namespace.close();
  }
}
