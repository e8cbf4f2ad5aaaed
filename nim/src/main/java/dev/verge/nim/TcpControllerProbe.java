package dev.verge.nim;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/**
 * The controller test: a TCP connection to the controller's device service, from the port's
 * address, within the timeout. Cheaper than EVE's HTTPS GET /ping, so it can run often as a
 * liveness probe; the controller session itself (zedagent) proves TLS and identity.
 * Connections are opened on {@code sockets}' thread: for a node started with {@code ip netns exec}
 * any thread is in the right namespace; tests pass a thread that entered theirs.
 */
public final class TcpControllerProbe implements ControllerProbe, AutoCloseable {
  private final String host;
  private final int port;
  private final ExecutorService sockets;
  private volatile java.util.Optional<TlsCheck> tls = java.util.Optional.empty();

  /**
   * What a verification checks beyond the TCP connection: a TLS handshake whose certificate chain
   * ends in the controller's CA and names the controller. A captive portal, a transparent proxy or
   * anything else that answers TCP on the way fails it (EVE's HTTPS GET /ping proves the same;
   * the controller serves gRPC over mutual TLS, not /ping). No client certificate is sent: nim
   * proves the path and the controller's identity; zedagent's session proves the device's.
   *
   * @param serverName the name the controller's certificate must carry
   */
  public record TlsCheck(String serverName, java.security.cert.X509Certificate controllerCa) {}

  /** Verifications check the controller's TLS identity too. */
  public TcpControllerProbe withTlsCheck(TlsCheck check) {
    this.tls = java.util.Optional.of(check);
    return this;
  }

  public TcpControllerProbe(String target, ExecutorService sockets) {
    int colon = target.lastIndexOf(':');
    if (colon <= 0 || colon == target.length() - 1) {
      throw new IllegalArgumentException("controller target '" + target + "' is not host:port");
    }
    this.host = target.substring(0, colon).replace("[", "").replace("]", "");
    this.port = Integer.parseInt(target.substring(colon + 1));
    this.sockets = sockets;
  }

