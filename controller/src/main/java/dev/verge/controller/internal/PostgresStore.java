package dev.verge.controller.internal;

import com.google.protobuf.InvalidProtocolBufferException;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.verge.controller.store.ControllerStore;
import dev.verge.controller.store.StoreLocation;
import dev.verge.proto.ConfigDigest;
import dev.verge.proto.common.v1.ErrorInfo;
import dev.verge.proto.config.v1.DeviceConfig;
import dev.verge.proto.controller.v1.ConfigVersion;
import dev.verge.proto.controller.v1.ConfigVersionSummary;
import dev.verge.proto.controller.v1.DeviceRecord;
import dev.verge.proto.info.v1.InfoMessage;
import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.flywaydb.core.Flyway;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The controller store on PostgreSQL, for several controller replicas on one database: JDBC through
 * a HikariCP pool, schema by Flyway migrations ({@code dev/verge/controller/db}), protobuf messages
 * in binary columns.
 *
 * <p>Consistency comes from the database: an apply locks the device's row ({@code SELECT ... FOR
 * UPDATE}), so concurrent admins on any replicas get distinct consecutive versions; the primary key
 * (device, version) and a trigger refusing UPDATE keep versions unique and never rewritten. The
 * apply's transaction also runs {@code pg_notify}, delivered on commit to every replica's
 * {@code LISTEN} session: the one holding the device's stream pushes the new config. Each replica's
 * listening session carries its id as {@code application_name}, so a stream row of a replica that
 * died (kill -9 included) counts for nothing once the server drops its session.
 *
 * <p>Every replica knows every device's certificate fingerprint: it loads them at start, and an
 * onboarding's transaction runs {@code pg_notify} on a second channel that the other replicas'
 * LISTEN sessions take in. A replica that takes over another's devices (thousands of Connects at
 * once) then identifies each by its certificate without a query; a fingerprint it has not heard of
 * is still asked for (a notification lost with a LISTEN session is made up for by loading them all
 * again on reconnecting).
 *
 * <p>Telemetry (the latest info per object) is latest-state: a device re-sends it, and losing the
 * last fraction of a second of it in a database crash loses nothing that matters. Its writes run on
 * a small pool of their own whose sessions commit with {@code synchronous_commit = off} (the commit
 * returns before its WAL is flushed; PostgreSQL still never applies it half). Config versions,
 * acknowledgements and everything else stay synchronous, and the fleet's steady telemetry can
 * neither take their connections nor make them wait behind its commits.
 */
public final class PostgresStore implements ControllerStore {
  private static final Logger LOG = LoggerFactory.getLogger(PostgresStore.class);
  static final String CHANNEL = "verge_config_stored";
  /** Payload: the new device's certificate fingerprint, a space, its uuid. */
  static final String ONBOARDED_CHANNEL = "verge_device_onboarded";
  private static final String APPLICATION_PREFIX = "verge-controller ";
  /** Telemetry writes are short; on a small machine more sessions would only contend for its cores. */
  private static final int TELEMETRY_CONNECTIONS = 3;

  private final HikariDataSource pool;
  /** Telemetry's own sessions, committing without waiting for the WAL flush. */
  private final HikariDataSource telemetryPool;
  private final StoreLocation location;
  private final Clock clock;
  private final int historyLimit;
  private final String replica;
  private final List<Consumer<String>> configListeners = new CopyOnWriteArrayList<>();
  /**
   * Onboarded devices by certificate fingerprint. Every device call is identified by its
   * certificate, and a binding never changes once made (a device is never re-bound to another
   * certificate, nor deleted), so a found one is kept; a miss is asked again (onboarding may be
   * under way on another replica). Filled at start and by other replicas' onboarding notifications.
   */
  private final java.util.Map<String, String> deviceByFingerprint = new java.util.concurrent.ConcurrentHashMap<>();
  private final Thread listenerThread;
  private volatile boolean closed;
  /** The LISTEN session; only the listener thread uses it once started. */
  private Connection listening;

  private PostgresStore(HikariDataSource pool, HikariDataSource telemetryPool, StoreLocation location, Clock clock,
      int historyLimit, String replica) {
    this.pool = pool;
    this.telemetryPool = telemetryPool;
    this.location = location;
    this.clock = clock;
    this.historyLimit = historyLimit;
    this.replica = replica;
    this.listenerThread = new Thread(this::listen, "pg-listen-" + replica);
    this.listenerThread.setDaemon(true);
  }

