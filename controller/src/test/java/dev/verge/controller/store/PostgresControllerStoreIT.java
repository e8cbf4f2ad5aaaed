package dev.verge.controller.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.verge.controller.internal.PostgresStore;
import dev.verge.controller.testdb.ThrowAwayPostgres;
import dev.verge.proto.info.v1.DeviceNetworkStatus;
import dev.verge.proto.info.v1.InfoMessage;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The store contract on PostgreSQL (a throw-away cluster, a fresh database per test). */
class PostgresControllerStoreIT extends ControllerStoreContract {
  private static ThrowAwayPostgres cluster;
  private StoreLocation database;

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
  void freshDatabase() throws Exception {
    database = cluster.newDatabase();
  }

  @Override
  protected ControllerStore create() throws Exception {
    return PostgresStore.open(database, clock, 0, UUID.randomUUID().toString());
  }

  @Test
  void aStoredVersionCannotBeRewrittenEvenBySql() throws Exception {
    ControllerStore store = open();
    store.addOnboarding(List.of("SN-1"));
    String device = store.onboard("SN-1", "fp").deviceUuid();
    store.apply(device, config(1));
    try (Connection c = cluster.connect(database.database()); Statement s = c.createStatement()) {
      assertThatThrownBy(() -> s.executeUpdate("UPDATE config_versions SET config_hash = 'x'"))
          .hasMessageContaining("never rewritten");
      assertThatThrownBy(() -> s.executeUpdate("INSERT INTO config_versions SELECT * FROM config_versions"))
          .as("(device, version) is unique").hasMessageContaining("duplicate key");
    }
  }

