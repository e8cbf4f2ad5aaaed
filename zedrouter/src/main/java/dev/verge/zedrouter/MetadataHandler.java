package dev.verge.zedrouter;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * EVE's metadata API for the apps of one NI: {@code /eve/v1/network.json}, {@code
 * /eve/v1/external_ipv4} and {@code /eve/v1/hostname}; and, as EVE's msrv does, the part of the
 * OpenStack metadata API cloud-init reads: {@code /openstack/<version>/user_data} (the caller's
 * own user data, 404 when it has none) and {@code /openstack/<version>/meta_data.json}. The caller is known by its source address
 * (the DNAT to the gateway keeps it); a caller that is no app of this NI is refused, so one NI's
 * apps never learn about another's even if a packet found its way here.
 */
@ChannelHandler.Sharable
final class MetadataHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String bridge;
  private final Supplier<Metadata> metadata;

  MetadataHandler(String bridge, Supplier<Metadata> metadata) {
    this.bridge = bridge;
    this.metadata = metadata;
  }

  @Override
  protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) throws Exception {
    InetSocketAddress caller = (InetSocketAddress) ctx.channel().remoteAddress();
    String callerIp = caller.getAddress().getHostAddress();
    FullHttpResponse response = answer(request.method(), new QueryStringDecoder(request.uri()).path(), callerIp,
        caller.getPort());
    response.headers().set(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
    response.headers().set(HttpHeaderNames.CONNECTION, "close");
    ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
  }

  FullHttpResponse answer(HttpMethod method, String path, String callerIp, int callerPort) throws Exception {
    if (!method.equals(HttpMethod.GET)) {
      return text(HttpResponseStatus.METHOD_NOT_ALLOWED, "only GET\n");
    }
    Metadata now = metadata.get();
    Optional<Metadata.App> app = now.app(bridge, callerIp);
    if (app.isEmpty()) {
      return text(HttpResponseStatus.FORBIDDEN, callerIp + " is no app of this network instance\n");
    }
    String external = now.externalIpv4(bridge).orElse("");
    return switch (path) {
      case "/eve/v1/network.json" -> {
        Map<String, String> body = new LinkedHashMap<>();
        body.put("caller-ip", callerIp + ":" + callerPort);
        body.put("external-ipv4", external);
        body.put("hostname", app.get().uuid());
        body.put("name", app.get().name());
        yield response(HttpResponseStatus.OK, "application/json", JSON.writeValueAsString(body) + "\n");
      }
      case "/eve/v1/external_ipv4" -> external.isEmpty()
          ? text(HttpResponseStatus.NO_CONTENT, "")
          : text(HttpResponseStatus.OK, external);
      case "/eve/v1/hostname" -> text(HttpResponseStatus.OK, app.get().uuid());
      case "/openstack", "/openstack/" -> text(HttpResponseStatus.OK, "latest\n");
      default -> path.startsWith("/openstack/") ? openstack(path, app.get())
          : text(HttpResponseStatus.NOT_FOUND, "no such metadata: " + path + "\n");
    };
  }

  /** {@code /openstack/<version>/<file>}: any version gets the same answers, as from EVE. */
  private static FullHttpResponse openstack(String path, Metadata.App app) throws Exception {
    String[] parts = path.substring("/openstack/".length()).split("/");
    String file = parts.length == 2 && !parts[0].isEmpty() ? parts[1] : "";
    return switch (file) {
      case "user_data" -> app.userData().isEmpty()
          ? text(HttpResponseStatus.NOT_FOUND, "no user data for this app\n")
          : response(HttpResponseStatus.OK, "text/plain; charset=utf-8", app.userData());
      case "meta_data.json" -> {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("uuid", app.uuid());
        body.put("hostname", app.name());
        body.put("name", app.name());
        body.put("launch_index", 0);
        yield response(HttpResponseStatus.OK, "application/json", JSON.writeValueAsString(body) + "\n");
      }
      default -> text(HttpResponseStatus.NOT_FOUND, "no such metadata: " + path + "\n");
    };
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close(); // a broken request ends its connection, never the server
  }

  private static FullHttpResponse text(HttpResponseStatus status, String body) {
    return response(status, "text/plain; charset=utf-8", body);
  }

  private static FullHttpResponse response(HttpResponseStatus status, String type, String body) {
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
        Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, type);
    return response;
  }
}
