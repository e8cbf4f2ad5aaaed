package dev.verge.controller.client;

import dev.verge.proto.Certificates;
import dev.verge.proto.common.v1.ErrorInfo;
import dev.verge.proto.controller.v1.ControllerMessage;
import dev.verge.proto.info.v1.DeviceNetworkStatus;
import dev.verge.proto.info.v1.InfoMessage;
import dev.verge.proto.info.v1.NetworkInstanceStatus;
import dev.verge.proto.metrics.v1.InterfaceMetrics;
import dev.verge.proto.metrics.v1.MetricsMessage;
import io.grpc.ManagedChannel;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A simulated device for several controller replicas (as behind a load balancer): keeps one Connect
 * stream open, and when it ends (a replica died) dials the next replica and resumes with the hash
 * it last applied. Counts what a test checks: configs applied, configs re-sent although already
 * applied, reconnections and when the device was last resumed.
 */
public final class FailoverDevice implements AutoCloseable {
  /** zedagent's defaults (ZedAgentSettings): first back-off after losing the controller, and the longest. */
  private static final long RECONNECT_MIN_MS = 500;
  private static final long RECONNECT_MAX_MS = 30_000;
  private final String serial;
  private final Certificates.Identity identity = Certificates.selfSigned("device", false, Duration.ofDays(30));
  private final X509Certificate controllerCa;
  private final List<Integer> replicaPorts;
  private final ScheduledExecutorService reconnects;
  private final AtomicInteger replicaIndex;
  private volatile DeviceClient client;
  /** Built at the first dial and reused by every re-dial, as a device keeps its TLS setup. */
  private volatile io.netty.handler.ssl.SslContext tls;
  private volatile String lastApplied = "";
  private volatile boolean closing;
  private volatile String uuid = "";
  /** Configs already applied that a controller sent again: a resume must never do that. */
  public final AtomicInteger reapplied = new AtomicInteger();
  public final AtomicInteger applied = new AtomicInteger();
  public final AtomicInteger reconnections = new AtomicInteger();
  /** Configs applied since the stream was last re-established (0 = resumed by hash alone). */
  public final AtomicInteger appliedAfterLastReconnect = new AtomicInteger();
  /** System.nanoTime() when the stream was last (re)established and answered (UpToDate or a config); 0 = never. */
  public final AtomicLong resumedAtNanos = new AtomicLong();
  /** Stage timestamps (System.nanoTime()) for a benchmark's breakdown: last config message received, */
  public final AtomicLong configReceivedAtNanos = new AtomicLong();
  /** last stream loss noticed, */
  public final AtomicLong streamLostAtNanos = new AtomicLong();
  /** last re-dial started (after the back-off), */
  public final AtomicLong dialStartedAtNanos = new AtomicLong();
  /** and last re-dial done (the new replica's certificates fetched over a fresh TLS connection). */
  public final AtomicLong redialedAtNanos = new AtomicLong();
  /** Re-dials that failed since the device was made, and why the last one did (its gRPC status code). */
  public final AtomicInteger dialFailures = new AtomicInteger();
  public volatile String lastDialFailure = "";
  public final ConcurrentLinkedQueue<String> appliedHashes = new ConcurrentLinkedQueue<>();
  /** Each applied hash as it is acknowledged, for a caller timing push → ack. */
  public final java.util.concurrent.LinkedBlockingQueue<String> appliedEvents = new java.util.concurrent.LinkedBlockingQueue<>();
  private long reports;

  public FailoverDevice(String serial, X509Certificate controllerCa, List<Integer> replicaPorts, int firstReplica,
      ScheduledExecutorService reconnects) {
    this.serial = serial;
    this.controllerCa = controllerCa;
    this.replicaPorts = List.copyOf(replicaPorts);
    this.replicaIndex = new AtomicInteger(firstReplica);
    this.reconnects = reconnects;
  }

  public String serial() {
    return serial;
  }

  public String uuid() {
    return uuid;
  }

  public String lastApplied() {
    return lastApplied;
  }

  /** The replica (index into the ports) the device dials now. */
  public int replica() {
    return replicaIndex.get() % replicaPorts.size();
  }

  /** Onboards through the current replica and opens the config stream. */
  public void start() throws Exception {
    client = newClient();
    client.trustControllerSigner(controllerCa);
    uuid = client.onboard(serial).getDeviceUuid();
    connect(client);
  }

