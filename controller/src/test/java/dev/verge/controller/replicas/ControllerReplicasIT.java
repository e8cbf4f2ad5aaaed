package dev.verge.controller.replicas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.verge.controller.client.FailoverDevice;
import dev.verge.controller.internal.ControllerKeys;
import dev.verge.controller.store.StoreLocation;
import dev.verge.controller.testdb.ThrowAwayPostgres;
import dev.verge.proto.config.v1.ConfigItem;
import dev.verge.proto.config.v1.DeviceConfig;
import dev.verge.proto.controller.v1.ApplyConfigRequest;
import dev.verge.proto.controller.v1.ApplyConfigResponse;
import dev.verge.proto.controller.v1.ConfigVersionSummary;
import dev.verge.proto.controller.v1.GetConfigRequest;
import dev.verge.proto.controller.v1.DeviceRecord;
import dev.verge.proto.controller.v1.GetDeviceRequest;
import dev.verge.proto.controller.v1.GetInfoRequest;
import dev.verge.proto.controller.v1.ListDevicesRequest;
import dev.verge.proto.controller.v1.OnboardingRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two controller replicas (processes of their own) on one PostgreSQL database: an apply on one
 * reaches a device connected to the other, concurrent admins get distinct versions, and a replica
 * killed with -9 loses no version while its devices move to the other and resume by hash.
 */
class ControllerReplicasIT {
  private static ThrowAwayPostgres cluster;
  @TempDir Path dir;
  private Replica a;
  private Replica b;
  private X509Certificate ca;
  private final List<FailoverDevice> devices = new ArrayList<>();
  private final ScheduledExecutorService reconnects = Executors.newScheduledThreadPool(2);

