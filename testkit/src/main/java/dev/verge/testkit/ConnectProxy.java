package dev.verge.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A real HTTP CONNECT proxy for tests: it answers each CONNECT with 200, then relays bytes both
 * ways until either side closes. Anything but CONNECT gets 405. It records every request line, so
 * a test can prove the traffic went through it. Runs in the test's JVM, or as its own process
 * inside a network namespace: {@code java -cp ... dev.verge.testkit.ConnectProxy <address> <port>}
 * (prints {@code proxy listening on <address>:<port>} once it accepts connections).
 */
public final class ConnectProxy implements AutoCloseable {
  private final ServerSocket server;
  private final List<String> requests = new CopyOnWriteArrayList<>();

  private ConnectProxy(ServerSocket server) {
    this.server = server;
    Thread acceptor = new Thread(this::accept, "connect-proxy");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** Listens on the address (port 0: any free port). */
  public static ConnectProxy start(InetAddress address, int port) throws IOException {
    ServerSocket server = new ServerSocket();
    server.setReuseAddress(true);
    server.bind(new InetSocketAddress(address, port), 50);
    return new ConnectProxy(server);
  }

  public static void main(String[] args) throws Exception {
    try (ConnectProxy proxy = start(InetAddress.getByName(args[0]), Integer.parseInt(args[1]))) {
      System.out.println("proxy listening on " + args[0] + ":" + proxy.port());
      System.out.flush();
      Thread.currentThread().join();
    }
  }

  public int port() {
    return server.getLocalPort();
  }

  /** The request lines seen so far, e.g. {@code CONNECT 203.0.113.10:7443 HTTP/1.1}. */
  public List<String> requests() {
    return List.copyOf(requests);
  }

  @Override
  public void close() throws IOException {
    server.close();
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        Thread t = new Thread(() -> serve(client), "connect-proxy-client");
        t.setDaemon(true);
        t.start();
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  private void serve(Socket client) {
    try (client) {
      InputStream in = client.getInputStream();
      String request = readLine(in);
      requests.add(request);
      System.out.println("proxy: " + request);
      while (!readLine(in).isEmpty()) {
        // headers: nothing to act on
      }
      String[] parts = request.split(" ");
      if (parts.length != 3 || !parts[0].equals("CONNECT")) {
        write(client.getOutputStream(), "HTTP/1.1 405 Method Not Allowed\r\n\r\n");
        return;
      }
      int colon = parts[1].lastIndexOf(':');
      String host = parts[1].substring(0, colon).replace("[", "").replace("]", "");
      int port = Integer.parseInt(parts[1].substring(colon + 1));
      Socket upstream;
      try {
        upstream = new Socket();
        upstream.connect(new InetSocketAddress(host, port), 5000);
      } catch (IOException e) {
        write(client.getOutputStream(), "HTTP/1.1 502 Bad Gateway\r\n\r\n");
        return;
      }
      try (upstream) {
        write(client.getOutputStream(), "HTTP/1.1 200 Connection established\r\n\r\n");
        Thread back = new Thread(() -> relay(upstream, client), "connect-proxy-relay");
        back.setDaemon(true);
        back.start();
        relay(client, upstream);
        back.join(5000);
      }
    } catch (IOException | RuntimeException e) {
      // the client went away or sent nonsense: nothing to report but the closed socket
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Copies until {@code from} ends, then half-closes {@code to} so the other side sees the end. */
  private static void relay(Socket from, Socket to) {
    byte[] buffer = new byte[16384];
    try {
      InputStream in = from.getInputStream();
      OutputStream out = to.getOutputStream();
      for (int n; (n = in.read(buffer)) != -1; ) {
        out.write(buffer, 0, n);
        out.flush();
      }
      to.shutdownOutput();
    } catch (IOException e) {
      try {
        to.close();
        from.close();
      } catch (IOException ignored) {
        // both are going anyway
      }
    }
  }

  private static String readLine(InputStream in) throws IOException {
    StringBuilder b = new StringBuilder();
    for (int c = in.read(); c != -1 && c != '\n'; c = in.read()) {
      if (c != '\r') {
        b.append((char) c);
      }
      if (b.length() > 8192) {
        throw new IOException("request line too long");
      }
    }
    return b.toString();
  }

  private static void write(OutputStream out, String text) throws IOException {
    out.write(text.getBytes(StandardCharsets.US_ASCII));
    out.flush();
  }
}
