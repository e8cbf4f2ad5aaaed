package dev.verge.controller.internal;

import dev.verge.proto.AtomicFiles;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import dev.verge.proto.ConfigCodec;
import dev.verge.proto.ConfigDigest;
import dev.verge.proto.common.v1.ErrorInfo;
import dev.verge.proto.config.v1.DeviceConfig;
import dev.verge.proto.controller.v1.ConfigVersion;
import dev.verge.proto.controller.v1.ConfigVersionSummary;
import dev.verge.proto.controller.v1.DeviceRecord;
import dev.verge.proto.controller.v1.OnboardingList;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.time.Clock;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import dev.verge.controller.store.ControllerStore;
import dev.verge.proto.info.v1.InfoMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Devices, the onboarding list and each device's config history, on disk as protobuf JSON (so
 * operators can read it with jq):
 *
 * <pre>
 * onboarding.json                          serials allowed to onboard
 * devices/UUID/device.json                 identity (serial, pinned certificate) + last ack/rejection
 * devices/UUID/configs/0000000001.json     one file per config version, never rewritten
 * </pre>
 *
 * Every file is written with {@link AtomicFiles}; the current config is the highest complete
 * version file, so a crash at any point leaves the previous or the new state, never a torn one.
 *
 * <p>A file that cannot be read anyway (disk damage, an editor) is moved to
 * {@code devices/UUID/quarantine/} with a {@code .why} note and reported on that device's record;
 * the rest of the fleet is served. Old versions beyond the history limit are deleted, except the
 * current one and the one the device acknowledged.
 *
 * <p>The latest info per object is kept in memory only: devices upload it again on change and
 * after reconnecting, so a restart loses nothing that matters.
 */
public final class DeviceStore implements ControllerStore {
  private static final Logger LOG = LoggerFactory.getLogger(DeviceStore.class);
  private static final JsonFormat.Parser PARSER = JsonFormat.parser().ignoringUnknownFields();
  private static final String QUARANTINE = "quarantine";
  private static final String WHY = ".why";

  private final Path root;
  private final Clock clock;
  private final int historyLimit;
  private final TreeSet<String> onboarding = new TreeSet<>();
  private final Map<String, Device> devices = new HashMap<>();
  private final Map<String, String> uuidByFingerprint = new HashMap<>();
  private final Map<String, String> uuidBySerial = new HashMap<>();

  /** In-memory view of one device: its record, its history and its current config. */
  private static final class Device {
    DeviceRecord record;
    final TreeMap<Long, ConfigVersionSummary> history = new TreeMap<>();
    ConfigVersion current;
    /** The highest version number ever stored, readable or not: a new version goes above it. */
    long highestVersion;
    /** The latest config_timestamp_ms of any readable version: the next one is stamped above it. */
    long latestStamp;
    /** Content hash of the current config without its stamp (computed when first needed). */
    String currentUnstampedHash;
    final List<String> problems = new ArrayList<>();
    /** Latest info per object: kept in memory only (telemetry is re-sent by devices after a restart). */
    final Map<String, InfoMessage> info = new ConcurrentHashMap<>();
    volatile long lastInfoAtMs;
    volatile String uplink = "";

    /** The newest version is quarantined: serve nothing rather than roll the device back. */
    boolean newestDamaged() {
      return current == null ? highestVersion > 0 : highestVersion > current.getVersion();
    }
  }

  /** A store that keeps every config version. */
  public DeviceStore(Path root, Clock clock) throws IOException {
    this(root, clock, 0);
  }

  /** @param historyLimit most versions kept per device, 0 = all (current and acknowledged always kept) */
  public DeviceStore(Path root, Clock clock, int historyLimit) throws IOException {
    this.root = root;
    this.clock = clock;
    this.historyLimit = historyLimit;
    Files.createDirectories(root.resolve("devices"));
    AtomicFiles.removeLeftovers(root);
    Path onboardingFile = root.resolve("onboarding.json");
    if (Files.exists(onboardingFile)) {
      try {
        onboarding.addAll(read(onboardingFile, OnboardingList.getDefaultInstance()).getSerialsList());
      } catch (IOException e) {
        // devices already onboarded keep working; only new onboarding needs the list again
        quarantine(onboardingFile, root.resolve(QUARANTINE), e);
      }
    }
    try (Stream<Path> dirs = Files.list(root.resolve("devices"))) {
      for (Path dir : (Iterable<Path>) dirs::iterator) {
        loadDevice(dir);
      }
    }
  }