  /** Probes from a thread pool of this namespace. */
  public static TcpControllerProbe inCurrentNamespace(String target) {
    return new TcpControllerProbe(target, Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "nim-probe");
      t.setDaemon(true);
      return t;
    }));
  }

  @Override
  public void probe(Request request, Consumer<Result> done) {
    try {
      sockets.execute(() -> done.accept(connect(request)));
    } catch (RejectedExecutionException e) {
      done.accept(Result.failure("prober stopped"));
    }
  }

  private Result connect(Request request) {
    long start = System.nanoTime();
    int budgetMs = (int) Math.max(1, request.timeout().toMillis());
    java.util.Optional<Port.Proxy> proxy = request.proxy().filter(p -> !p.bypasses(host));
    if (proxy.isPresent()) {
      return throughProxy(request, proxy.get(), start, budgetMs);
    }
    try (Socket socket = new Socket()) {
      socket.bind(new InetSocketAddress(request.source(), 0));
      socket.connect(new InetSocketAddress(host, port), budgetMs);
      if (request.verify() && tls.isPresent()) {
        return handshake(socket, tls.get(), start, budgetMs);
      }
      return Result.success(Duration.ofNanos(System.nanoTime() - start));
    } catch (IOException | RuntimeException e) {
      return Result.failure("cannot reach controller " + host + ":" + port + " from " + request.source().getHostAddress()
          + " on " + request.ifName() + ": " + e.getMessage());
    }
  }

  /**
   * The controller through the port's proxy: an HTTP CONNECT to the controller's device port, as
   * the TLS session would be tunnelled; a 2xx answer means the proxy reached the controller. A
   * proxy failure is this port's error only (the other ports are tested as usual).
   */
  private Result throughProxy(Request request, Port.Proxy proxy, long start, int budgetMs) {
    String authority = (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    try (Socket socket = new Socket()) {
      socket.bind(new InetSocketAddress(request.source(), 0));
      socket.connect(new InetSocketAddress(proxy.host(), proxy.port()), budgetMs);
      int left = (int) Math.max(1, budgetMs - Duration.ofNanos(System.nanoTime() - start).toMillis());
      socket.setSoTimeout(left);
      socket.getOutputStream().write(("CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n")
          .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      String status = statusLine(socket.getInputStream());
      String[] parts = status.split(" ", 3);
      if (parts.length < 2 || !parts[0].startsWith("HTTP/") || !parts[1].matches("\\d{3}")) {
        return Result.failure("proxy " + proxy.url() + " gave no HTTP answer to CONNECT " + authority + ": '" + status + "'");
      }
      if (!parts[1].startsWith("2")) {
        return Result.failure("proxy " + proxy.url() + " refused CONNECT " + authority + ": " + status.substring(parts[0].length() + 1));
      }
      if (request.verify() && tls.isPresent()) {
        skipHeaders(socket.getInputStream());
        return handshake(socket, tls.get(), start, budgetMs);
      }
      return Result.success(Duration.ofNanos(System.nanoTime() - start));
    } catch (IOException | RuntimeException e) {
      return Result.failure("cannot reach controller " + authority + " through proxy " + proxy.url() + " from "
          + request.source().getHostAddress() + " on " + request.ifName() + ": " + e.getMessage());
    }
  }

  /** The rest of the proxy's answer up to the empty line: then the tunnel starts. */
  private static void skipHeaders(java.io.InputStream in) throws IOException {
    while (!statusLine(in).isEmpty()) {
      // a header line
    }
  }

  /** The TLS handshake over an open connection (direct or tunnelled), within what is left of the budget. */
  private Result handshake(Socket socket, TlsCheck check, long start, int budgetMs) {
    try {
      javax.net.ssl.SSLContext context = javax.net.ssl.SSLContext.getInstance("TLS");
      IdentityWitness witness = new IdentityWitness(
          (javax.net.ssl.X509ExtendedTrustManager) dev.verge.proto.Certificates.trustManagers(check.controllerCa())[0]);
      context.init(null, new javax.net.ssl.TrustManager[] {witness}, null);
      int left = (int) Math.max(1, budgetMs - Duration.ofNanos(System.nanoTime() - start).toMillis());
      socket.setSoTimeout(left);
      try (javax.net.ssl.SSLSocket ssl = (javax.net.ssl.SSLSocket) context.getSocketFactory()
          .createSocket(socket, check.serverName(), port, false)) {
        javax.net.ssl.SSLParameters params = ssl.getSSLParameters();
        params.setEndpointIdentificationAlgorithm("HTTPS"); // the certificate must name the controller
        ssl.setSSLParameters(params);
        try {
          ssl.startHandshake();
        } catch (IOException e) {
          // The controller wants a client certificate, which nim does not present: once its own
          // certificate was proven, its refusal of an anonymous client still shows it is there.
          if (!witness.proven) {
            throw e;
          }
        }
      }
      return Result.success(Duration.ofNanos(System.nanoTime() - start));
    } catch (IOException | java.security.GeneralSecurityException | RuntimeException e) {
      return Result.failure("controller " + check.serverName() + " at " + host + ":" + port
          + " did not prove its identity over TLS: " + e.getMessage());
    }
  }

  /** Checks the controller's chain and name like the trust manager it wraps, and remembers that it passed. */
  private static final class IdentityWitness extends javax.net.ssl.X509ExtendedTrustManager {
    private final javax.net.ssl.X509ExtendedTrustManager delegate;
    volatile boolean proven;

    IdentityWitness(javax.net.ssl.X509ExtendedTrustManager delegate) {
      this.delegate = delegate;
    }

    @Override
    public void checkServerTrusted(java.security.cert.X509Certificate[] chain, String authType, Socket socket)
        throws java.security.cert.CertificateException {
      delegate.checkServerTrusted(chain, authType, socket);
      proven = true;
    }

    @Override
    public void checkServerTrusted(java.security.cert.X509Certificate[] chain, String authType,
        javax.net.ssl.SSLEngine engine) throws java.security.cert.CertificateException {
      delegate.checkServerTrusted(chain, authType, engine);
      proven = true;
    }

    @Override
    public void checkServerTrusted(java.security.cert.X509Certificate[] chain, String authType)
        throws java.security.cert.CertificateException {
      throw new java.security.cert.CertificateException("the controller's name cannot be checked without the socket");
    }

    @Override
    public void checkClientTrusted(java.security.cert.X509Certificate[] chain, String authType, Socket socket)
        throws java.security.cert.CertificateException {
      throw new java.security.cert.CertificateException("nim is never a TLS server");
    }

    @Override
    public void checkClientTrusted(java.security.cert.X509Certificate[] chain, String authType,
        javax.net.ssl.SSLEngine engine) throws java.security.cert.CertificateException {
      throw new java.security.cert.CertificateException("nim is never a TLS server");
    }

    @Override
    public void checkClientTrusted(java.security.cert.X509Certificate[] chain, String authType)
        throws java.security.cert.CertificateException {
      throw new java.security.cert.CertificateException("nim is never a TLS server");
    }

    @Override
    public java.security.cert.X509Certificate[] getAcceptedIssuers() {
      return delegate.getAcceptedIssuers();
    }
  }

  /** The first line of the answer (at most 1 KiB), without its line end. */
  private static String statusLine(java.io.InputStream in) throws IOException {
    StringBuilder line = new StringBuilder();
    for (int c = in.read(); c != -1 && c != '\n' && line.length() < 1024; c = in.read()) {
      if (c != '\r') {
        line.append((char) c);
      }
    }
    return line.toString();
  }

  @Override
  public void close() {
    sockets.shutdownNow();
  }
}
