package dev.verge.controller.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.verge.controller.store.ControllerStore.OnboardKind;
import dev.verge.proto.ConfigDigest;
import dev.verge.proto.common.v1.ErrorInfo;
import dev.verge.proto.config.v1.ConfigItem;
import dev.verge.proto.config.v1.DeviceConfig;
import dev.verge.proto.controller.v1.ConfigVersion;
import dev.verge.proto.controller.v1.ConfigVersionSummary;
import dev.verge.proto.controller.v1.DeviceRecord;
import dev.verge.proto.info.v1.DeviceNetworkStatus;
import dev.verge.proto.info.v1.InfoMessage;
import dev.verge.proto.info.v1.NetworkInstanceStatus;
import dev.verge.testkit.ManualClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link ControllerStore} promises, run against each implementation: the embedded file
 * store ({@code FileControllerStoreTest}) and PostgreSQL ({@code PostgresControllerStoreIT}).
 */
public abstract class ControllerStoreContract {
  protected final ManualClock clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
  private final List<ControllerStore> opened = new ArrayList<>();

  /** A store on this test's storage (the same storage each call: a second call is a reopen or a second replica). */
  protected abstract ControllerStore create() throws Exception;

  protected final ControllerStore open() throws Exception {
    ControllerStore store = create();
    opened.add(store);
    return store;
  }

  @AfterEach
  void closeStores() {
    opened.forEach(ControllerStore::close);
  }

  static DeviceConfig config(int n) {
    return DeviceConfig.newBuilder().setControllerEpoch(1)
        .addConfigItems(ConfigItem.newBuilder().setKey("n").setValue(String.valueOf(n))).build();
  }

  private static String onboarded(ControllerStore store, String serial) throws Exception {
    store.addOnboarding(List.of(serial));
    return store.onboard(serial, "fp-" + serial).deviceUuid();
  }

  @Test
  void onboardingListIsSortedWithoutDuplicates() throws Exception {
    ControllerStore store = open();
    assertThat(store.onboardingList()).isEmpty();
    assertThat(store.addOnboarding(List.of("SN-2", "SN-1"))).containsExactly("SN-1", "SN-2");
    assertThat(store.addOnboarding(List.of("SN-1", "SN-3"))).containsExactly("SN-1", "SN-2", "SN-3");
    assertThat(store.removeOnboarding(List.of("SN-2", "SN-9"))).containsExactly("SN-1", "SN-3");
    assertThat(store.onboardingList()).containsExactly("SN-1", "SN-3");
  }

  @Test
  void onboardingOutcomesFollowTheSerialAndTheCertificate() throws Exception {
    ControllerStore store = open();
    store.addOnboarding(List.of("SN-1", "SN-2"));
    assertThat(store.onboard("SN-9", "fp-9").kind()).isEqualTo(OnboardKind.NOT_LISTED);
    var created = store.onboard("SN-1", "fp-1");
    assertThat(created.kind()).isEqualTo(OnboardKind.CREATED);
    assertThat(created.deviceUuid()).hasSize(36);
    assertThat(store.onboard("SN-1", "fp-1")).isEqualTo(new ControllerStore.OnboardOutcome(OnboardKind.REPEAT, created.deviceUuid()));
    assertThat(store.onboard("SN-1", "fp-other").kind()).as("serial pinned to another cert").isEqualTo(OnboardKind.CONFLICT);
    assertThat(store.onboard("SN-2", "fp-1").kind()).as("cert pinned to another serial").isEqualTo(OnboardKind.CONFLICT);
    assertThat(store.deviceByFingerprint("fp-1")).contains(created.deviceUuid());
    assertThat(store.deviceByFingerprint("fp-2")).isEmpty();
    assertThat(store.deviceUuids()).containsExactly(created.deviceUuid());
    DeviceRecord record = store.device(created.deviceUuid()).orElseThrow();
    assertThat(record.getSerial()).isEqualTo("SN-1");
    assertThat(record.getCertFingerprint()).isEqualTo("fp-1");
    assertThat(record.getOnboardedAtMs()).isEqualTo(clock.millis());
    assertThat(record.getCurrentVersion()).isZero();
  }