  private DeviceClient newClient() {
    if (tls == null) {
      tls = DeviceClient.tlsContext(identity, controllerCa);
    }
    ManagedChannel channel = DeviceClient.tlsChannel("localhost", replicaPorts.get(replica()), tls);
    return new DeviceClient(channel);
  }

  private void connect(DeviceClient current) {
    current.connect(lastApplied, (config, signed) -> {
      if (signed.getContentHash().equals(lastApplied)) {
        reapplied.incrementAndGet();
      }
      lastApplied = signed.getContentHash();
      appliedHashes.add(lastApplied);
      appliedEvents.add(lastApplied);
      applied.incrementAndGet();
      appliedAfterLastReconnect.incrementAndGet();
      return List.<ErrorInfo>of();
    }, new DeviceClient.StreamListener() {
      @Override
      public void onMessage(ControllerMessage message) {
        long now = System.nanoTime();
        if (message.hasConfig()) {
          configReceivedAtNanos.set(now);
        }
        resumedAtNanos.compareAndSet(0, now);
      }

      @Override
      public void onClosed(Throwable error) {
        if (!closing) {
          streamLostAtNanos.set(System.nanoTime());
          // A stream the replica had answered broke: no dial has failed yet (0). One it never answered: a failed dial.
          failOver(current, resumedAtNanos.get() != 0 ? 0 : 1);
        }
      }
    });
  }

  /**
   * The replica went away: dial the next one as a node's zedagent does (ZedAgent.redialDelayMillis):
   * after a session the replica had answered broke, the first dial goes after a jitter spread over
   * [0, 500 ms); after a failed dial, a back-off of 500 ms doubling up to 30 s, each wait jittered
   * to [0.5, 1]x so a fleet does not reconnect in lockstep. Like zedagent it fetches the
   * controller's certificates on every connect. The re-dial blocks no thread: a simulated fleet must
   * not queue its devices behind a small pool.
   *
   * @param failedDials dials that failed since a replica last answered (0: a session just broke)
   */
  private void failOver(DeviceClient dead, int failedDials) {
    resumedAtNanos.set(0);
    replicaIndex.incrementAndGet();
    reconnects.schedule(() -> redial(dead, failedDials), redialDelayMillis(failedDials), TimeUnit.MILLISECONDS);
  }

  /** ZedAgent.redialDelayMillis with zedagent's defaults (ZedAgentSettings.of) and a random jitter. */
  static long redialDelayMillis(int failedDials) {
    double random = ThreadLocalRandom.current().nextDouble();
    if (failedDials <= 0) {
      return (long) (RECONNECT_MIN_MS * random);
    }
    long base = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS << Math.min(20, failedDials - 1));
    return (long) (base * (0.5 + 0.5 * random));
  }

  private void redial(DeviceClient dead, int failedDials) {
    dead.abandon();
    if (closing) {
      return;
    }
    dialStartedAtNanos.set(System.nanoTime());
    DeviceClient fresh = newClient();
    fresh.trustControllerSignerAsync(controllerCa).whenComplete((certs, error) -> {
      if (closing) {
        fresh.close();
      } else if (error != null) {
        dialFailures.incrementAndGet();
        lastDialFailure = io.grpc.Status.fromThrowable(error).getCode().toString();
        failOver(fresh, failedDials + 1); // that replica is not there either: keep trying the next
      } else {
        redialedAtNanos.set(System.nanoTime());
        client = fresh;
        reconnections.incrementAndGet();
        appliedAfterLastReconnect.set(0);
        connect(fresh);
      }
    });
  }

  /** Steady telemetry: the device's network info and interface counters, through the replica it is on. */
  public synchronized void report() {
    reports++;
    long now = System.currentTimeMillis();
    DeviceClient current = client;
    current.uploadInfo(List.of(
        InfoMessage.newBuilder().setAtTimeMs(now).setObjectId(uuid)
            .setDeviceNetwork(DeviceNetworkStatus.newBuilder().setCurrentUplink("eth0")).build(),
        InfoMessage.newBuilder().setAtTimeMs(now).setObjectId("ni-" + uuid)
            .setNetworkInstance(NetworkInstanceStatus.newBuilder().setState(NetworkInstanceStatus.State.STATE_ONLINE)).build()));
    current.uploadMetrics(MetricsMessage.newBuilder().setAtTimeMs(now)
        .addInterfaces(InterfaceMetrics.newBuilder().setIfName("eth0").setRxBytes(reports * 1500).setTxBytes(reports * 900))
        .build());
  }

  @Override
  public void close() {
    closing = true;
    DeviceClient current = client;
    if (current != null) {
      current.close();
    }
  }
}
