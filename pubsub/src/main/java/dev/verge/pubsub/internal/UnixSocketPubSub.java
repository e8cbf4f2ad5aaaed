package dev.verge.pubsub.internal;

import com.google.protobuf.Message;
import dev.verge.pubsub.AgentLoop;
import dev.verge.pubsub.Durability;
import dev.verge.pubsub.PubSub;
import dev.verge.pubsub.PubSubConfig;
import dev.verge.pubsub.PubSubMetrics;
import dev.verge.pubsub.Publication;
import dev.verge.pubsub.Subscription;
import dev.verge.pubsub.SubscriptionHandler;
import dev.verge.pubsub.Topic;
import dev.verge.pubsub.TopicAlreadyPublishedException;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An agent per process: each publication listens on {@code <socketDir>/<agent>/<Type>.sock},
 * each subscription connects to it (and keeps redialling while it is absent). The publication and
 * subscriber logic is the in-JVM one; only the transport differs.
 */
public final class UnixSocketPubSub implements PubSub {
  private static final Logger log = LoggerFactory.getLogger(UnixSocketPubSub.class);
  /** Above this many queued bytes a connection stops writing and lets changes coalesce. */
  private static final WriteBufferWaterMark WATER_MARK =
      new WriteBufferWaterMark(256 * 1024, 1024 * 1024);

  /** sun_path holds 108 bytes including the terminating NUL. */
  private static final int MAX_SOCKET_PATH_BYTES = 107;

  private final PubSubConfig config;
  private final BusParts parts;
  private final EventLoopGroup group;
  private final Map<String, Served> published = new HashMap<>();
  private final Map<SubscriberCore<?>, SubscriberClient<?>> clients = new HashMap<>();
  private boolean closed;

  private record Served(
      DefaultPublication<?> publication, Channel server, ChannelGroup connections, Path socket) {}

  public UnixSocketPubSub(PubSubConfig config) {
    this.config = config;
    this.parts = new BusParts(config);
    this.group = new EpollEventLoopGroup(1, new DefaultThreadFactory("verge-bus-io", true));
  }

  /** The socket of a topic under a socket directory. */
  public static Path socketPath(Path socketDir, Topic<?> topic) {
    return socketDir.resolve(topic.agent()).resolve(topic.type() + ".sock");
  }

  @Override
  public <T extends Message> Publication<T> publish(Topic<T> topic, Durability durability) {
    return publish(topic, durability, null);
  }

  @Override
  public synchronized <T extends Message> Publication<T> publish(
      Topic<T> topic, Durability durability, AgentLoop loop) {
    requireOpen();
    if (published.containsKey(topic.name())) {
      throw new TopicAlreadyPublishedException(topic.name(), "in this process");
    }
    Path socket = socketPath(config.socketDir(), topic);
    claimSocket(topic, socket);
    var publication = parts.publication(topic, durability, p -> unpublished(topic, p));
    var connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    // Bound only now: the state is restored before any subscriber can connect.
    Channel server =
        new ServerBootstrap()
            .group(group, ioLoopOf(loop))
            .channel(EpollServerDomainSocketChannel.class)
            .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
            .childHandler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    connections.add(ch);
                    Framing.install(ch.pipeline(), config.maxMessageBytes());
                    ch.pipeline()
                        .addLast("publisher", new PublisherConnection<>(publication, parts.counters));
                  }
                })
            .bind(new DomainSocketAddress(socket.toFile()))
            .syncUninterruptibly()
            .channel();
    stopListeningWhenTheLoopEnds(loop, server);
    published.put(topic.name(), new Served(publication, server, connections, socket));
    log.info("topic {}: publishing ({}) on {}", topic, durability, socket);
    return publication;
  }

  @Override
  public synchronized <T extends Message> Subscription<T> subscribe(
      Topic<T> topic, AgentLoop loop, SubscriptionHandler<T> handler, Durability expected) {
    requireOpen();
    var core = parts.subscriber(topic, loop, handler, expected, this::unsubscribed);
    var client =
        new SubscriberClient<>(
            topic, socketPath(config.socketDir(), topic), core, ioLoopOf(loop), config, parts.counters);
    clients.put(core, client);
    client.start();
    return core;
  }

  @Override
  public PubSubMetrics metrics() {
    return parts.counters.snapshot();
  }

  @Override
  public void close() {
    List<Served> served;
    List<SubscriberCore<?>> subscribers;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      served = List.copyOf(published.values());
      subscribers = List.copyOf(clients.keySet());
    }
    subscribers.forEach(SubscriberCore::close); // closes its client too
    served.forEach(s -> s.publication().abandon());
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    parts.close();
  }

  /**
   * One publisher per topic across processes: a socket that accepts connections belongs to a live
   * publisher; one that refuses them is left over from a dead one and is replaced.
   */
  private static void claimSocket(Topic<?> topic, Path socket) {
    if (socket.toString().getBytes(StandardCharsets.UTF_8).length > MAX_SOCKET_PATH_BYTES) {
      throw new IllegalArgumentException(
          "topic " + topic + ": socket path longer than the kernel's limit of "
              + MAX_SOCKET_PATH_BYTES + " bytes: " + socket);
    }
    try {
      Files.createDirectories(socket.getParent());
      if (Files.exists(socket)) {
        try (var probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
          probe.connect(UnixDomainSocketAddress.of(socket));
          throw new TopicAlreadyPublishedException(topic.name(), "socket " + socket + " is live");
        } catch (IOException refused) {
          log.info("topic {}: removing stale socket {}", topic, socket);
          Files.deleteIfExists(socket);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("topic " + topic + ": cannot prepare socket " + socket, e);
    }
  }

  private void unpublished(Topic<?> topic, DefaultPublication<?> publication) {
    Served served;
    synchronized (this) {
      served = published.get(topic.name());
      if (served == null || served.publication() != publication) {
        return;
      }
      published.remove(topic.name());
    }
    // Closing the server and its connections makes subscribers redial and wait for the next one.
    served.server().close().syncUninterruptibly();
    served.connections().close();
    try {
      Files.deleteIfExists(served.socket());
    } catch (IOException e) {
      log.warn("topic {}: cannot remove socket {}: {}", topic, served.socket(), e.toString());
    }
  }

  private void unsubscribed(SubscriberCore<?> core) {
    SubscriberClient<?> client;
    synchronized (this) {
      client = clients.remove(core);
    }
    if (client != null) {
      client.close();
    }
  }

  /**
   * The agent's own loop when it can serve sockets, so that frames are written or decoded and
   * handled on one thread, with no wake-up in between. Without a loop, or with another kind of
   * {@link AgentLoop}, the bus's I/O thread serves the connection.
   */
  private EventLoopGroup ioLoopOf(AgentLoop loop) {
    if (loop instanceof SingleThreadAgentLoop agentLoop && agentLoop.epollEventLoop() != null) {
      return agentLoop.epollEventLoop();
    }
    return group;
  }

  /**
   * Once the publishing agent's loop has ended, nothing can serve a new connection: stop
   * listening, so subscribers find no publisher and wait for one, as after a crash, instead of
   * connecting to a socket that drops every connection.
   */
  private static void stopListeningWhenTheLoopEnds(AgentLoop loop, Channel server) {
    if (loop instanceof SingleThreadAgentLoop agentLoop && agentLoop.epollEventLoop() != null) {
      agentLoop.epollEventLoop().terminationFuture().addListener(ended -> server.close());
    }
  }

  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException("bus is closed");
    }
  }
}
