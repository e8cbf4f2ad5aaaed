package dev.verge.hostos.linux;

import com.sun.jna.LastErrorException;
import dev.verge.hostos.Errno;
import dev.verge.hostos.HostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * An AF_NETLINK socket. It belongs to the network namespace of the thread that opened it, for its
 * whole life, whichever thread uses it later. Requests are serialised: one in flight at a time.
 */
final class NetlinkSocket implements AutoCloseable {
  static final int NETLINK_ROUTE = 0;
  private static final int BUFFER_SIZE = 64 * 1024;
  /** More than any rtnetlink request we build; a batch chunk ends when less is left. */
  private static final int MAX_REQUEST_LENGTH = 4096;
  /** Requests per sendmsg: their acks (~1 KiB of skb each) must fit the default receive buffer. */
  private static final int MAX_IN_FLIGHT = 128;
  private static final int SIOCGIFNAME = 0x8910;
  private static final int SIOCGIFINDEX = 0x8933;
  private static final int IFREQ_SIZE = 40;
  private static final int NLMSGERR_ATTR_MSG = 1;

  /** Turns a refusal into the exception the caller wants to throw. */
  interface Failure {
    HostException of(Errno errno, Optional<String> kernelMessage);
  }

  private final int fd;
  private final ByteBuffer sendBuffer = direct();
  private final ByteBuffer receiveBuffer = direct();
  private final AtomicInteger sequence = new AtomicInteger((int) (System.nanoTime() & 0xffff));
  private volatile boolean closed;

  private NetlinkSocket(int fd) {
    this.fd = fd;
  }

  /** Opens a socket in the calling thread's namespace, joined to the given multicast groups. */
  static NetlinkSocket open(int protocol, int groups) {
    LibC libc = LibC.INSTANCE;
    int fd = libc.socket(LibC.AF_NETLINK, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC, protocol);
    try {
      setIntOption(fd, LibC.SOL_NETLINK, LibC.NETLINK_EXT_ACK, 1);
      setIntOption(fd, LibC.SOL_NETLINK, LibC.NETLINK_CAP_ACK, 1);
      ByteBuffer address = ByteBuffer.allocate(12).order(ByteOrder.nativeOrder());
      address.putShort((short) LibC.AF_NETLINK).putShort((short) 0).putInt(0).putInt(groups);
      libc.bind(fd, address.array(), 12);
      return new NetlinkSocket(fd);
    } catch (LastErrorException e) {
      libc.close(fd);
      throw e;
    }
  }

  private static ByteBuffer direct() {
    return ByteBuffer.allocateDirect(BUFFER_SIZE).order(ByteOrder.nativeOrder());
  }

  private static void setIntOption(int fd, int level, int option, int value) {
    byte[] bytes = ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(value).array();
    LibC.INSTANCE.setsockopt(fd, level, option, bytes, 4);
  }

  void setReceiveBuffer(int bytes) {
    setIntOption(fd, LibC.SOL_SOCKET, LibC.SO_RCVBUF, bytes);
  }