  private void loadDevice(Path dir) throws IOException {
    AtomicFiles.removeLeftovers(dir);
    Path recordFile = dir.resolve("device.json");
    Path quarantine = dir.resolve(QUARANTINE);
    Device device = new Device();
    if (Files.exists(recordFile)) {
      try {
        device.record = read(recordFile, DeviceRecord.getDefaultInstance());
        if (!device.record.getDeviceUuid().equals(dir.getFileName().toString())) {
          throw new IOException("it names device '" + device.record.getDeviceUuid() + "', not " + dir.getFileName());
        }
      } catch (IOException e) {
        quarantine(recordFile, quarantine, e);
        device.record = null;
      }
    }
    if (device.record == null) {
      if (!Files.exists(quarantine.resolve("device.json"))) {
        return; // a crash between mkdir and the first write: nothing was promised yet
      }
      // Its identity is lost (the device must be onboarded again), but the operator sees why.
      device.record = DeviceRecord.newBuilder().setDeviceUuid(dir.getFileName().toString()).build();
    }
    Path configs = dir.resolve("configs");
    AtomicFiles.removeLeftovers(configs);
    if (Files.isDirectory(configs)) {
      try (Stream<Path> files = Files.list(configs)) {
        for (Path file : (Iterable<Path>) files::iterator) {
          long number = versionNumber(file);
          device.highestVersion = Math.max(device.highestVersion, number);
          ConfigVersion version;
          try {
            version = read(file, ConfigVersion.getDefaultInstance());
            if (version.getVersion() != number || number == 0) {
              throw new IOException("it holds version " + version.getVersion() + ", not " + number);
            }
          } catch (IOException e) {
            quarantine(file, quarantine, e);
            continue;
          }
          device.history.put(version.getVersion(), summary(version));
          device.latestStamp = Math.max(device.latestStamp, version.getConfig().getConfigTimestampMs());
          if (device.current == null || version.getVersion() > device.current.getVersion()) {
            device.current = version;
          }
        }
      }
    }
    if (Files.isDirectory(quarantine)) {
      try (Stream<Path> files = Files.list(quarantine)) {
        for (Path file : files.sorted().toList()) {
          String name = file.getFileName().toString();
          if (name.endsWith(WHY)) {
            continue;
          }
          device.highestVersion = Math.max(device.highestVersion, versionNumber(file));
          Path why = quarantine.resolve(name + WHY);
          String reason = Files.exists(why) ? Files.readString(why, StandardCharsets.UTF_8).strip() : "unreadable";
          device.problems.add((name.equals("device.json") ? "" : "configs/") + name + ": " + reason);
        }
      }
    }
    index(device);
  }

  /** The version a file name stands for (0000000003.json → 3), 0 when it names none. */
  private static long versionNumber(Path file) {
    String name = file.getFileName().toString();
    if (!name.matches("[0-9]{1,18}\\.json")) {
      return 0;
    }
    return Long.parseLong(name.substring(0, name.length() - ".json".length()));
  }

