package dev.verge.pubsub.internal;

import com.google.protobuf.Message;
import dev.verge.proto.bus.v1.Envelope;
import dev.verge.proto.bus.v1.Request;
import dev.verge.pubsub.Durability;
import dev.verge.pubsub.PubSubConfig;
import dev.verge.pubsub.PublisherInfo;
import dev.verge.pubsub.Topic;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The subscriber's end of a socket: connects to the publisher's socket, requests the topic and
 * feeds what arrives into the {@link SubscriberCore}. When the publisher is absent or goes away
 * it redials with doubling back-off; every connection starts with a full dump, which the core
 * uses to sweep keys that vanished meanwhile.
 */
final class SubscriberClient<T extends Message> {
  private static final Logger log = LoggerFactory.getLogger(SubscriberClient.class);

  private final Topic<T> topic;
  private final Path socket;
  private final SubscriberCore<T> core;
  private final EventLoopGroup group;
  private final PubSubConfig config;
  private final BusCounters counters;
  private final Bootstrap bootstrap;
  private long backoffNanos;
  private boolean everConnected;
  private volatile boolean closed;
  private volatile Channel channel;

  SubscriberClient(
      Topic<T> topic,
      Path socket,
      SubscriberCore<T> core,
      EventLoopGroup group,
      PubSubConfig config,
      BusCounters counters) {
    this.topic = topic;
    this.socket = socket;
    this.core = core;
    this.group = group;
    this.config = config;
    this.counters = counters;
    this.backoffNanos = config.reconnectMin().toNanos();
    this.bootstrap =
        new Bootstrap()
            .group(group)
            .channel(EpollDomainSocketChannel.class)
            .handler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    Framing.installRaw(ch.pipeline(), config.maxMessageBytes());
                    ch.pipeline().addLast("subscriber", new Inbound());
                  }
                });
  }

  void start() {
    connect();
  }

  void close() {
    closed = true;
    var ch = channel;
    if (ch != null) {
      ch.close();
    }
  }

  private void connect() {
    if (closed) {
      return;
    }
    ChannelFuture future = bootstrap.connect(new DomainSocketAddress(socket.toFile()));
    future.addListener(
        f -> {
          if (f.isSuccess()) {
            channel = future.channel();
            if (closed) {
              channel.close();
            }
          } else {
            log.debug("topic {}: publisher not reachable at {}", topic, socket);
            retryLater();
          }
        });
  }

  private void retryLater() {
    if (closed) {
      return;
    }
    long delay = backoffNanos;
    backoffNanos = Math.min(backoffNanos * 2, config.reconnectMax().toNanos());
    try {
      group.schedule(this::connect, delay, TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException loopClosed) {
      log.debug("topic {}: the subscriber's loop is closed; not redialling", topic);
    }
  }

  private final class Inbound extends ChannelInboundHandlerAdapter {
    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      var request =
          Request.newBuilder().setTopic(topic.name()).setMessageType(topic.messageType());
      ctx.writeAndFlush(Envelope.newBuilder().setRequest(request).build());
      ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      var frame = (ByteBuf) msg;
      Envelope envelope;
      try {
        if (Framing.readUpdate(frame, topic.parser(), core)) {
          return;
        }
        envelope = Envelope.parseFrom(frame.nioBuffer());
      } catch (IOException e) {
        counters.protocolErrors.increment();
        log.error("topic {}: undecodable frame skipped", topic, e);
        return;
      } finally {
        frame.release();
      }
      switch (envelope.getKindCase()) {
        case HELLO -> {
          var hello = envelope.getHello();
          if (!hello.getMessageType().equals(topic.messageType())) {
            counters.protocolErrors.increment();
            log.error(
                "topic {}: publisher sends {}, expected {}; disconnecting",
                topic,
                hello.getMessageType(),
                topic.messageType());
            ctx.close();
            return;
          }
          if (everConnected) {
            counters.reconnects.increment();
          }
          everConnected = true;
          backoffNanos = config.reconnectMin().toNanos();
          core.beginSnapshot(
              new PublisherInfo(
                  hello.getTopic(),
                  hello.getMessageType(),
                  hello.getPersistent() ? Durability.PERSISTENT : Durability.VOLATILE,
                  hello.getPublisherEpoch(),
                  hello.getRestartCounter()));
        }
        case DELETE -> core.delete(envelope.getDelete().getKey());
        case COMPLETE -> core.endSnapshot();
        case RESTARTED -> {
          var restarted = envelope.getRestarted();
          core.restarted(restarted.getPublisherEpoch(), restarted.getRestartCounter());
        }
        case REFUSED -> {
          counters.protocolErrors.increment();
          log.error("topic {}: publisher refused: {}", topic, envelope.getRefused().getReason());
          ctx.close();
        }
        default -> {
          counters.protocolErrors.increment();
          log.warn("topic {}: unexpected frame {}, disconnecting", topic, envelope.getKindCase());
          ctx.close();
        }
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      log.debug("topic {}: disconnected from publisher", topic);
      retryLater();
      ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (cause instanceof IOException) {
        log.info("topic {}: connection to publisher lost: {}", topic, cause.toString());
      } else {
        counters.protocolErrors.increment();
        log.warn("topic {}: connection to publisher failed: {}", topic, cause.toString());
      }
      ctx.close();
    }
  }
}
