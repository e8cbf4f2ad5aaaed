package dev.verge.zedrouter;

import dev.verge.hostos.Errno;
import dev.verge.hostos.Host;
import dev.verge.hostos.HostException;
import dev.verge.reconciler.Item;
import dev.verge.reconciler.OpContext;
import dev.verge.reconciler.RecreatedConfigurator;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.ReadTimeoutHandler;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The metadata servers, one per local NI on its gateway address, port 80 (the NI's firewall
 * DNATs 169.254.169.254:80 there). Their sockets are opened inside the host's namespace; one
 * Netty thread serves them all (a few small requests per app boot). On the sim there are no
 * sockets: the server is only recorded, and its answers are tested on the handler.
 */
final class MetadataServers extends RecreatedConfigurator implements AutoCloseable {
  static final int PORT = 80;
  private static final int READ_TIMEOUT_SECONDS = 5;

  private final Host host;
  private final boolean bind;
  private final AtomicReference<Metadata> metadata;
  private final Map<String, Channel> servers = new ConcurrentHashMap<>();
  private EventLoopGroup group;

  private MetadataServers(Host host, boolean bind, AtomicReference<Metadata> metadata) {
    this.host = host;
    this.bind = bind;
    this.metadata = metadata;
  }

  /** Servers that listen in the host's namespace. */
  static MetadataServers listening(Host host, AtomicReference<Metadata> metadata) {
    return new MetadataServers(host, true, metadata);
  }

  /** For the sim host: recorded, never bound (the sim has no sockets). */
  static MetadataServers recordedOnly(Host host, AtomicReference<Metadata> metadata) {
    return new MetadataServers(host, false, metadata);
  }

  @Override
  public void create(OpContext ctx, Item item) {
    var server = (Items.MetadataServer) item;
    if (!bind) {
      return; // the sim: the item's presence in the current state is the whole server
    }
    InetSocketAddress address = new InetSocketAddress(server.gateway(), PORT);
    ServerBootstrap bootstrap = bootstrap(group(), new MetadataHandler(server.bridge(), metadata::get));
    // The listening socket is created by bind()'s caller: inside the namespace.
    ChannelFuture bound = host.openInNamespace(() -> bootstrap.bind(address));
    if (!bound.awaitUninterruptibly(5, TimeUnit.SECONDS) || !bound.isSuccess()) {
      bound.channel().close();
      Throwable cause = bound.cause();
      throw new HostException("serve metadata", address.getHostString() + ":" + PORT,
          cause == null ? Errno.ETIMEDOUT : Errno.inMessage(String.valueOf(cause.getMessage())).orElse(Errno.EIO),
          cause == null ? "binding took over 5 s" : String.valueOf(cause.getMessage()));
    }
    servers.put(server.bridge(), bound.channel());
  }

  /** One NI's server, not yet bound: HTTP/1.1 with small request limits, answered by {@code handler}. */
  static ServerBootstrap bootstrap(EventLoopGroup group, MetadataHandler handler) {
    return new ServerBootstrap()
        .group(group)
        .channel(NioServerSocketChannel.class)
        .option(ChannelOption.SO_REUSEADDR, true)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline()
                .addLast(new ReadTimeoutHandler(READ_TIMEOUT_SECONDS, TimeUnit.SECONDS))
                .addLast(new HttpServerCodec(4096, 8192, 8192))
                .addLast(new HttpObjectAggregator(4096))
                .addLast(handler);
          }
        });
  }

  @Override
  public void delete(OpContext ctx, Item item) {
    Channel channel = servers.remove(((Items.MetadataServer) item).bridge());
    if (channel != null) {
      channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
  }

  private synchronized EventLoopGroup group() {
    if (group == null) {
      group = new NioEventLoopGroup(1, r -> {
        Thread t = new Thread(r, "zedrouter-metadata");
        t.setDaemon(true);
        return t;
      });
    }
    return group;
  }

  @Override
  public synchronized void close() {
    servers.values().forEach(Channel::close);
    servers.clear();
    if (group != null) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
      group = null;
    }
  }
}
