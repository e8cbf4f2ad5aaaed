package dev.verge.hostos.linux;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.verge.hostos.Errno;
import dev.verge.hostos.HostException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * A client of QEMU's machine protocol (QMP) over its Unix socket: capabilities negotiation, status,
 * graceful power-down, NIC hot-plug and unplug. One command at a time, each with a deadline; the
 * asynchronous events QEMU sends in between are kept (a DEVICE_DELETED may arrive before or after
 * the command that waits for it). Not thread-safe: one owner uses it.
 */
public final class QmpClient implements AutoCloseable {
  /** What {@code query-status} says. */
  public record VmStatus(String status, boolean running) {}

  private static final ObjectMapper JSON = new ObjectMapper();

  private final SocketChannel channel;
  private final Selector selector;
  private final Path socket;
  private final Duration timeout;
  private final ByteBuffer in = ByteBuffer.allocate(64 * 1024);
  private final ByteArrayOutputStream line = new ByteArrayOutputStream();
  private final List<JsonNode> events = new ArrayList<>();
  private final String version;
  private boolean closedByPeer;

  private QmpClient(SocketChannel channel, Path socket, Duration timeout) throws IOException {
    this.channel = channel;
    this.socket = socket;
    this.timeout = timeout;
    channel.configureBlocking(false);
    this.selector = Selector.open();
    channel.register(selector, SelectionKey.OP_READ);
    JsonNode greeting = read(deadline(timeout), "greeting");
    JsonNode qemu = greeting.path("QMP").path("version").path("qemu");
    if (qemu.isMissingNode()) {
      throw fail("connect", Errno.EPROTONOSUPPORT, "not a QMP greeting: " + greeting);
    }
    this.version = qemu.path("major").asInt() + "." + qemu.path("minor").asInt() + "." + qemu.path("micro").asInt();
    execute("qmp_capabilities", Map.of());
  }

  /**
   * Connects to QEMU's QMP socket and leaves capabilities negotiation mode.
   *
   * @param timeout for the connection and for each command afterwards
   */
  public static QmpClient connect(Path socket, Duration timeout) {
    SocketChannel channel = null;
    try {
      channel = SocketChannel.open(StandardProtocolFamily.UNIX);
      channel.connect(UnixDomainSocketAddress.of(socket));
      return new QmpClient(channel, socket, timeout);
    } catch (IOException e) {
      closeQuietly(channel);
      throw new HostException("connect QMP", socket.toString(), Errno.inMessage(String.valueOf(e.getMessage())).orElse(Errno.EIO),
          String.valueOf(e.getMessage()));
    } catch (RuntimeException e) {
      closeQuietly(channel);
      throw e;
    }
  }

  /** QEMU's version, from its greeting ({@code 7.2.22}). */
  public String version() {
    return version;
  }

  public VmStatus queryStatus() {
    JsonNode r = execute("query-status", Map.of());
    return new VmStatus(r.path("status").asText(), r.path("running").asBoolean());
  }

  /**
   * Adds a NIC to the running guest: the tap backend, then the device in the given PCI slot.
   * When the device is refused, the backend is removed again.
   */
  public void hotplugNic(String id, String tap, String driver, String mac, String pciAddr, Optional<Integer> hostMtu) {
    Map<String, Object> netdev = new LinkedHashMap<>();
    netdev.put("type", "tap");
    netdev.put("id", id);
    netdev.put("ifname", tap);
    netdev.put("script", "no");
    netdev.put("downscript", "no");
    execute("netdev_add", netdev);
    Map<String, Object> device = new LinkedHashMap<>();
    device.put("driver", driver);
    device.put("id", id + "-nic");
    device.put("netdev", id);
    device.put("mac", mac);
    device.put("addr", pciAddr);
    hostMtu.ifPresent(mtu -> device.put("host_mtu", mtu));
    try {
      execute("device_add", device);
    } catch (HostException e) {
      execute("netdev_del", Map.of("id", id));
      throw e;
    }
  }

  /**
   * Removes a hot-plugged NIC: asks the guest to release the device (it must acknowledge through
   * ACPI), waits for DEVICE_DELETED, then removes the backend.
   *
   * @throws HostException ETIMEDOUT when the guest did not release the device in time
   */
  public void unplugNic(String id, Duration guestTimeout) {
    String deviceId = id + "-nic";
    execute("device_del", Map.of("id", deviceId));
    awaitEvent(e -> e.path("event").asText().equals("DEVICE_DELETED") && e.path("data").path("device").asText().equals(deviceId),
        guestTimeout, "unplug NIC");
    execute("netdev_del", Map.of("id", id));
  }

