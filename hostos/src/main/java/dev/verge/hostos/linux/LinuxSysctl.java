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
public final class LinuxSysctl implements Sysctl {
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
    Path file = path("read sysctl", key);
    return namespace.call(
        () -> {
          try {
            return Files.readString(file).strip();
          } catch (NoSuchFileException e) {
            throw new HostException("read sysctl", key, Errno.ENOENT, "the kernel has no such key");
          } catch (IOException e) {
            throw failure("read sysctl", key, e);
          }
        });
  }

  @Override
  public void set(String key, String value) {
    Path file = path("set sysctl", key + " to " + value);
    namespace.call(
        () -> {
          try {
            Files.writeString(file, value);
            return null;
          } catch (NoSuchFileException e) {
            throw new HostException("set sysctl", key + " to " + value, Errno.ENOENT,
                "the kernel has no such key");
          } catch (AccessDeniedException e) {
            throw new HostException("set sysctl", key + " to " + value, Errno.EACCES,
                "permission denied (read-only key, or not root)");
          } catch (IOException e) {
            throw failure("set sysctl", key + " to " + value, e);
          }
        });
  }

  /**
   * {@code net.ipv4.conf.eth0.rp_filter} → {@code /proc/sys/net/ipv4/conf/eth0/rp_filter}. As in
   * sysctl(8), a dot inside an interface name is written '/' in the key ({@code eth0/100}).
   */
  static Path path(String operation, String key) {
    if (!key.matches("[A-Za-z0-9_]+(\\.[A-Za-z0-9_@:/-]+)+")) {
      throw new HostException(operation, key, Errno.EINVAL, "not a sysctl key");
    }
    Path path = Path.of("/proc/sys");
    for (String segment : key.split("\\.")) {
      if (segment.isEmpty() || segment.equals("/") || segment.contains("//")) {
        throw new HostException(operation, key, Errno.EINVAL, "not a sysctl key");
      }
      path = path.resolve(segment.replace('/', '.'));
    }
    return path;
  }

  private static HostException failure(String operation, String object, IOException e) {
    String message = String.valueOf(e.getMessage());
    Errno errno = Errno.inMessage(message).orElse(Errno.EINVAL);
    String reason = errno == Errno.EINVAL ? "the kernel refused the value (EINVAL)" : errno.description();
    return new HostException(operation, object, errno, reason);
  }
}
