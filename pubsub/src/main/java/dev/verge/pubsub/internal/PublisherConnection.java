package dev.verge.pubsub.internal;

import com.google.protobuf.Message;
import dev.verge.proto.bus.v1.Complete;
import dev.verge.proto.bus.v1.Delete;
import dev.verge.proto.bus.v1.Envelope;
import dev.verge.proto.bus.v1.Hello;
import dev.verge.proto.bus.v1.Refused;
import dev.verge.proto.bus.v1.Restarted;
import dev.verge.pubsub.Durability;
import dev.verge.pubsub.PublisherInfo;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The publisher's end of one subscriber connection. Changes queue per key (a newer value replaces
 * the queued one, in place) and are written while the socket is writable; a subscriber that
 * reads slowly therefore gets the latest values, not a backlog.
 */
final class PublisherConnection<T extends Message> extends ChannelInboundHandlerAdapter
    implements PublicationSink<T> {
  private static final Logger log = LoggerFactory.getLogger(PublisherConnection.class);
  private static final Object DELETED = new Object();
  /** Frames written between flushes, so writability reflects the socket. */
  private static final int FLUSH_EVERY = 256;

  private final DefaultPublication<T> publication;
  private final BusCounters counters;
  private Channel channel;
  private boolean attached;

  // Guarded by this: queue of keys (String) and control frames (Envelope), in order.
  private final ArrayDeque<Object> order = new ArrayDeque<>();
  private final Map<String, Object> latest = new HashMap<>(); // key -> T or DELETED
  private boolean flushScheduled;
  private boolean abandoned;
  private final Runnable flushTask = this::flush;

  PublisherConnection(DefaultPublication<T> publication, BusCounters counters) {
    this.publication = publication;
    this.counters = counters;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    channel = ctx.channel();
    ctx.fireChannelActive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    var envelope = (Envelope) msg;
    if (!envelope.hasRequest() || attached) {
      counters.protocolErrors.increment();
      log.warn("topic {}: unexpected frame from subscriber, closing", publication.topic());
      ctx.close();
      return;
    }
    var request = envelope.getRequest();
    var topic = publication.topic();
    if (!request.getTopic().equals(topic.name())
        || !request.getMessageType().equals(topic.messageType())) {
      counters.protocolErrors.increment();
      String reason =
          "publisher of "
              + topic
              + " ("
              + topic.messageType()
              + ") refuses a request for "
              + request.getTopic()
              + " ("
              + request.getMessageType()
              + ")";
      log.warn(reason);
      ctx.writeAndFlush(
              Envelope.newBuilder().setRefused(Refused.newBuilder().setReason(reason)).build())
          .addListener(ChannelFutureListener.CLOSE);
      return;
    }
    attached = true;
    publication.attach(this);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    publication.detach(this);
    ctx.fireChannelInactive();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (ctx.channel().isWritable()) {
      scheduleFlush();
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (cause instanceof IOException) {
      // A subscriber that exits or is killed: normal, it will resynchronise if it comes back.
      log.debug("topic {}: subscriber connection lost: {}", publication.topic(), cause.toString());
    } else {
      counters.protocolErrors.increment();
      log.warn("topic {}: subscriber connection failed: {}", publication.topic(), cause.toString());
    }
    ctx.close();
  }

  // ---- PublicationSink (publication lock held) ----

  @Override
  public void beginSnapshot(PublisherInfo info) {
    var hello =
        Hello.newBuilder()
            .setTopic(info.topic())
            .setMessageType(info.messageType())
            .setPersistent(info.durability() == Durability.PERSISTENT)
            .setPublisherEpoch(info.epoch())
            .setRestartCounter(info.restartCounter());
    control(Envelope.newBuilder().setHello(hello).build());
  }

  @Override
  public void update(String key, T value) {
    change(key, value);
  }

  @Override
  public void delete(String key) {
    change(key, DELETED);
  }

  @Override
  public void endSnapshot() {
    control(Envelope.newBuilder().setComplete(Complete.getDefaultInstance()).build());
  }

  @Override
  public void restarted(long epoch, long restartCounter) {
    control(
        Envelope.newBuilder()
            .setRestarted(
                Restarted.newBuilder().setPublisherEpoch(epoch).setRestartCounter(restartCounter))
            .build());
  }

  private synchronized void change(String key, Object value) {
    if (latest.put(key, value) == null) {
      order.add(key);
    } else {
      counters.coalesced.increment();
    }
    scheduleFlush();
  }

  private synchronized void control(Envelope envelope) {
    order.add(envelope);
    scheduleFlush();
  }

  private synchronized void scheduleFlush() {
    if (abandoned) {
      order.clear();
      latest.clear();
      return;
    }
    if (flushScheduled || order.isEmpty()) {
      return;
    }
    // A loop that is shutting down still accepts tasks until it has drained; its agent is gone
    // already (AgentLoop.close drops queued tasks), so nothing more leaves on its connections.
    if (channel.eventLoop().isShuttingDown()) {
      abandon();
      return;
    }
    flushScheduled = true;
    try {
      channel.eventLoop().execute(flushTask);
    } catch (RejectedExecutionException loopClosed) {
      abandon();
    }
  }

  /** The agent loop serving this connection is gone and the socket with it: stop queueing. */
  private void abandon() {
    abandoned = true;
    order.clear();
    latest.clear();
    // Detached from another thread: the publication may be iterating its sinks right now.
    GlobalEventExecutor.INSTANCE.execute(() -> publication.detach(this));
  }

  // ---- the channel's event loop ----

  private void flush() {
    if (channel.eventLoop().isShuttingDown()) {
      synchronized (this) {
        abandon(); // queued before the loop closed: dropped like the agent's own tasks
      }
      return;
    }
    int written = 0;
    while (true) {
      Object next;
      synchronized (this) {
        if (order.isEmpty() || !channel.isWritable()) {
          flushScheduled = false; // resumed by the next change or by writability
          break;
        }
        next = next();
      }
      if (next == null) {
        continue;
      }
      channel.write(next, channel.voidPromise());
      if (++written % FLUSH_EVERY == 0) {
        channel.flush();
      }
    }
    channel.flush();
  }

  /** The next frame: an {@link Envelope}, an encoded update, or null when it cannot be encoded. */
  private Object next() {
    Object head = order.poll();
    if (head instanceof Envelope envelope) {
      return envelope;
    }
    String key = (String) head;
    Object value = latest.remove(key);
    if (value == DELETED) {
      return Envelope.newBuilder().setDelete(Delete.newBuilder().setKey(key)).build();
    }
    try {
      return Framing.encodeUpdate(channel.alloc(), key, (Message) value);
    } catch (IOException | RuntimeException e) {
      // Sizes are checked at publish; a value that still fails to serialize is skipped, loudly.
      counters.protocolErrors.increment();
      log.error("topic {} key {}: value could not be encoded, not sent", publication.topic(), key, e);
      return null;
    }
  }
}