  /**
   * Shuts the VM down: ACPI power button, then up to {@code graceTime} for the guest to power off;
   * if it does not, QEMU is told to quit. Returns true when the guest shut down by itself.
   */
  public boolean powerdown(Duration graceTime) {
    if (requestPowerdown(graceTime)) {
      return true;
    }
    execute("quit", Map.of());
    return false;
  }

  /**
   * Presses the ACPI power button and waits up to {@code graceTime} for the guest to shut down;
   * returns whether it did. Leaves QEMU as it is otherwise (its supervisor may stop it).
   */
  public boolean requestPowerdown(Duration graceTime) {
    execute("system_powerdown", Map.of());
    try {
      awaitEvent(e -> e.path("event").asText().equals("SHUTDOWN"), graceTime, "power down");
      return true;
    } catch (HostException notInTime) {
      return closedByPeer; // QEMU exited with the guest's power-off
    }
  }

  /** The events received so far, oldest first, and forgets them. */
  public List<JsonNode> takeEvents() {
    List<JsonNode> taken = List.copyOf(events);
    events.clear();
    return taken;
  }

  /**
   * Runs a command and returns its {@code return} value.
   *
   * @throws HostException naming the command and QEMU's error class and description
   */
  public JsonNode execute(String command, Map<String, ?> arguments) {
    ObjectNode request = JSON.createObjectNode().put("execute", command);
    if (!arguments.isEmpty()) {
      request.set("arguments", JSON.valueToTree(arguments));
    }
    write(command, request);
    long deadline = deadline(timeout);
    while (true) {
      JsonNode message = read(deadline, command);
      if (message.has("event")) {
        events.add(message);
      } else if (message.has("error")) {
        JsonNode error = message.get("error");
        throw fail(command, Errno.EINVAL, error.path("class").asText() + ": " + error.path("desc").asText());
      } else if (message.has("return")) {
        return message.get("return");
      }
    }
  }

  private void awaitEvent(Predicate<JsonNode> wanted, Duration within, String operation) {
    long deadline = deadline(within);
    while (true) {
      for (int i = 0; i < events.size(); i++) {
        if (wanted.test(events.get(i))) {
          events.remove(i);
          return;
        }
      }
      JsonNode message;
      try {
        message = read(deadline, operation);
      } catch (HostException e) {
        throw e.errno() == Errno.ETIMEDOUT || closedByPeer
            ? fail(operation, Errno.ETIMEDOUT, "the guest did not respond within " + within.toMillis() + " ms")
            : e;
      }
      if (message.has("event")) {
        events.add(message);
      }
    }
  }

  private void write(String command, JsonNode request) {
    ByteBuffer out = ByteBuffer.wrap((request.toString() + "\n").getBytes(StandardCharsets.UTF_8));
    try {
      while (out.hasRemaining()) {
        if (channel.write(out) == 0) {
          Thread.onSpinWait();
        }
      }
    } catch (IOException e) {
      throw fail(command, Errno.EIO, "cannot write to QEMU: " + e.getMessage());
    }
  }

  /** The next JSON message (one per line), waiting at most until {@code deadline} (nanoTime). */
  private JsonNode read(long deadline, String operation) {
    try {
      while (true) {
        in.flip();
        while (in.hasRemaining()) {
          byte b = in.get();
          if (b == '\n') {
            String text = line.toString(StandardCharsets.UTF_8).trim();
            line.reset();
            in.compact();
            if (text.isEmpty()) {
              in.flip();
              continue;
            }
            return JSON.readTree(text);
          }
          line.write(b);
        }
        in.clear();
        long left = deadline - System.nanoTime();
        if (closedByPeer) {
          throw fail(operation, Errno.EIO, "QEMU closed the QMP connection");
        }
        if (left <= 0) {
          throw fail(operation, Errno.ETIMEDOUT, "no answer from QEMU in time");
        }
        selector.select(Math.max(1, left / 1_000_000));
        selector.selectedKeys().clear();
        if (channel.read(in) < 0) {
          closedByPeer = true;
        }
      }
    } catch (IOException e) {
      throw fail(operation, Errno.EIO, "cannot read from QEMU: " + e.getMessage());
    }
  }

  private static long deadline(Duration within) {
    return System.nanoTime() + within.toNanos();
  }

  private HostException fail(String operation, Errno errno, String reason) {
    return new HostException("QMP " + operation, socket.toString(), errno, reason);
  }

  private static void closeQuietly(SocketChannel channel) {
    if (channel != null) {
      try {
        channel.close();
      } catch (IOException ignored) {
        // nothing left to release
      }
    }
  }

  @Override
  public void close() {
    try {
      selector.close();
    } catch (IOException ignored) {
      // closing anyway
    }
    closeQuietly(channel);
  }
}
