package dev.verge.hostos.linux;

import com.sun.jna.LastErrorException;
import dev.verge.hostos.Errno;
import dev.verge.hostos.HostException;
import dev.verge.hostos.Pinger;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Ping over a raw ICMP socket (the node runs as root; an unprivileged ping socket would need
 * {@code net.ipv4.ping_group_range} changed in the namespace). The socket is created, bound to
 * the link (SO_BINDTODEVICE) and to the source address on the namespace thread, so it lives in the
 * host's namespace; sending and waiting happen on the caller's thread, so a silent destination
 * never holds the namespace thread. The kernel passes echo replies only (ICMP_FILTER) and only from
 * the destination (the socket is connected); our random id and sequence tell ours from another
 * probe's to the same address.
 */
final class LinuxPinger implements Pinger {
  private static final int ECHO_REQUEST = 8;
  private static final int ECHO_REPLY = 0;
  private static final int PAYLOAD = 16;

  private final NamespaceThread namespace;

  LinuxPinger(NamespaceThread namespace) {
    this.namespace = namespace;
  }

  @Override
  public Duration echo(String link, InetAddress source, InetAddress destination, Duration timeout) {
    String object = destination.getHostAddress() + " from " + source.getHostAddress() + " on " + link;
    if (!(source instanceof Inet4Address) || !(destination instanceof Inet4Address)) {
      throw new HostException("ping", object, Errno.EAFNOSUPPORT, "only IPv4 echo is supported");
    }
    LibC libc = LibC.INSTANCE;
    int fd;
    try {
      fd = namespace.call(() -> open(link, source));
    } catch (LastErrorException e) {
      throw new HostException("ping", object, Errno.of(e.getErrorCode()), "cannot open a raw ICMP socket on " + link
          + ": " + Errno.of(e.getErrorCode()).description());
    }
    try {
      int id = ThreadLocalRandom.current().nextInt(1, 0x10000);
      int sequence = ThreadLocalRandom.current().nextInt(0, 0x10000);
      long start = System.nanoTime();
      long deadline = start + timeout.toNanos();
      libc.connect(fd, sockaddr(destination), 16);
      byte[] request = request(id, sequence);
      libc.send(fd, ByteBuffer.wrap(request), request.length, 0);
      ByteBuffer reply = ByteBuffer.allocate(1500);
      while (true) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new HostException("ping", object, Errno.ETIMEDOUT,
              "no echo reply within " + timeout.toMillis() + " ms");
        }
        setReceiveTimeout(fd, left);
        reply.clear();
        long length;
        try {
          length = libc.recv(fd, reply, reply.capacity(), 0);
        } catch (LastErrorException e) {
          if (e.getErrorCode() == LibC.EAGAIN || e.getErrorCode() == LibC.EINTR) {
            continue; // timed out (checked above) or interrupted: look at the clock again
          }
          throw e;
        }
        if (isOurReply(reply.array(), (int) length, id, sequence)) {
          return Duration.ofNanos(System.nanoTime() - start);
        }
      }
    } catch (LastErrorException e) {
      Errno errno = Errno.of(e.getErrorCode());
      throw new HostException("ping", object, errno, errno.description());
    } finally {
      libc.close(fd);
    }
  }

  /** On the namespace thread: a raw ICMP socket that hears echo replies only, bound to the link and source. */
  private static int open(String link, InetAddress source) {
    LibC libc = LibC.INSTANCE;
    int fd = libc.socket(LibC.AF_INET, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC, LibC.IPPROTO_ICMP);
    try {
      byte[] name = link.getBytes(StandardCharsets.US_ASCII);
      libc.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_BINDTODEVICE, name, name.length);
      byte[] filter = ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(~(1 << ECHO_REPLY)).array();
      libc.setsockopt(fd, LibC.SOL_RAW, LibC.ICMP_FILTER, filter, 4);
      libc.bind(fd, sockaddr(source), 16);
      return fd;
    } catch (LastErrorException e) {
      libc.close(fd);
      throw e;
    }
  }

  private static byte[] sockaddr(InetAddress address) {
    return ByteBuffer.allocate(16).order(ByteOrder.nativeOrder()).putShort((short) LibC.AF_INET)
        .order(ByteOrder.BIG_ENDIAN).putShort((short) 0).put(address.getAddress()).array();
  }

  private static void setReceiveTimeout(int fd, long nanos) {
    long micros = Math.max(1, nanos / 1000);
    byte[] timeval = ByteBuffer.allocate(16).order(ByteOrder.nativeOrder())
        .putLong(micros / 1_000_000).putLong(micros % 1_000_000).array();
    LibC.INSTANCE.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_RCVTIMEO, timeval, 16);
  }

  static byte[] request(int id, int sequence) {
    ByteBuffer packet = ByteBuffer.allocate(8 + PAYLOAD).order(ByteOrder.BIG_ENDIAN);
    packet.put((byte) ECHO_REQUEST).put((byte) 0).putShort((short) 0).putShort((short) id).putShort((short) sequence)
        .putLong(System.nanoTime()).putLong(0x7665726765L); // "verge"
    byte[] bytes = packet.array();
    int sum = checksum(bytes);
    bytes[2] = (byte) (sum >> 8);
    bytes[3] = (byte) sum;
    return bytes;
  }

  /** The Internet checksum (RFC 1071). */
  static int checksum(byte[] bytes) {
    long sum = 0;
    for (int i = 0; i + 1 < bytes.length; i += 2) {
      sum += ((bytes[i] & 0xff) << 8) | (bytes[i + 1] & 0xff);
    }
    if (bytes.length % 2 == 1) {
      sum += (bytes[bytes.length - 1] & 0xff) << 8;
    }
    while ((sum >> 16) != 0) {
      sum = (sum & 0xffff) + (sum >> 16);
    }
    return (int) (~sum & 0xffff);
  }

  /** A raw socket reads the IP header too: skip it, then match type, id and sequence. */
  static boolean isOurReply(byte[] packet, int length, int id, int sequence) {
    if (length < 20) {
      return false;
    }
    int ipHeader = (packet[0] & 0x0f) * 4;
    if (length < ipHeader + 8) {
      return false;
    }
    ByteBuffer icmp = ByteBuffer.wrap(Arrays.copyOfRange(packet, ipHeader, length)).order(ByteOrder.BIG_ENDIAN);
    return (icmp.get(0) & 0xff) == ECHO_REPLY && (icmp.getShort(4) & 0xffff) == id
        && (icmp.getShort(6) & 0xffff) == sequence;
  }
}