  /**
   * Connects, migrates the schema (Flyway takes a database lock, so replicas starting together
   * migrate once) and starts listening for configs stored by other replicas.
   *
   * @param replica this replica's id, unique per process (it marks the streams it holds)
   */
  public static PostgresStore open(StoreLocation location, Clock clock, int historyLimit, String replica) throws IOException {
    HikariDataSource pool = pool(location, "verge-store", 8, null);
    try {
      Flyway.configure().dataSource(pool).locations("classpath:dev/verge/controller/db").load().migrate();
    } catch (RuntimeException e) {
      pool.close();
      throw new IOException("cannot migrate the schema of " + location + ": " + rootMessage(e), e);
    }
    HikariDataSource telemetryPool;
    try {
      telemetryPool = pool(location, "verge-telemetry", TELEMETRY_CONNECTIONS, "SET synchronous_commit = off");
    } catch (IOException e) {
      pool.close();
      throw e;
    }
    PostgresStore store = new PostgresStore(pool, telemetryPool, location, clock, historyLimit, replica);
    try {
      store.startListening();
    } catch (SQLException e) {
      pool.close();
      telemetryPool.close();
      throw new IOException("cannot LISTEN on " + location + ": " + e.getMessage(), e);
    }
    LOG.info("store {} ready, replica {}", location, replica);
    return store;
  }

  /** A pool of {@code size} sessions, each set up by {@code sessionSql} (none when null). */
  private static HikariDataSource pool(StoreLocation location, String name, int size, String sessionSql) throws IOException {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(location.jdbcUrl());
    config.setDataSourceProperties(location.properties());
    config.setPoolName(name);
    config.setMaximumPoolSize(size);
    config.setInitializationFailTimeout(10_000); // a database that is not there fails the start with its reason
    config.setConnectionTimeout(10_000);
    if (sessionSql != null) {
      config.setConnectionInitSql(sessionSql);
    }
    try {
      return new HikariDataSource(config);
    } catch (RuntimeException e) {
      throw new IOException("cannot reach the store " + location + ": " + rootMessage(e), e);
    }
  }

  // ---- onboarding ----

  @Override
  public List<String> onboardingList() {
    return read("read the onboarding list", c -> serials(c));
  }

  /** Runs {@code sql} once per serial in one batch; the list as it is afterwards. */
  private static List<String> changeOnboarding(Connection c, String sql, Collection<String> serials) throws SQLException {
    try (PreparedStatement p = c.prepareStatement(sql)) {
      for (String serial : serials) {
        p.setString(1, serial);
        p.addBatch();
      }
      p.executeBatch();
    }
    return serials(c);
  }