  @BeforeAll
  static void startCluster() throws Exception {
    cluster = ThrowAwayPostgres.start();
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @BeforeEach
  void startReplicas() throws Exception {
    StoreLocation database = cluster.newDatabase();
    a = Replica.start("replica-a", dir.resolve("a"), database);
    // Replicas serve devices under one CA: B gets A's pki (what an operator copies or mounts).
    copyTree(dir.resolve("a/pki"), dir.resolve("b/pki"));
    b = Replica.start("replica-b", dir.resolve("b"), database);
    ca = ControllerKeys.existingCa(dir.resolve("a")).orElseThrow().certificate();
  }

  @AfterEach
  void stopAll() throws Exception {
    devices.forEach(FailoverDevice::close);
    reconnects.shutdownNow();
    if (a != null) {
      a.close();
    }
    if (b != null) {
      b.close();
    }
  }

  private static void copyTree(Path from, Path to) throws Exception {
    Files.createDirectories(to);
    try (Stream<Path> files = Files.list(from)) {
      for (Path file : files.toList()) {
        Files.copy(file, to.resolve(file.getFileName()), StandardCopyOption.COPY_ATTRIBUTES);
      }
    }
  }

  /** A device onboarded through replica {@code first} (0 = A, 1 = B) with its stream open there. */
  private FailoverDevice device(String serial, int first) throws Exception {
    a.admin().addOnboarding(OnboardingRequest.newBuilder().addSerials(serial).build());
    FailoverDevice device = new FailoverDevice(serial, ca, List.of(a.devicePort, b.devicePort), first, reconnects);
    devices.add(device);
    device.start();
    return device;
  }

  private static ApplyConfigRequest config(String device, String value) {
    return ApplyConfigRequest.newBuilder().setDeviceUuid(device).setConfig(DeviceConfig.newBuilder().setControllerEpoch(1)
        .addConfigItems(ConfigItem.newBuilder().setKey("value").setValue(value))).build();
  }

  private void awaitConnected(Replica replica, FailoverDevice device) {
    await().atMost(Duration.ofSeconds(20)).until(() ->
        replica.admin().getDevice(GetDeviceRequest.newBuilder().setDeviceUuid(device.uuid()).build()).getConnected());
  }

  @Test
  void anApplyOnReplicaAReachesADeviceConnectedToReplicaB() throws Exception {
    FailoverDevice device = device("SN-B", 1);
    awaitConnected(a, device); // A sees B's stream through the store

    ApplyConfigResponse applied = a.admin().applyConfig(config(device.uuid(), "from A"));

    assertThat(applied.getPushed()).as("A knows a live replica holds the stream").isTrue();
    await().atMost(Duration.ofSeconds(20)).until(() -> applied.getConfigHash().equals(device.lastApplied()));
    await().atMost(Duration.ofSeconds(20)).until(() -> applied.getConfigHash().equals(
        a.admin().getDevice(GetDeviceRequest.newBuilder().setDeviceUuid(device.uuid()).build()).getAppliedHash()));
    assertThat(device.applied.get()).isEqualTo(1);
    assertThat(device.reconnections.get()).isZero();
    assertThat(device.replica()).as("still on B").isEqualTo(1);
  }

  @Test
  void operatorCommandsOnEitherReplicaSeeDevicesAndInfoOfTheOtherAndMetricsLeaveThroughPrometheus() throws Exception {
    FailoverDevice device = device("SN-T", 1);
    awaitConnected(a, device);
    device.report(); // info and metrics through B

    var info = a.admin().getInfo(GetInfoRequest.newBuilder().setDeviceUuid(device.uuid()).build()).getItemsList();
    assertThat(info).extracting(item -> item.getInfoCase().name()).containsExactly("DEVICE_NETWORK", "NETWORK_INSTANCE");
    DeviceRecord seenFromA = a.admin().listDevices(ListDevicesRequest.getDefaultInstance()).getDevices(0);
    assertThat(seenFromA.getConnected()).isTrue();
    assertThat(seenFromA.getUplink()).isEqualTo("eth0");
    assertThat(seenFromA.getLastInfoAtMs()).isPositive();

    String metrics = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
            java.net.URI.create("http://127.0.0.1:" + b.metricsPort + "/metrics")).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    assertThat(metrics).contains("verge_device_interface_rx_bytes_total{device=\"" + device.uuid() + "\",interface=\"eth0\"} 1500.0");
    assertThat(metrics).contains("verge_controller_devices_connected 1.0");
  }

  @Test
  void twoAdminsApplyingConcurrentlyGetTwoDistinctVersionsAndTheDeviceEndsOnTheLater() throws Exception {
    FailoverDevice device = device("SN-C", 0);
    awaitConnected(b, device);
    for (int round = 0; round < 10; round++) {
      CountDownLatch go = new CountDownLatch(1);
      ExecutorService admins = Executors.newFixedThreadPool(2);
      try {
        String tag = "r" + round;
        Future<ApplyConfigResponse> onA = admins.submit(() -> {
          go.await();
          return a.admin().applyConfig(config(device.uuid(), tag + " admin on A"));
        });
        Future<ApplyConfigResponse> onB = admins.submit(() -> {
          go.await();
          return b.admin().applyConfig(config(device.uuid(), tag + " admin on B"));
        });
        go.countDown();
        ApplyConfigResponse first = onA.get();
        ApplyConfigResponse second = onB.get();
        assertThat(Set.of(first.getVersion(), second.getVersion())).as("round %d", round)
            .containsExactlyInAnyOrder(2L * round + 1, 2L * round + 2);
        ApplyConfigResponse later = first.getVersion() > second.getVersion() ? first : second;
        await().atMost(Duration.ofSeconds(20)).until(() -> later.getConfigHash().equals(device.lastApplied()));
      } finally {
        admins.shutdownNow();
      }
    }
    var history = b.admin().getConfig(GetConfigRequest.newBuilder().setDeviceUuid(device.uuid()).build()).getHistoryList();
    assertThat(history).extracting(ConfigVersionSummary::getVersion)
        .containsExactlyElementsOf(LongStream.rangeClosed(1, 20).boxed().toList());
    assertThat(history.stream().map(ConfigVersionSummary::getConfigHash).distinct().count()).isEqualTo(20);
  }