  @Test
  void appliesGetConsecutiveVersionsStampedAboveEachOtherEvenWhenTheClockStepsBack() throws Exception {
    ControllerStore store = open();
    String device = onboarded(store, "SN-1");
    assertThat(store.currentConfig(device)).isEmpty();
    var first = store.apply(device, config(1).toBuilder().setConfigTimestampMs(42).build());
    assertThat(first.unchanged()).isFalse();
    assertThat(first.version().getVersion()).isEqualTo(1);
    assertThat(first.version().getConfig().getConfigTimestampMs()).as("the operator's stamp is replaced").isEqualTo(clock.millis());
    assertThat(first.version().getConfigHash()).isEqualTo(ConfigDigest.contentHash(first.version().getConfig()));
    clock.advance(Duration.ofSeconds(-30));
    var second = store.apply(device, config(2));
    assertThat(second.version().getVersion()).isEqualTo(2);
    assertThat(second.version().getConfig().getConfigTimestampMs()).isEqualTo(first.version().getConfig().getConfigTimestampMs() + 1);
    assertThat(store.currentConfig(device)).contains(second.version());
    assertThat(store.configVersion(device, 1)).contains(first.version());
    assertThat(store.configVersion(device, 7)).isEmpty();
    assertThat(store.history(device)).extracting(ConfigVersionSummary::getVersion).containsExactly(1L, 2L);
    DeviceRecord record = store.device(device).orElseThrow();
    assertThat(record.getCurrentVersion()).isEqualTo(2);
    assertThat(record.getCurrentHash()).isEqualTo(second.version().getConfigHash());
  }

  @Test
  void aStreamResumedWithTheCurrentHashIsAcknowledgedOnceAndAnyOtherHashIsNot() throws Exception {
    ControllerStore store = open();
    String device = onboarded(store, "SN-1");
    assertThat(store.streamResumed(device, "replica-1", "")).as("nothing stored yet").isEmpty();
    ConfigVersion first = store.apply(device, config(1)).version();
    assertThat(store.streamResumed(device, "replica-1", "sha256:an-older-one")).contains(first);
    assertThat(store.device(device).orElseThrow().getAppliedHash()).as("the device runs another config").isEmpty();
    clock.advance(Duration.ofSeconds(5));
    long resumedAt = clock.millis();
    assertThat(store.streamResumed(device, "replica-1", first.getConfigHash())).contains(first);
    assertThat(store.device(device).orElseThrow().getAppliedHash()).isEqualTo(first.getConfigHash());
    clock.advance(Duration.ofSeconds(5));
    store.streamResumed(device, "replica-1", first.getConfigHash());
    assertThat(store.device(device).orElseThrow().getAppliedAtMs()).as("a second resume is no news").isEqualTo(resumedAt);
  }

  @Test
  void theSameContentIsNotStoredAgain() throws Exception {
    ControllerStore store = open();
    String device = onboarded(store, "SN-1");
    var first = store.apply(device, config(1));
    clock.advance(Duration.ofSeconds(5));
    var again = store.apply(device, config(1).toBuilder().setConfigTimestampMs(999).build());
    assertThat(again.unchanged()).isTrue();
    assertThat(again.version()).isEqualTo(first.version());
    assertThat(store.history(device)).hasSize(1);
  }

  @Test
  void concurrentAppliesGetDistinctConsecutiveVersionsAndTheLastStoredIsCurrent() throws Exception {
    ControllerStore store = open();
    String device = onboarded(store, "SN-1");
    ExecutorService admins = Executors.newFixedThreadPool(4);
    try {
      List<Callable<ConfigVersion>> applies = new ArrayList<>();
      for (int i = 1; i <= 40; i++) {
        int n = i;
        applies.add(() -> store.apply(device, config(n)).version());
      }
      List<Long> versions = new ArrayList<>();
      for (Future<ConfigVersion> result : admins.invokeAll(applies)) {
        versions.add(result.get().getVersion());
      }
      assertThat(versions).doesNotHaveDuplicates().hasSize(40);
      assertThat(store.history(device)).extracting(ConfigVersionSummary::getVersion)
          .containsExactlyElementsOf(LongStream.rangeClosed(1, 40).boxed().toList());
      assertThat(store.currentConfig(device).orElseThrow().getVersion()).isEqualTo(40);
    } finally {
      admins.shutdownNow();
    }
  }

  @Test
  void acknowledgementsAndRejectionsAreRecorded() throws Exception {
    ControllerStore store = open();
    String device = onboarded(store, "SN-1");
    String hash = store.apply(device, config(1)).version().getConfigHash();
    ErrorInfo error = ErrorInfo.newBuilder().setReason("BAD").setFieldPath("x").setDescription("no").build();
    store.recordAck(device, hash, false, List.of(error));
    DeviceRecord rejected = store.device(device).orElseThrow();
    assertThat(rejected.getRejectedHash()).isEqualTo(hash);
    assertThat(rejected.getRejectionErrorsList()).containsExactly(error);
    assertThat(rejected.getAppliedHash()).isEmpty();
    clock.advance(Duration.ofSeconds(1));
    store.recordAck(device, hash, true, List.of());
    DeviceRecord applied = store.device(device).orElseThrow();
    assertThat(applied.getAppliedHash()).isEqualTo(hash);
    assertThat(applied.getAppliedAtMs()).isEqualTo(clock.millis());
    assertThat(applied.getRejectedHash()).as("accepting the rejected hash clears the rejection").isEmpty();
    assertThat(applied.getRejectionErrorsList()).isEmpty();
  }

