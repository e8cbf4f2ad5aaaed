package dev.verge.hostos.linux;

import com.sun.jna.LastErrorException;
import dev.verge.hostos.Errno;
import dev.verge.hostos.HostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** Persistent tap devices through /dev/net/tun (TUNSETIFF + TUNSETPERSIST), as ip tuntap does. */
final class TapDevices {
  private static final long TUNSETIFF = 0x400454caL;
  private static final long TUNSETPERSIST = 0x400454cbL;
  private static final short IFF_TAP = 0x0002;
  private static final short IFF_NO_PI = 0x1000;

  private TapDevices() {}

  /**
   * Creates the tap inside the stack's namespace: a tun device joins the namespace of the thread
   * that opened /dev/net/tun. TUNSETIFF would silently re-attach to an existing persistent tap, so
   * an existing name is refused first, as for every other kind.
   */
  static void create(LinuxNetworkStack stack, NetlinkSocket socket, String name, String operation) {
    if (socket.indexOf(name).isPresent()) {
      throw new HostException(operation, name, Errno.EEXIST, Errno.EEXIST.description());
    }
    stack.inNamespace(
        () -> {
          int fd;
          try {
            fd = LibC.INSTANCE.open("/dev/net/tun", LibC.O_RDWR | LibC.O_CLOEXEC);
          } catch (LastErrorException e) {
            throw new HostException(
                operation, name, Errno.of(e.getErrorCode()), "kernel has no tun support (/dev/net/tun)");
          }
          try {
            byte[] request = new byte[40];
            byte[] bytes = name.getBytes(StandardCharsets.US_ASCII);
            System.arraycopy(bytes, 0, request, 0, bytes.length);
            ByteBuffer.wrap(request).order(ByteOrder.nativeOrder()).putShort(16, (short) (IFF_TAP | IFF_NO_PI));
            LibC.INSTANCE.ioctl(fd, TUNSETIFF, request);
            LibC.INSTANCE.ioctl(fd, TUNSETPERSIST, 1L);
          } catch (LastErrorException e) {
            Errno errno = Errno.of(e.getErrorCode());
            throw new HostException(operation, name, errno, errno.description());
          } finally {
            LibC.INSTANCE.close(fd);
          }
          return null;
        });
  }
}