  /** Makes {@link #receive} return empty after this long without data, so readers can stop. */
  void setReceiveTimeout(int millis) {
    byte[] timeval =
        ByteBuffer.allocate(16).order(ByteOrder.nativeOrder())
            .putLong(millis / 1000).putLong((millis % 1000) * 1000L).array();
    LibC.INSTANCE.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_RCVTIMEO, timeval, 16);
  }

  /** One request of a batch: what to send, and how a refusal of it reads. */
  record Request(int type, int flags, Consumer<NetlinkMessage> body, Failure failure) {}

  /** Sees one received message; returns true when it was the last one awaited. */
  private interface Visitor {
    boolean visit(int offset, int length, int type, int flags, int seq);
  }

  /**
   * Sends a request and waits for the kernel's acknowledgement; returns the replies that came
   * before it (a GET answers with the object).
   */
  synchronized List<ByteBuffer> execute(
      int type, int flags, Consumer<NetlinkMessage> body, Failure failure) {
    int seq = send(type, NetlinkMessage.NLM_F_REQUEST | NetlinkMessage.NLM_F_ACK | flags, body);
    List<ByteBuffer> replies = new ArrayList<>(1);
    collectReplies(seq, failure, replies);
    return replies;
  }

  /** Executes one request of the kind a batch holds; throws its refusal. */
  void execute(Request request) {
    execute(request.type(), request.flags(), request.body(), request.failure());
  }

  /** Sends a dump request and returns a copy of every message of the reply. */
  synchronized List<ByteBuffer> dump(int type, Consumer<NetlinkMessage> body, Failure failure) {
    int seq = send(type, NetlinkMessage.NLM_F_REQUEST | NetlinkMessage.NLM_F_DUMP, body);
    List<ByteBuffer> messages = new ArrayList<>();
    collectReplies(seq, failure, messages);
    return messages;
  }

  /**
   * Sends requests back to back, many to one sendmsg, each with its own sequence number and ack
   * flag, then reads the acks: the kernel works through a sendmsg in order and answers every
   * message, so one refusal neither stops the rest nor hides their outcome. Returns per request
   * its refusal, or null. Chunks stay small enough that the acks fit the receive buffer.
   */
  synchronized List<HostException> executeAll(List<Request> requests) {
    HostException[] failures = new HostException[requests.size()];
    int next = 0;
    while (next < requests.size()) {
      int first = next;
      int firstSeq = sequence.get() + 1;
      sendBuffer.clear();
      while (next < requests.size()
          && next - first < MAX_IN_FLIGHT
          && sendBuffer.remaining() >= MAX_REQUEST_LENGTH) {
        Request request = requests.get(next++);
        int flags = NetlinkMessage.NLM_F_REQUEST | NetlinkMessage.NLM_F_ACK | request.flags();
        NetlinkMessage message =
            new NetlinkMessage(sendBuffer, request.type(), flags, sequence.incrementAndGet());
        request.body().accept(message);
        message.end();
      }
      transmit(sendBuffer.flip());
      awaitAcks(requests, first, next, firstSeq, failures);
    }
    return java.util.Arrays.asList(failures);
  }

  private void awaitAcks(
      List<Request> requests, int first, int end, int firstSeq, HostException[] failures) {
    int[] awaited = {end - first};
    receiveUntil(
        (offset, length, type, flags, seq) -> {
          int slot = seq - firstSeq; // int arithmetic: right across a sequence wrap
          if (type != NetlinkMessage.NLMSG_ERROR || slot < 0 || slot >= end - first) {
            return false;
          }
          int error = errorCode(offset, length);
          if (error != 0) {
            failures[first + slot] = requests.get(first + slot).failure()
                .of(Errno.of(error), extendedAck(offset, length, flags, type));
          }
          return --awaited[0] == 0;
        });
  }

  private int send(int type, int flags, Consumer<NetlinkMessage> body) {
    int seq = sequence.incrementAndGet();
    NetlinkMessage message = new NetlinkMessage(sendBuffer.clear(), type, flags, seq);
    body.accept(message);
    transmit(message.finish());
    return seq;
  }

  private void transmit(ByteBuffer out) {
    while (true) {
      try {
        LibC.INSTANCE.send(fd, out, out.limit(), 0);
        return;
      } catch (LastErrorException e) {
        if (e.getErrorCode() != LibC.EINTR) {
          throw e;
        }
      }
    }
  }

  /** Reads until the ack (or DONE) of {@code seq}; adds data messages to {@code into}. */
  private void collectReplies(int seq, Failure failure, List<ByteBuffer> into) {
    receiveUntil(
        (offset, length, type, flags, messageSeq) -> {
          if (messageSeq != seq) {
            return false;
          }
          if (type == NetlinkMessage.NLMSG_ERROR || type == NetlinkMessage.NLMSG_DONE) {
            int error = errorCode(offset, length);
            if (error != 0) {
              throw failure.of(Errno.of(error), extendedAck(offset, length, flags, type));
            }
            return true;
          }
          into.add(copy(offset, length));
          return false;
        });
  }

  /** Receives datagrams and walks their messages until the visitor has seen its last one. */
  private void receiveUntil(Visitor visitor) {
    while (true) {
      int received = receive(receiveBuffer);
      int offset = 0;
      while (offset + NetlinkMessage.HEADER_LENGTH <= received) {
        int length = receiveBuffer.getInt(offset);
        if (length < NetlinkMessage.HEADER_LENGTH || offset + length > received) {
          break;
        }
        int type = Short.toUnsignedInt(receiveBuffer.getShort(offset + 4));
        int flags = Short.toUnsignedInt(receiveBuffer.getShort(offset + 6));
        if (visitor.visit(offset, length, type, flags, receiveBuffer.getInt(offset + 8))) {
          return;
        }
        offset += NetlinkMessage.align(length);
      }
    }
  }

  /** The (negative) errno of an NLMSG_ERROR, 0 for an ack; a DONE carries the dump's status. */
  private int errorCode(int offset, int length) {
    return length >= NetlinkMessage.HEADER_LENGTH + 4 ? receiveBuffer.getInt(offset + 16) : 0;
  }

  /** The kernel's error text (NLMSGERR_ATTR_MSG) after the capped echo of our header. */
  private Optional<String> extendedAck(int offset, int length, int flags, int type) {
    if (type != NetlinkMessage.NLMSG_ERROR || (flags & NetlinkMessage.NLM_F_ACK_TLVS) == 0) {
      return Optional.empty();
    }
    int tlvStart = offset + NetlinkMessage.HEADER_LENGTH + 4 + NetlinkMessage.HEADER_LENGTH;
    return NetlinkAttributes.parse(receiveBuffer, tlvStart, offset + length)
        .string(NLMSGERR_ATTR_MSG)
        .filter(text -> !text.isBlank());
  }

  private ByteBuffer copy(int offset, int length) {
    ByteBuffer copy = ByteBuffer.allocate(length).order(ByteOrder.nativeOrder());
    copy.put(receiveBuffer.duplicate().position(offset).limit(offset + length));
    return copy.flip();
  }

  /**
   * Receives one datagram into the buffer (from position 0); returns its length, or 0 on a receive
   * timeout. ENOBUFS (the socket overflowed) propagates as {@link LastErrorException}.
   */
  int receive(ByteBuffer into) {
    while (true) {
      try {
        return (int) LibC.INSTANCE.recv(fd, into.clear(), into.capacity(), 0);
      } catch (LastErrorException e) {
        if (e.getErrorCode() == LibC.EAGAIN) {
          return 0;
        }
        if (e.getErrorCode() != LibC.EINTR || closed) {
          throw e;
        }
      }
    }
  }

  /**
   * Throws away everything queued, without waiting. After an overflow the kernel reports ENOBUFS
   * again only once the queue has been empty, so a reader must drain before it re-dumps.
   */
  void drain(ByteBuffer scratch) {
    while (true) {
      try {
        if (LibC.INSTANCE.recv(fd, scratch.clear(), scratch.capacity(), LibC.MSG_DONTWAIT) <= 0) {
          return;
        }
      } catch (LastErrorException e) {
        if (e.getErrorCode() == LibC.EAGAIN) {
          return;
        }
        if (e.getErrorCode() != LibC.ENOBUFS && e.getErrorCode() != LibC.EINTR) {
          throw e;
        }
      }
    }
  }

  /** The index of a link in this socket's namespace (SIOCGIFINDEX, no netlink round trip). */
  Optional<Integer> indexOf(String name) {
    byte[] request = new byte[IFREQ_SIZE];
    byte[] bytes = name.getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(bytes, 0, request, 0, Math.min(bytes.length, 15));
    try {
      LibC.INSTANCE.ioctl(fd, SIOCGIFINDEX, request);
    } catch (LastErrorException e) {
      if (e.getErrorCode() == Errno.ENODEV.code()) {
        return Optional.empty();
      }
      throw e;
    }
    return Optional.of(ByteBuffer.wrap(request).order(ByteOrder.nativeOrder()).getInt(16));
  }

  /** The name of a link in this socket's namespace (SIOCGIFNAME). */
  Optional<String> nameOf(int index) {
    byte[] request = new byte[IFREQ_SIZE];
    ByteBuffer.wrap(request).order(ByteOrder.nativeOrder()).putInt(16, index);
    try {
      LibC.INSTANCE.ioctl(fd, SIOCGIFNAME, request);
    } catch (LastErrorException e) {
      return Optional.empty();
    }
    return Optional.of(NetlinkAttributes.cString(java.util.Arrays.copyOf(request, 16)));
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      LibC.INSTANCE.close(fd);
    }
  }
}