  @Test
  void latestInfoPerObjectWinsEvenWhenAnOlderOneArrivesLate() throws Exception {
    ControllerStore store = open();
    String device = onboarded(store, "SN-1");
    InfoMessage niNew = ni("ni-1", 200, NetworkInstanceStatus.State.STATE_ONLINE);
    InfoMessage niOld = ni("ni-1", 100, NetworkInstanceStatus.State.STATE_INIT);
    InfoMessage uplink = InfoMessage.newBuilder().setObjectId(device).setAtTimeMs(150)
        .setDeviceNetwork(DeviceNetworkStatus.newBuilder().setCurrentUplink("eth1")).build();
    store.putInfo(device, List.of(niNew, uplink), 1000);
    store.putInfo(device, List.of(niOld), 2000);
    assertThat(store.info(device)).containsExactly(uplink, niNew); // sorted by kind/object
    DeviceRecord record = store.device(device).orElseThrow();
    assertThat(record.getLastInfoAtMs()).isEqualTo(2000);
    assertThat(record.getUplink()).isEqualTo("eth1");
  }

  @Test
  void anInfoWithoutContentSaysItsObjectIsGoneUnlessNewerInfoArrivedFirst() throws Exception {
    ControllerStore store = open();
    String device = onboarded(store, "SN-1");
    InfoMessage ni1 = ni("network_instance/ni-1", 100, NetworkInstanceStatus.State.STATE_ONLINE);
    InfoMessage ni2 = ni("network_instance/ni-2", 100, NetworkInstanceStatus.State.STATE_ONLINE);
    store.putInfo(device, List.of(ni1, ni2), 1000);
    store.putInfo(device, List.of(InfoMessage.newBuilder().setObjectId("network_instance/ni-1").setAtTimeMs(200).build()), 2000);
    assertThat(store.info(device)).containsExactly(ni2);
    // a removal older than what is known (a late retry) removes nothing
    InfoMessage back = ni("network_instance/ni-1", 300, NetworkInstanceStatus.State.STATE_ONLINE);
    store.putInfo(device, List.of(back), 3000);
    store.putInfo(device, List.of(InfoMessage.newBuilder().setObjectId("network_instance/ni-1").setAtTimeMs(250).build()), 4000);
    assertThat(store.info(device)).containsExactly(back, ni2);
  }

  private static InfoMessage ni(String id, long at, NetworkInstanceStatus.State state) {
    return InfoMessage.newBuilder().setObjectId(id).setAtTimeMs(at)
        .setNetworkInstance(NetworkInstanceStatus.newBuilder().setState(state)).build();
  }

  @Test
  void unknownDevicesAreRefusedByName() throws Exception {
    ControllerStore store = open();
    String nobody = "00000000-0000-0000-0000-000000000000";
    assertThat(store.device(nobody)).isEmpty();
    assertThatThrownBy(() -> store.apply(nobody, config(1)))
        .isInstanceOf(ControllerStore.UnknownDeviceException.class).hasMessageContaining(nobody);
    assertThatThrownBy(() -> store.currentConfig(nobody)).isInstanceOf(ControllerStore.UnknownDeviceException.class);
    assertThatThrownBy(() -> store.history(nobody)).isInstanceOf(ControllerStore.UnknownDeviceException.class);
    assertThatThrownBy(() -> store.recordAck(nobody, "h", true, List.of())).isInstanceOf(ControllerStore.UnknownDeviceException.class);
    assertThatThrownBy(() -> store.putInfo(nobody, List.of(), 1)).isInstanceOf(ControllerStore.UnknownDeviceException.class);
  }

  @Test
  void devicesOnboardingConfigsAndAcknowledgementsSurviveAReopen() throws Exception {
    ControllerStore store = open();
    String device = onboarded(store, "SN-1");
    store.addOnboarding(List.of("SN-2"));
    var v1 = store.apply(device, config(1)).version();
    var v2 = store.apply(device, config(2)).version();
    store.recordAck(device, v2.getConfigHash(), true, List.of());
    store.close();
    opened.remove(store);

    ControllerStore reopened = open();
    assertThat(reopened.onboardingList()).containsExactly("SN-1", "SN-2");
    assertThat(reopened.deviceByFingerprint("fp-SN-1")).contains(device);
    assertThat(reopened.currentConfig(device)).contains(v2);
    assertThat(reopened.configVersion(device, 1)).contains(v1);
    assertThat(reopened.device(device).orElseThrow().getAppliedHash()).isEqualTo(v2.getConfigHash());
    assertThat(reopened.apply(device, config(3)).version().getVersion()).isEqualTo(3);
  }
}