  /** Moves an unreadable file aside with a note of why, so it is kept for the operator but not read again. */
  private static void quarantine(Path file, Path quarantine, IOException cause) throws IOException {
    Files.createDirectories(quarantine);
    Path target = quarantine.resolve(file.getFileName());
    String reason = oneLine(cause);
    AtomicFiles.write(quarantine.resolve(file.getFileName() + WHY), (reason + "\n").getBytes(StandardCharsets.UTF_8));
    Files.move(file, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    LOG.error("unreadable store file {} moved to {}: {}", file, target, reason);
  }

  private static String oneLine(IOException cause) {
    String message = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }

  private void index(Device device) {
    devices.put(device.record.getDeviceUuid(), device);
    if (!device.record.getCertFingerprint().isEmpty()) {
      uuidByFingerprint.put(device.record.getCertFingerprint(), device.record.getDeviceUuid());
    }
    if (!device.record.getSerial().isEmpty()) {
      uuidBySerial.put(device.record.getSerial(), device.record.getDeviceUuid());
    }
  }

  public synchronized List<String> onboardingList() {
    return List.copyOf(onboarding);
  }

  public synchronized List<String> addOnboarding(Collection<String> serials) throws IOException {
    onboarding.addAll(serials);
    writeOnboarding();
    return List.copyOf(onboarding);
  }

  public synchronized List<String> removeOnboarding(Collection<String> serials) throws IOException {
    onboarding.removeAll(serials);
    writeOnboarding();
    return List.copyOf(onboarding);
  }

  private void writeOnboarding() throws IOException {
    write(root.resolve("onboarding.json"), OnboardingList.newBuilder().addAllSerials(onboarding).build());
  }

  public synchronized OnboardOutcome onboard(String serial, String fingerprint) throws IOException {
    String bySerial = uuidBySerial.get(serial);
    if (bySerial != null) {
      boolean sameCert = devices.get(bySerial).record.getCertFingerprint().equals(fingerprint);
      return new OnboardOutcome(sameCert ? OnboardKind.REPEAT : OnboardKind.CONFLICT, bySerial);
    }
    if (uuidByFingerprint.containsKey(fingerprint)) {
      return new OnboardOutcome(OnboardKind.CONFLICT, uuidByFingerprint.get(fingerprint));
    }
    if (!onboarding.contains(serial)) {
      return new OnboardOutcome(OnboardKind.NOT_LISTED, "");
    }
    Device device = new Device();
    device.record = DeviceRecord.newBuilder()
        .setDeviceUuid(UUID.randomUUID().toString())
        .setSerial(serial)
        .setCertFingerprint(fingerprint)
        .setOnboardedAtMs(clock.millis())
        .build();
    write(deviceDir(device.record.getDeviceUuid()).resolve("device.json"), device.record);
    index(device);
    return new OnboardOutcome(OnboardKind.CREATED, device.record.getDeviceUuid());
  }

  public synchronized Optional<String> deviceByFingerprint(String fingerprint) {
    return Optional.ofNullable(uuidByFingerprint.get(fingerprint));
  }

  /** The stored part of a device's record, with the current config's version and hash filled in. */
  public synchronized Optional<DeviceRecord> device(String uuid) {
    Device device = devices.get(uuid);
    if (device == null) {
      return Optional.empty();
    }
    DeviceRecord.Builder record = device.record.toBuilder().addAllStoreProblems(device.problems);
    if (device.current != null && !device.newestDamaged()) {
      record.setCurrentVersion(device.current.getVersion()).setCurrentHash(device.current.getConfigHash());
    }
    record.setLastInfoAtMs(device.lastInfoAtMs).setUplink(device.uplink);
    return Optional.of(record.build());
  }

  public synchronized List<String> deviceUuids() {
    return devices.keySet().stream().sorted().toList();
  }

  /**
   * Stores {@code config} as the device's next version, stamped with the controller's own
   * {@code config_timestamp_ms} (whatever the operator wrote there is replaced): {@code max(now,
   * latest + 1)} over the device's history, so the device's rollback check orders every config this
   * controller issues even when the clock stands still or steps back. Content equal to the current
   * config's, stamp aside, is not stored again.
   */
  public synchronized ApplyOutcome apply(String uuid, DeviceConfig config) throws IOException {
    Device device = requireDevice(uuid);
    DeviceConfig unstamped = config.toBuilder().clearConfigTimestampMs().build();
    if (device.current != null && !device.newestDamaged()
        && currentUnstampedHash(device).equals(ConfigDigest.contentHash(unstamped))) {
      return new ApplyOutcome(device.current, true);
    }
    long stamp = Math.max(clock.millis(), device.latestStamp + 1);
    DeviceConfig stamped = unstamped.toBuilder().setConfigTimestampMs(stamp).build();
    long next = device.highestVersion + 1; // above quarantined versions too: a version number is never reused
    ConfigVersion version = ConfigVersion.newBuilder().setVersion(next).setConfigHash(ConfigDigest.contentHash(stamped))
        .setStoredAtMs(clock.millis()).setConfig(stamped).build();
    write(configFile(uuid, next), version);
    device.current = version;
    device.currentUnstampedHash = null;
    device.latestStamp = stamp;
    device.highestVersion = next;
    device.history.put(next, summary(version));
    prune(uuid, device);
    return new ApplyOutcome(version, false);
  }

  private static String currentUnstampedHash(Device device) {
    if (device.currentUnstampedHash == null) {
      device.currentUnstampedHash = ConfigDigest.contentHash(device.current.getConfig().toBuilder().clearConfigTimestampMs().build());
    }
    return device.currentUnstampedHash;
  }

  /** Deletes the oldest versions beyond the limit; the current and the acknowledged one stay. */
  private void prune(String uuid, Device device) throws IOException {
    if (historyLimit == 0 || device.history.size() <= historyLimit) {
      return;
    }
    int excess = device.history.size() - historyLimit;
    String applied = device.record.getAppliedHash();
    for (ConfigVersionSummary old : List.copyOf(device.history.values())) {
      if (excess == 0) {
        break;
      }
      if (old.getVersion() == device.current.getVersion() || old.getConfigHash().equals(applied)) {
        continue;
      }
      Files.deleteIfExists(configFile(uuid, old.getVersion()));
      device.history.remove(old.getVersion());
      excess--;
    }
  }

  /** The config to serve; empty when there is none or the newest one is quarantined. */
  public synchronized Optional<ConfigVersion> currentConfig(String uuid) {
    Device device = requireDevice(uuid);
    return device.newestDamaged() ? Optional.empty() : Optional.ofNullable(device.current);
  }

  public synchronized Optional<ConfigVersion> configVersion(String uuid, long version) throws IOException {
    Device device = requireDevice(uuid);
    if (!device.history.containsKey(version)) {
      return Optional.empty();
    }
    return Optional.of(read(configFile(uuid, version), ConfigVersion.getDefaultInstance()));
  }

  public synchronized List<ConfigVersionSummary> history(String uuid) {
    return List.copyOf(requireDevice(uuid).history.values());
  }

  /** Records the device's answer to a pushed config: applied, or rejected with reasons. */
  public synchronized void recordAck(String uuid, String hash, boolean accepted, List<ErrorInfo> errors) throws IOException {
    Device device = requireDevice(uuid);
    DeviceRecord.Builder record = device.record.toBuilder();
    if (accepted) {
      if (hash.equals(record.getAppliedHash())) {
        return; // a resume acknowledging what we already knew: no write
      }
      record.setAppliedHash(hash).setAppliedAtMs(clock.millis());
      if (hash.equals(record.getRejectedHash())) {
        record.clearRejectedHash().clearRejectionErrors();
      }
    } else {
      record.setRejectedHash(hash).clearRejectionErrors().addAllRejectionErrors(errors);
    }
    write(deviceDir(uuid).resolve("device.json"), record.build());
    device.record = record.build();
    if (accepted) {
      prune(uuid, device); // the version kept for the old acknowledgement may go now
    }
  }

  @Override
  public void putInfo(String uuid, List<InfoMessage> items, long receivedAtMs) {
    Device device;
    synchronized (this) {
      device = requireDevice(uuid);
    }
    for (InfoMessage item : items) {
      TelemetryStore.apply(device.info, item);
      if (item.hasDeviceNetwork()) {
        device.uplink = item.getDeviceNetwork().getCurrentUplink();
      }
    }
    device.lastInfoAtMs = receivedAtMs;
  }

  @Override
  public List<InfoMessage> info(String uuid) {
    Device device;
    synchronized (this) {
      device = requireDevice(uuid);
    }
    return device.info.entrySet().stream().sorted(Map.Entry.comparingByKey()).map(Map.Entry::getValue).toList();
  }

  private Device requireDevice(String uuid) {
    Device device = devices.get(uuid);
    if (device == null) {
      throw new UnknownDeviceException(uuid);
    }
    return device;
  }

  private Path deviceDir(String uuid) {
    return root.resolve("devices").resolve(uuid);
  }

  private Path configFile(String uuid, long version) {
    return deviceDir(uuid).resolve("configs").resolve(String.format("%010d.json", version));
  }

  private static ConfigVersionSummary summary(ConfigVersion version) {
    return ConfigVersionSummary.newBuilder()
        .setVersion(version.getVersion()).setConfigHash(version.getConfigHash()).setStoredAtMs(version.getStoredAtMs()).build();
  }

  private static void write(Path file, Message message) throws IOException {
    AtomicFiles.write(file, (ConfigCodec.toPrettyJson(message) + "\n").getBytes(StandardCharsets.UTF_8));
  }

  @SuppressWarnings("unchecked")
  private static <T extends Message> T read(Path file, T prototype) throws IOException {
    Message.Builder builder = prototype.newBuilderForType();
    try {
      PARSER.merge(Files.readString(file, StandardCharsets.UTF_8), builder);
      return (T) builder.build();
    } catch (java.nio.charset.CharacterCodingException e) {
      throw new IOException(file.getFileName() + " is not UTF-8 text", e);
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      throw new IOException(file.getFileName() + " is not readable: " + e.getMessage(), e);
    }
  }

}