  @Test
  void twoReplicasOnOneDatabaseNumberConcurrentAppliesWithoutGapsOrDuplicates() throws Exception {
    ControllerStore a = open();
    ControllerStore b = open();
    a.addOnboarding(List.of("SN-1"));
    String device = a.onboard("SN-1", "fp").deviceUuid();
    Thread other = new Thread(() -> {
      try {
        for (int i = 0; i < 25; i++) {
          b.apply(device, config(1000 + i));
        }
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    other.start();
    for (int i = 0; i < 25; i++) {
      a.apply(device, config(i));
    }
    other.join();
    assertThat(a.history(device)).hasSize(50);
    assertThat(b.currentConfig(device).orElseThrow().getVersion()).isEqualTo(50);
  }

  @Test
  void aStreamResumedOnOneReplicaIsSeenHeldThereByTheOther() throws Exception {
    ControllerStore a = PostgresStore.open(database, clock, 0, "replica-a");
    ControllerStore b = PostgresStore.open(database, clock, 0, "replica-b");
    try {
      a.addOnboarding(List.of("SN-1"));
      String device = a.onboard("SN-1", "fp").deviceUuid();
      assertThat(b.streamHeldElsewhere(device, "replica-b")).isFalse();
      a.streamResumed(device, "replica-a", "");
      assertThat(b.streamHeldElsewhere(device, "replica-b")).isTrue();
      assertThat(b.streamsHeldElsewhere("replica-b")).containsExactly(device);
      assertThatThrownBy(() -> a.streamResumed("no-such-device", "replica-a", ""))
          .isInstanceOf(ControllerStore.UnknownDeviceException.class);
    } finally {
      a.close();
      b.close();
    }
  }

  @Test
  void aDeviceFoundByItsCertificateIsNotAskedForAgainButAMissIs() throws Exception {
    ControllerStore a = open();
    ControllerStore b = open();
    assertThat(a.deviceByFingerprint("fp")).isEmpty();
    b.addOnboarding(List.of("SN-1"));
    String device = b.onboard("SN-1", "fp").deviceUuid();
    assertThat(a.deviceByFingerprint("fp")).as("onboarded on the other replica meanwhile").contains(device);
    try (Connection c = cluster.connect(database.database()); Statement s = c.createStatement()) {
      s.executeUpdate("ALTER TABLE devices RENAME TO devices_elsewhere");
    }
    assertThat(a.deviceByFingerprint("fp")).as("kept: no query").contains(device);
  }

  /**
   * A replica taking over another's devices identifies each by its certificate without a query: it
   * loaded those onboarded before it started, and hears of those onboarded elsewhere while it runs.
   */
  @Test
  void aReplicaKnowsTheDevicesOnboardedBeforeItStartedAndThoseAnotherOnboardsWhileItRuns() throws Exception {
    ControllerStore a = open();
    a.addOnboarding(List.of("SN-1", "SN-2"));
    String before = a.onboard("SN-1", "fp-1").deviceUuid();
    ControllerStore b = open();
    String meanwhile = a.onboard("SN-2", "fp-2").deviceUuid();
    try (Connection c = cluster.connect(database.database()); Statement s = c.createStatement()) {
      s.executeUpdate("ALTER TABLE devices RENAME TO devices_elsewhere"); // from here on a lookup by query fails
    }
    assertThat(b.deviceByFingerprint("fp-1")).as("loaded at start").contains(before);
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).ignoreExceptions()
        .untilAsserted(() -> assertThat(b.deviceByFingerprint("fp-2")).as("notified").contains(meanwhile));
  }

  /**
   * Telemetry is latest-state and commits without waiting for the WAL flush; config versions and
   * acknowledgements wait. Triggers note the setting inside each of the store's own transactions.
   */
  @Test
  void telemetryCommitsWithoutWaitingForTheWalWhileConfigsAndAcknowledgementsWait() throws Exception {
    ControllerStore store = open();
    store.addOnboarding(List.of("SN-1"));
    String device = store.onboard("SN-1", "fp").deviceUuid();
    try (Connection c = cluster.connect(database.database()); Statement s = c.createStatement()) {
      s.execute("CREATE TABLE seen (change text, synchronous_commit text)");
      s.execute("""
          CREATE FUNCTION note_commit_mode() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN
            INSERT INTO seen VALUES (TG_TABLE_NAME || ' ' || TG_OP, current_setting('synchronous_commit'));
            RETURN NEW;
          END $$""");
      s.execute("CREATE TRIGGER note AFTER INSERT ON config_versions FOR EACH ROW EXECUTE FUNCTION note_commit_mode()");
      s.execute("CREATE TRIGGER note AFTER UPDATE OF applied_hash ON devices FOR EACH ROW EXECUTE FUNCTION note_commit_mode()");
      s.execute("CREATE TRIGGER note AFTER INSERT OR UPDATE ON info FOR EACH ROW EXECUTE FUNCTION note_commit_mode()");
    }
    String hash = store.apply(device, config(1)).version().getConfigHash();
    store.recordAck(device, hash, true, List.of());
    InfoMessage info = InfoMessage.newBuilder().setObjectId(device).setAtTimeMs(100)
        .setDeviceNetwork(DeviceNetworkStatus.newBuilder().setCurrentUplink("eth0")).build();
    store.putInfo(device, List.of(info), clock.millis());
    store.putInfo(device, List.of(info.toBuilder().setAtTimeMs(200).build()), clock.millis());

    Map<String, String> seen = new TreeMap<>();
    try (Connection c = cluster.connect(database.database()); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT change, synchronous_commit FROM seen")) {
      while (rs.next()) {
        seen.merge(rs.getString(1), rs.getString(2), (a, b) -> a.equals(b) ? a : a + "," + b);
      }
    }
    assertThat(seen).containsExactlyInAnyOrderEntriesOf(Map.of(
        "config_versions INSERT", "on",
        "devices UPDATE", "on",
        "info INSERT", "off",
        "info UPDATE", "off"));
  }

  @Test
  void anUnreachableDatabaseFailsTheStartWithItsReason() {
    StoreLocation nowhere = new StoreLocation("127.0.0.1", 1, "verge", "verge", "", "");
    assertThatThrownBy(() -> PostgresStore.open(nowhere, clock, 0, "r"))
        .hasMessageContaining("cannot reach the store postgresql://verge@127.0.0.1:1/verge");
  }
}