  private static List<String> serials(Connection c) throws SQLException {
    List<String> serials = new ArrayList<>();
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT serial FROM onboarding ORDER BY serial")) {
      while (rs.next()) {
        serials.add(rs.getString(1));
      }
    }
    return serials;
  }

  @Override
  public List<String> addOnboarding(Collection<String> serials) throws IOException {
    return write("add to the onboarding list",
        c -> changeOnboarding(c, "INSERT INTO onboarding (serial) VALUES (?) ON CONFLICT DO NOTHING", serials));
  }

  @Override
  public List<String> removeOnboarding(Collection<String> serials) throws IOException {
    return write("remove from the onboarding list",
        c -> changeOnboarding(c, "DELETE FROM onboarding WHERE serial = ?", serials));
  }

  @Override
  public OnboardOutcome onboard(String serial, String fingerprint) throws IOException {
    return write("onboard " + serial, c -> {
      Optional<OnboardOutcome> known = knownIdentity(c, serial, fingerprint);
      if (known.isPresent()) {
        return known.get();
      }
      try (PreparedStatement p = c.prepareStatement("SELECT 1 FROM onboarding WHERE serial = ?")) {
        p.setString(1, serial);
        try (ResultSet rs = p.executeQuery()) {
          if (!rs.next()) {
            return new OnboardOutcome(OnboardKind.NOT_LISTED, "");
          }
        }
      }
      String uuid = UUID.randomUUID().toString();
      try (PreparedStatement p = c.prepareStatement(
          "INSERT INTO devices (uuid, serial, cert_fingerprint, onboarded_at_ms) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
        p.setString(1, uuid);
        p.setString(2, serial);
        p.setString(3, fingerprint);
        p.setLong(4, clock.millis());
        if (p.executeUpdate() == 0) {
          // Another replica onboarded the serial or certificate meanwhile: answer as for a repeat.
          return knownIdentity(c, serial, fingerprint).orElseThrow(() -> new SQLException("onboarding conflict vanished"));
        }
      }
      // The other replicas learn the binding when (and only if) this transaction commits.
      try (PreparedStatement p = c.prepareStatement("SELECT pg_notify('" + ONBOARDED_CHANNEL + "', ?)")) {
        p.setString(1, fingerprint + " " + uuid);
        p.execute();
      }
      return new OnboardOutcome(OnboardKind.CREATED, uuid);
    });
  }

  private static Optional<OnboardOutcome> knownIdentity(Connection c, String serial, String fingerprint) throws SQLException {
    try (PreparedStatement p = c.prepareStatement("SELECT uuid, cert_fingerprint FROM devices WHERE serial = ?")) {
      p.setString(1, serial);
      try (ResultSet rs = p.executeQuery()) {
        if (rs.next()) {
          boolean sameCert = rs.getString(2).equals(fingerprint);
          return Optional.of(new OnboardOutcome(sameCert ? OnboardKind.REPEAT : OnboardKind.CONFLICT, rs.getString(1)));
        }
      }
    }
    try (PreparedStatement p = c.prepareStatement("SELECT uuid FROM devices WHERE cert_fingerprint = ?")) {
      p.setString(1, fingerprint);
      try (ResultSet rs = p.executeQuery()) {
        if (rs.next()) {
          return Optional.of(new OnboardOutcome(OnboardKind.CONFLICT, rs.getString(1)));
        }
      }
    }
    return Optional.empty();
  }

  @Override
  public Optional<String> deviceByFingerprint(String fingerprint) {
    String known = deviceByFingerprint.get(fingerprint);
    if (known != null) {
      return Optional.of(known);
    }
    Optional<String> found = read("find a device by certificate", c -> {
      try (PreparedStatement p = c.prepareStatement("SELECT uuid FROM devices WHERE cert_fingerprint = ?")) {
        p.setString(1, fingerprint);
        try (ResultSet rs = p.executeQuery()) {
          return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
        }
      }
    });
    found.ifPresent(uuid -> deviceByFingerprint.put(fingerprint, uuid));
    return found;
  }

  // ---- devices ----

  private static final String DEVICE_COLUMNS = """
      SELECT d.uuid, d.serial, d.cert_fingerprint, d.onboarded_at_ms, d.applied_hash, d.applied_at_ms, d.rejected_hash,
             d.rejection_errors, d.last_info_at_ms, d.uplink, v.version, v.config_hash
      FROM devices d LEFT JOIN config_versions v ON v.device = d.uuid AND v.version = d.highest_version
      """;

  @Override
  public Optional<DeviceRecord> device(String uuid) {
    return read("read device " + uuid, c -> {
      try (PreparedStatement p = c.prepareStatement(DEVICE_COLUMNS + " WHERE d.uuid = ?")) {
        p.setString(1, uuid);
        try (ResultSet rs = p.executeQuery()) {
          return rs.next() ? Optional.of(deviceRecord(rs)) : Optional.empty();
        }
      }
    });
  }

  @Override
  public List<DeviceRecord> devices() {
    return read("list device records", c -> {
      List<DeviceRecord> records = new ArrayList<>();
      try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(DEVICE_COLUMNS + " ORDER BY d.uuid")) {
        while (rs.next()) {
          records.add(deviceRecord(rs));
        }
      }
      return records;
    });
  }

  private static DeviceRecord deviceRecord(ResultSet rs) throws SQLException {
    DeviceRecord.Builder record = DeviceRecord.newBuilder()
        .setDeviceUuid(rs.getString(1))
        .setSerial(rs.getString(2))
        .setCertFingerprint(rs.getString(3))
        .setOnboardedAtMs(rs.getLong(4))
        .setAppliedHash(rs.getString(5))
        .setAppliedAtMs(rs.getLong(6))
        .setRejectedHash(rs.getString(7))
        .setLastInfoAtMs(rs.getLong(9))
        .setUplink(rs.getString(10));
    byte[] errors = rs.getBytes(8);
    if (errors != null) {
      record.addAllRejectionErrors(parse(() -> DeviceRecord.parseFrom(errors)).getRejectionErrorsList());
    }
    long version = rs.getLong(11);
    if (!rs.wasNull()) {
      record.setCurrentVersion(version).setCurrentHash(rs.getString(12));
    }
    return record.build();
  }

  @Override
  public List<String> deviceUuids() {
    return read("list devices", c -> {
      List<String> uuids = new ArrayList<>();
      try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT uuid FROM devices ORDER BY uuid")) {
        while (rs.next()) {
          uuids.add(rs.getString(1));
        }
      }
      return uuids;
    });
  }

  // ---- config versions ----

  @Override
  public ApplyOutcome apply(String uuid, DeviceConfig config) throws IOException {
    DeviceConfig unstamped = config.toBuilder().clearConfigTimestampMs().build();
    String unstampedHash = ConfigDigest.contentHash(unstamped);
    return write("store a config for device " + uuid, c -> {
      long highest;
      long latestStamp;
      // The row lock serializes applies to one device across every replica.
      try (PreparedStatement p = c.prepareStatement("SELECT highest_version, latest_stamp FROM devices WHERE uuid = ? FOR UPDATE")) {
        p.setString(1, uuid);
        try (ResultSet rs = p.executeQuery()) {
          if (!rs.next()) {
            throw new UnknownDeviceException(uuid);
          }
          highest = rs.getLong(1);
          latestStamp = rs.getLong(2);
        }
      }
      Optional<ConfigVersion> current = version(c, uuid, highest);
      if (current.isPresent() && unstampedHash.equals(unstampedHash(c, uuid, highest))) {
        return new ApplyOutcome(current.get(), true);
      }
      long now = clock.millis();
      long stamp = Math.max(now, latestStamp + 1);
      DeviceConfig stamped = unstamped.toBuilder().setConfigTimestampMs(stamp).build();
      long next = highest + 1;
      ConfigVersion version = ConfigVersion.newBuilder().setVersion(next).setConfigHash(ConfigDigest.contentHash(stamped))
          .setStoredAtMs(now).setConfig(stamped).build();
      try (PreparedStatement p = c.prepareStatement("""
          INSERT INTO config_versions (device, version, config_hash, unstamped_hash, stored_at_ms, config)
          VALUES (?, ?, ?, ?, ?, ?)""")) {
        p.setString(1, uuid);
        p.setLong(2, next);
        p.setString(3, version.getConfigHash());
        p.setString(4, unstampedHash);
        p.setLong(5, now);
        p.setBytes(6, stamped.toByteArray());
        p.executeUpdate();
      }
      try (PreparedStatement p = c.prepareStatement("UPDATE devices SET highest_version = ?, latest_stamp = ? WHERE uuid = ?")) {
        p.setLong(1, next);
        p.setLong(2, stamp);
        p.setString(3, uuid);
        p.executeUpdate();
      }
      prune(c, uuid, next);
      // Delivered to every replica's LISTEN session when (and only if) this transaction commits.
      try (PreparedStatement p = c.prepareStatement("SELECT pg_notify('" + CHANNEL + "', ?)")) {
        p.setString(1, uuid);
        p.execute();
      }
      return new ApplyOutcome(version, false);
    });
  }

  private static String unstampedHash(Connection c, String uuid, long version) throws SQLException {
    try (PreparedStatement p = c.prepareStatement("SELECT unstamped_hash FROM config_versions WHERE device = ? AND version = ?")) {
      p.setString(1, uuid);
      p.setLong(2, version);
      try (ResultSet rs = p.executeQuery()) {
        return rs.next() ? rs.getString(1) : "";
      }
    }
  }

  /** Deletes the oldest versions beyond the limit; the current and the acknowledged one stay. */
  private void prune(Connection c, String uuid, long current) throws SQLException {
    if (historyLimit == 0) {
      return;
    }
    try (PreparedStatement p = c.prepareStatement("""
        DELETE FROM config_versions v USING devices d
        WHERE v.device = ? AND d.uuid = v.device AND v.version <> ? AND v.config_hash <> d.applied_hash
          AND v.version IN (SELECT version FROM config_versions WHERE device = ? ORDER BY version
                            LIMIT greatest((SELECT count(*) FROM config_versions WHERE device = ?) - ?, 0))""")) {
      p.setString(1, uuid);
      p.setLong(2, current);
      p.setString(3, uuid);
      p.setString(4, uuid);
      p.setInt(5, historyLimit);
      p.executeUpdate();
    }
  }

  private static Optional<ConfigVersion> version(Connection c, String uuid, long version) throws SQLException {
    try (PreparedStatement p = c.prepareStatement(
        "SELECT config_hash, stored_at_ms, config FROM config_versions WHERE device = ? AND version = ?")) {
      p.setString(1, uuid);
      p.setLong(2, version);
      try (ResultSet rs = p.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        byte[] bytes = rs.getBytes(3);
        return Optional.of(ConfigVersion.newBuilder().setVersion(version).setConfigHash(rs.getString(1))
            .setStoredAtMs(rs.getLong(2)).setConfig(parse(() -> DeviceConfig.parseFrom(bytes))).build());
      }
    }
  }

  @Override
  public Optional<ConfigVersion> currentConfig(String uuid) {
    return read("read the current config of " + uuid, c -> version(c, uuid, highestVersion(c, uuid)));
  }

  private static long highestVersion(Connection c, String uuid) throws SQLException {
    try (PreparedStatement p = c.prepareStatement("SELECT highest_version FROM devices WHERE uuid = ?")) {
      p.setString(1, uuid);
      try (ResultSet rs = p.executeQuery()) {
        if (!rs.next()) {
          throw new UnknownDeviceException(uuid);
        }
        return rs.getLong(1);
      }
    }
  }

  @Override
  public Optional<ConfigVersion> configVersion(String uuid, long version) throws IOException {
    return write("read config version " + version + " of " + uuid, c -> {
      highestVersion(c, uuid); // unknown device → UnknownDeviceException
      return version(c, uuid, version);
    });
  }

  @Override
  public List<ConfigVersionSummary> history(String uuid) {
    return read("read the config history of " + uuid, c -> {
      highestVersion(c, uuid);
      List<ConfigVersionSummary> history = new ArrayList<>();
      try (PreparedStatement p = c.prepareStatement(
          "SELECT version, config_hash, stored_at_ms FROM config_versions WHERE device = ? ORDER BY version")) {
        p.setString(1, uuid);
        try (ResultSet rs = p.executeQuery()) {
          while (rs.next()) {
            history.add(ConfigVersionSummary.newBuilder().setVersion(rs.getLong(1)).setConfigHash(rs.getString(2))
                .setStoredAtMs(rs.getLong(3)).build());
          }
        }
      }
      return history;
    });
  }

  @Override
  public void recordAck(String uuid, String hash, boolean accepted, List<ErrorInfo> errors) throws IOException {
    write("record the answer of " + uuid, c -> {
      highestVersion(c, uuid);
      if (accepted) {
        acknowledgeApplied(c, uuid, hash, highestVersion(c, uuid));
      } else {
        try (PreparedStatement p = c.prepareStatement("UPDATE devices SET rejected_hash = ?, rejection_errors = ? WHERE uuid = ?")) {
          p.setString(1, hash);
          p.setBytes(2, DeviceRecord.newBuilder().addAllRejectionErrors(errors).build().toByteArray());
          p.setString(3, uuid);
          p.executeUpdate();
        }
      }
      return null;
    });
  }

  /** Records that the device runs {@code hash}; a resume acknowledging what is already known writes nothing. */
  private void acknowledgeApplied(Connection c, String uuid, String hash, long highest) throws SQLException {
    try (PreparedStatement p = c.prepareStatement("""
        UPDATE devices SET applied_hash = ?, applied_at_ms = ?,
          rejected_hash = CASE WHEN rejected_hash = ? THEN '' ELSE rejected_hash END,
          rejection_errors = CASE WHEN rejected_hash = ? THEN NULL ELSE rejection_errors END
        WHERE uuid = ? AND applied_hash <> ?""")) {
      p.setString(1, hash);
      p.setLong(2, clock.millis());
      p.setString(3, hash);
      p.setString(4, hash);
      p.setString(5, uuid);
      p.setString(6, hash);
      if (p.executeUpdate() > 0) {
        prune(c, uuid, highest); // the version kept for the old acknowledgement may go now
      }
    }
  }

  // ---- info ----

  @Override
  public void putInfo(String uuid, List<InfoMessage> items, long receivedAtMs) throws IOException {
    write(telemetryPool, "store info of " + uuid, c -> {
      String uplink = null;
      try (PreparedStatement p = c.prepareStatement("""
          INSERT INTO info (device, key, at_time_ms, message) VALUES (?, ?, ?, ?)
          ON CONFLICT (device, key) DO UPDATE SET at_time_ms = excluded.at_time_ms, message = excluded.message
          WHERE info.at_time_ms <= excluded.at_time_ms""")) {
        for (InfoMessage item : items) {
          if (TelemetryStore.isRemoval(item)) {
            continue; // below, in order with the others of this upload
          }
          p.setString(1, uuid);
          p.setString(2, TelemetryStore.infoKey(item));
          p.setLong(3, item.getAtTimeMs());
          p.setBytes(4, item.toByteArray());
          p.addBatch();
          if (item.hasDeviceNetwork()) {
            uplink = item.getDeviceNetwork().getCurrentUplink();
          }
        }
        p.executeBatch();
      }
      // the device says these objects are gone: what is known of them and not newer goes (TelemetryStore.apply)
      try (PreparedStatement p = c.prepareStatement(
          "DELETE FROM info WHERE device = ? AND right(key, ?) = ? AND at_time_ms <= ?")) {
        for (InfoMessage item : items) {
          if (TelemetryStore.isRemoval(item)) {
            String suffix = "/" + item.getObjectId();
            p.setString(1, uuid);
            p.setInt(2, suffix.length());
            p.setString(3, suffix);
            p.setLong(4, item.getAtTimeMs());
            p.addBatch();
          }
        }
        p.executeBatch();
      }
      try (PreparedStatement p = c.prepareStatement(
          "UPDATE devices SET last_info_at_ms = ?, uplink = coalesce(?, uplink) WHERE uuid = ?")) {
        p.setLong(1, receivedAtMs);
        p.setString(2, uplink);
        p.setString(3, uuid);
        if (p.executeUpdate() == 0) {
          throw new UnknownDeviceException(uuid);
        }
      }
      return null;
    });
  }

  @Override
  public List<InfoMessage> info(String uuid) {
    return read("read info of " + uuid, c -> {
      highestVersion(c, uuid);
      List<InfoMessage> items = new ArrayList<>();
      try (PreparedStatement p = c.prepareStatement("SELECT message FROM info WHERE device = ? ORDER BY key")) {
        p.setString(1, uuid);
        try (ResultSet rs = p.executeQuery()) {
          while (rs.next()) {
            byte[] bytes = rs.getBytes(1);
            items.add(parse(() -> InfoMessage.parseFrom(bytes)));
          }
        }
      }
      return items;
    });
  }

  // ---- replicas ----

  @Override
  public void onConfigStored(Consumer<String> listener) {
    configListeners.add(listener);
  }

  @Override
  public void streamOpened(String uuid, String holder) {
    try {
      write("note the stream of " + uuid, c -> {
        try (PreparedStatement p = c.prepareStatement("""
            INSERT INTO streams (device, replica, opened_at_ms) VALUES (?, ?, ?)
            ON CONFLICT (device) DO UPDATE SET replica = excluded.replica, opened_at_ms = excluded.opened_at_ms""")) {
          p.setString(1, uuid);
          p.setString(2, holder);
          p.setLong(3, clock.millis());
          p.executeUpdate();
        }
        return null;
      });
    } catch (IOException e) {
      // Only "connected" in other replicas' answers suffers; the stream itself works.
      LOG.warn("{}", e.getMessage());
    }
  }

  @Override
  public Optional<ConfigVersion> streamResumed(String uuid, String holder, String lastAppliedHash) throws IOException {
    return write("open the stream of " + uuid, c -> {
      // One statement, one round trip (a fleet failing over sends thousands of these at once): the
      // stream row is written by the CTE, which runs whether or not the query reads it.
      long highest;
      Optional<ConfigVersion> current = Optional.empty();
      try (PreparedStatement p = c.prepareStatement("""
          WITH stream AS (
            INSERT INTO streams (device, replica, opened_at_ms) VALUES (?, ?, ?)
            ON CONFLICT (device) DO UPDATE SET replica = excluded.replica, opened_at_ms = excluded.opened_at_ms)
          SELECT d.highest_version, v.config_hash, v.stored_at_ms, v.config
          FROM devices d LEFT JOIN config_versions v ON v.device = d.uuid AND v.version = d.highest_version
          WHERE d.uuid = ?""")) {
        p.setString(1, uuid);
        p.setString(2, holder);
        p.setLong(3, clock.millis());
        p.setString(4, uuid);
        try (ResultSet rs = p.executeQuery()) {
          if (!rs.next()) {
            throw new UnknownDeviceException(uuid);
          }
          highest = rs.getLong(1);
          byte[] bytes = rs.getBytes(4);
          if (bytes != null) {
            current = Optional.of(ConfigVersion.newBuilder().setVersion(highest).setConfigHash(rs.getString(2))
                .setStoredAtMs(rs.getLong(3)).setConfig(parse(() -> DeviceConfig.parseFrom(bytes))).build());
          }
        }
      } catch (SQLException e) {
        if ("23503".equals(e.getSQLState())) { // the stream row's device reference: no such device
          throw new UnknownDeviceException(uuid);
        }
        throw e;
      }
      if (current.isPresent() && current.get().getConfigHash().equals(lastAppliedHash)) {
        acknowledgeApplied(c, uuid, lastAppliedHash, highest); // writes only when it is news
      }
      return current;
    });
  }

  @Override
  public void streamClosed(String uuid, String holder) {
    try {
      write("forget the stream of " + uuid, c -> {
        try (PreparedStatement p = c.prepareStatement("DELETE FROM streams WHERE device = ? AND replica = ?")) {
          p.setString(1, uuid);
          p.setString(2, holder);
          p.executeUpdate();
        }
        return null;
      });
    } catch (IOException e) {
      LOG.warn("{}", e.getMessage());
    }
  }

  @Override
  public boolean streamHeldElsewhere(String uuid, String holder) {
    return read("find the stream of " + uuid, c -> {
      try (PreparedStatement p = c.prepareStatement("""
          SELECT 1 FROM streams s WHERE s.device = ? AND s.replica <> ?
            AND EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.application_name = ? || s.replica)""")) {
        p.setString(1, uuid);
        p.setString(2, holder);
        p.setString(3, APPLICATION_PREFIX);
        try (ResultSet rs = p.executeQuery()) {
          return rs.next();
        }
      }
    });
  }

  @Override
  public java.util.Set<String> streamsHeldElsewhere(String holder) {
    return read("list streams held elsewhere", c -> {
      java.util.Set<String> devices = new java.util.HashSet<>();
      try (PreparedStatement p = c.prepareStatement("""
          SELECT s.device FROM streams s WHERE s.replica <> ?
            AND s.replica IN (SELECT substr(a.application_name, ?) FROM pg_stat_activity a WHERE a.application_name LIKE ?)""")) {
        p.setString(1, holder);
        p.setInt(2, APPLICATION_PREFIX.length() + 1);
        p.setString(3, APPLICATION_PREFIX + "%");
        try (ResultSet rs = p.executeQuery()) {
          while (rs.next()) {
            devices.add(rs.getString(1));
          }
        }
      }
      return devices;
    });
  }

  private void startListening() throws SQLException {
    listening = listenConnection(); // before the first apply can happen: nothing is missed
    loadIdentities(listening); // after LISTEN: an onboarding is either loaded here or notified
    listenerThread.start();
  }

  /** Every onboarded device's fingerprint, on {@code c} (the LISTEN session, whose thread is not yet reading it). */
  private void loadIdentities(Connection c) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT cert_fingerprint, uuid FROM devices")) {
      while (rs.next()) {
        deviceByFingerprint.put(rs.getString(1), rs.getString(2));
      }
    }
  }

  /** An onboarding's notification: "fingerprint uuid". */
  private void learnIdentity(String payload) {
    int space = payload.indexOf(' ');
    if (space > 0) {
      deviceByFingerprint.put(payload.substring(0, space), payload.substring(space + 1));
    }
  }

  /** A session of its own (not from the pool): it stays open for LISTEN and names this replica. */
  private Connection listenConnection() throws SQLException {
    Properties properties = new Properties();
    properties.putAll(location.properties());
    properties.setProperty("ApplicationName", APPLICATION_PREFIX + replica);
    properties.setProperty("tcpKeepAlive", "true");
    Connection c = DriverManager.getConnection(location.jdbcUrl(), properties);
    try (Statement s = c.createStatement()) {
      s.execute("LISTEN " + CHANNEL);
      s.execute("LISTEN " + ONBOARDED_CHANNEL);
    }
    return c;
  }

  /** Waits for notifications; reconnects after a loss and then treats every device as changed (one may have been missed). */
  private void listen() {
    Connection c = listening;
    while (!closed) {
      try {
        PGNotification[] notifications = c.unwrap(PGConnection.class).getNotifications(500);
        if (notifications != null) {
          for (PGNotification notification : notifications) {
            if (ONBOARDED_CHANNEL.equals(notification.getName())) {
              learnIdentity(notification.getParameter());
            } else {
              announce(notification.getParameter());
            }
          }
        }
      } catch (SQLException e) {
        if (closed) {
          break;
        }
        LOG.warn("store LISTEN session lost ({}); reconnecting", e.getMessage());
        closeQuietly(c);
        c = reconnect();
        if (c == null) {
          break;
        }
        try {
          loadIdentities(c);
        } catch (SQLException again) {
          LOG.warn("could not load the devices' fingerprints ({}); unknown ones are asked for one by one", again.getMessage());
        }
        for (String device : deviceUuidsQuietly()) {
          announce(device);
        }
      }
    }
    closeQuietly(c);
  }

  private Connection reconnect() {
    while (!closed) {
      try {
        return listenConnection();
      } catch (SQLException e) {
        try {
          Thread.sleep(1000);
        } catch (InterruptedException interrupted) {
          return null;
        }
      }
    }
    return null;
  }

  private List<String> deviceUuidsQuietly() {
    try {
      return deviceUuids();
    } catch (RuntimeException e) {
      return List.of();
    }
  }

  private void announce(String device) {
    for (Consumer<String> listener : configListeners) {
      try {
        listener.accept(device);
      } catch (RuntimeException e) {
        LOG.warn("config-stored listener failed for {}: {}", device, e.toString());
      }
    }
  }

  private static void closeQuietly(Connection c) {
    try {
      c.close();
    } catch (SQLException | RuntimeException e) {
      // already gone
    }
  }

  @Override
  public void close() {
    closed = true;
    listenerThread.interrupt();
    try {
      listenerThread.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    pool.close();
    telemetryPool.close();
  }

  @Override
  public String toString() {
    return location.toString();
  }

  // ---- plumbing ----

  @FunctionalInterface
  private interface Work<T> {
    T run(Connection c) throws SQLException, IOException;
  }

  @FunctionalInterface
  private interface Parse<T> {
    T parse() throws InvalidProtocolBufferException;
  }

  private static <T> T parse(Parse<T> parse) throws SQLException {
    try {
      return parse.parse();
    } catch (InvalidProtocolBufferException e) {
      throw new SQLException("a stored message is not readable: " + e.getMessage(), e);
    }
  }

  /** One transaction; failures become an IOException naming what could not be done. */
  private <T> T write(String what, Work<T> work) throws IOException {
    return write(pool, what, work);
  }

  private <T> T write(HikariDataSource sessions, String what, Work<T> work) throws IOException {
    try (Connection c = sessions.getConnection()) {
      c.setAutoCommit(false);
      try {
        T result = work.run(c);
        c.commit();
        return result;
      } catch (SQLException | IOException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    } catch (SQLException e) {
      throw new IOException("could not " + what + " in " + location + ": " + e.getMessage(), e);
    }
  }

  private <T> T read(String what, Work<T> work) {
    try {
      return write(what, work);
    } catch (IOException e) {
      throw new StoreUnavailableException(e.getMessage(), e);
    }
  }

  private static String rootMessage(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
  }
}