  @Test
  void aReplicaKilledDuringAppliesLosesNoVersionAndItsDevicesResumeOnTheOtherWithoutReapplying() throws Exception {
    List<FailoverDevice> onA = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      onA.add(device("SN-K" + i, 0));
    }
    for (FailoverDevice device : onA) {
      awaitConnected(b, device);
    }
    // Admins apply through both replicas; B's admin stops first, then A dies while its admin keeps
    // applying. Each admin remembers the versions it was promised.
    ConcurrentHashMap<String, Set<Long>> promised = new ConcurrentHashMap<>();
    onA.forEach(d -> promised.put(d.uuid(), ConcurrentHashMap.newKeySet()));
    ExecutorService adminOfA = Executors.newSingleThreadExecutor();
    ExecutorService adminOfB = Executors.newSingleThreadExecutor();
    CountDownLatch enough = new CountDownLatch(30);
    for (var pair : List.of(java.util.Map.entry(a, adminOfA), java.util.Map.entry(b, adminOfB))) {
      Replica replica = pair.getKey();
      pair.getValue().submit(() -> {
        for (int n = 0; !Thread.currentThread().isInterrupted() && replica.alive(); n++) {
          FailoverDevice device = onA.get(n % onA.size());
          try {
            ApplyConfigResponse response = replica.admin().applyConfig(config(device.uuid(), replica.name + " #" + n));
            promised.get(device.uuid()).add(response.getVersion());
            enough.countDown();
          } catch (RuntimeException e) {
            return; // the replica died under the call (or we stopped): what it did not answer was not promised
          }
        }
      });
    }
    assertThat(enough.await(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    adminOfB.shutdownNow();
    assertThat(adminOfB.awaitTermination(20, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    Thread.sleep(300); // A alone applies now: most devices run A's latest push when it dies
    a.kill();
    adminOfA.shutdownNow();
    assertThat(adminOfA.awaitTermination(20, java.util.concurrent.TimeUnit.SECONDS)).isTrue();

    for (FailoverDevice device : onA) {
      await().atMost(Duration.ofSeconds(20)).until(() -> device.replica() == 1 && device.resumedAtNanos.get() != 0);
      String current = b.admin().getDevice(GetDeviceRequest.newBuilder().setDeviceUuid(device.uuid()).build()).getCurrentHash();
      await().atMost(Duration.ofSeconds(20)).until(() -> current.equals(device.lastApplied()));
      assertThat(device.reapplied.get()).as("%s was sent a config it had applied", device.serial()).isZero();
      assertThat(device.reconnections.get()).isGreaterThanOrEqualTo(1);

      List<ConfigVersionSummary> history = b.admin().getConfig(GetConfigRequest.newBuilder().setDeviceUuid(device.uuid()).build())
          .getHistoryList();
      List<Long> versions = history.stream().map(ConfigVersionSummary::getVersion).toList();
      assertThat(versions).as("no gap, no duplicate").containsExactlyElementsOf(
          LongStream.rangeClosed(1, versions.size()).boxed().toList());
      assertThat(versions).as("every promised version is stored").containsAll(promised.get(device.uuid()));
      assertThat(history.stream().map(ConfigVersionSummary::getConfigHash).collect(Collectors.toSet())).hasSize(history.size());
    }
    assertThat(b.alive()).isTrue();
    // Most devices had applied A's last push before it died: they resumed with UpToDate, nothing re-sent.
    long resumedWithoutConfig = onA.stream().filter(d -> d.appliedAfterLastReconnect.get() == 0).count();
    assertThat(resumedWithoutConfig).as("devices that resumed by hash alone").isPositive();
  }
}
