package dev.verge.hostos.linux;

import com.sun.jna.LastErrorException;
import dev.verge.hostos.NetEvents;
import dev.verge.hostos.internal.ListenerFailures;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads netlink multicast announcements on its own thread, decodes them and hands them to a
 * listener. When the socket overflowed (ENOBUFS: the kernel dropped events) it drains what is
 * queued and hands over what {@code onOverflow} makes instead: for rtnetlink a full re-dump, since
 * patching a state with holes in it would be wrong.
 */
final class NetlinkEventStream<E> implements NetEvents.Subscription {
  private static final Logger LOG = LoggerFactory.getLogger(NetlinkEventStream.class);
  private static final int POLL_MILLIS = 200;

  private final NetlinkSocket socket;
  private final Function<ByteBuffer, E> decoder;
  private final Consumer<E> listener;
  private final Supplier<E> onOverflow;
  private final Thread reader;
  private volatile boolean closed;

  /** {@code decoder} returns null for messages the listener does not care about. */
  NetlinkEventStream(
      NetlinkSocket socket, Function<ByteBuffer, E> decoder, Consumer<E> listener,
      Supplier<E> onOverflow) {
    this.socket = socket;
    this.decoder = decoder;
    this.listener = listener;
    this.onOverflow = onOverflow;
    socket.setReceiveTimeout(POLL_MILLIS);
    this.reader = new Thread(this::readLoop, "netlink-events");
    reader.setDaemon(true);
    reader.start();
  }

  private void readLoop() {
    ByteBuffer buffer = ByteBuffer.allocateDirect(64 * 1024).order(ByteOrder.nativeOrder());
    while (!closed) {
      int received;
      try {
        received = socket.receive(buffer);
      } catch (LastErrorException e) {
        if (closed) {
          return;
        }
        if (e.getErrorCode() == LibC.ENOBUFS) {
          // What is queued predates the loss; the dump supersedes it. Events queued after the
          // drain are newer than nothing we deliver, so applying them after the dump converges.
          socket.drain(buffer);
          deliver(onOverflow.get());
          continue;
        }
        throw e;
      }
      int offset = 0;
      while (offset + NetlinkMessage.HEADER_LENGTH <= received) {
        int length = buffer.getInt(offset);
        if (length < NetlinkMessage.HEADER_LENGTH || offset + length > received) {
          break;
        }
        ByteBuffer message =
            buffer.duplicate().position(offset).limit(offset + length).slice()
                .order(ByteOrder.nativeOrder());
        E event = decoder.apply(message);
        if (event != null) {
          deliver(event);
        }
        offset += NetlinkMessage.align(length);
      }
    }
  }

  private void deliver(E event) {
    try {
      listener.accept(event);
    } catch (RuntimeException e) {
      // A listener's bug must not end the stream for everyone else's events.
      ListenerFailures.report(LOG, "netlink event listener on " + event, e);
    }
  }

  @Override
  public void close() {
    closed = true;
    try {
      reader.join(POLL_MILLIS * 5L);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    socket.close();
  }
}
