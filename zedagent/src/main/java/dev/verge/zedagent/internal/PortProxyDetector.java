package dev.verge.zedagent.internal;

import io.grpc.HttpConnectProxiedSocketAddress;
import io.grpc.ProxiedSocketAddress;
import io.grpc.ProxyDetector;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * The controller channel's proxy: the one nim reports for the port that carries controller traffic
 * (grpc-java asks at every name resolution, so a change applies from the next dial on). No proxy,
 * or a controller listed among the exceptions: direct.
 */
public final class PortProxyDetector implements ProxyDetector {
  /** A proxy as nim reports it: {@code http://host:port} and the hosts reached without it. */
  public record PortProxy(String url, List<String> exceptions) {
    public static final PortProxy DIRECT = new PortProxy("", List.of());

    public PortProxy {
      Objects.requireNonNull(url);
      exceptions = List.copyOf(exceptions);
    }

    /** Whether traffic to {@code host} goes direct (curl's NO_PROXY rules, as nim tests them). */
    boolean bypasses(String host) {
      String h = host.toLowerCase(Locale.ROOT);
      for (String e : exceptions) {
        String x = e.toLowerCase(Locale.ROOT);
        String domain = x.startsWith(".") ? x.substring(1) : x;
        if (x.equals("*") || h.equals(domain) || h.endsWith("." + domain)) {
          return true;
        }
      }
      return false;
    }
  }

  private volatile PortProxy current = PortProxy.DIRECT;

  /** Uses this proxy from the next dial on; true when it differs from the one in use. */
  public boolean use(PortProxy wanted) {
    PortProxy proxy = wanted.url().isEmpty() ? PortProxy.DIRECT : wanted; // exceptions alone change nothing
    if (proxy.equals(current)) {
      return false;
    }
    if (!proxy.url().isEmpty()) {
      proxyAddress(proxy.url()); // nim checked it; a bad one fails here, not in grpc's resolver
    }
    current = proxy;
    return true;
  }

  public PortProxy current() {
    return current;
  }

  @Override
  public ProxiedSocketAddress proxyFor(SocketAddress target) {
    PortProxy proxy = current;
    if (proxy.url().isEmpty() || !(target instanceof InetSocketAddress address)
        || proxy.bypasses(address.getHostString())) {
      return null;
    }
    return HttpConnectProxiedSocketAddress.newBuilder()
        .setTargetAddress(address)
        .setProxyAddress(proxyAddress(proxy.url()))
        .build();
  }

  private static InetSocketAddress proxyAddress(String url) {
    URI uri = URI.create(url);
    Optional<String> host = Optional.ofNullable(uri.getHost());
    if (!"http".equals(uri.getScheme()) || host.isEmpty() || uri.getPort() < 1) {
      throw new IllegalArgumentException("not a proxy URL http://host:port: " + url);
    }
    // Resolved here: the proxy is where the device's own resolver still works (an IP in practice).
    return new InetSocketAddress(host.get().replace("[", "").replace("]", ""), uri.getPort());
  }
}
