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
import java.time.Clock;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.stream.Stream;

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
 */
public final class DeviceStore {
  /** How an onboarding attempt ended (EVE: 201 / 200 / 409 / 403). */
  public enum OnboardKind {
    CREATED,
    REPEAT,
    CONFLICT,
    NOT_LISTED
  }

  public record OnboardOutcome(OnboardKind kind, String deviceUuid) {}

  /** The stored version and whether the applied content equalled the current one. */
  public record ApplyOutcome(ConfigVersion version, boolean unchanged) {}

  private static final JsonFormat.Parser PARSER = JsonFormat.parser().ignoringUnknownFields();

  private final Path root;
  private final Clock clock;
  private final TreeSet<String> onboarding = new TreeSet<>();
  private final Map<String, Device> devices = new HashMap<>();
  private final Map<String, String> uuidByFingerprint = new HashMap<>();
  private final Map<String, String> uuidBySerial = new HashMap<>();

  /** In-memory view of one device: its record, its history and its current config. */
  private static final class Device {
    DeviceRecord record;
    final TreeMap<Long, ConfigVersionSummary> history = new TreeMap<>();
    ConfigVersion current;
  }

  public DeviceStore(Path root, Clock clock) throws IOException {
    this.root = root;
    this.clock = clock;
    Files.createDirectories(root.resolve("devices"));
    AtomicFiles.removeLeftovers(root);
    Path onboardingFile = root.resolve("onboarding.json");
    if (Files.exists(onboardingFile)) {
      onboarding.addAll(read(onboardingFile, OnboardingList.getDefaultInstance()).getSerialsList());
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
    if (!Files.exists(recordFile)) {
      return; // a crash between mkdir and the first write: nothing was promised yet
    }
    Device device = new Device();
    device.record = read(recordFile, DeviceRecord.getDefaultInstance());
    Path configs = dir.resolve("configs");
    AtomicFiles.removeLeftovers(configs);
    if (Files.isDirectory(configs)) {
      try (Stream<Path> files = Files.list(configs)) {
        for (Path file : (Iterable<Path>) files::iterator) {
          ConfigVersion version = read(file, ConfigVersion.getDefaultInstance());
          device.history.put(version.getVersion(), summary(version));
          if (device.current == null || version.getVersion() > device.current.getVersion()) {
            device.current = version;
          }
        }
      }
    }
    index(device);
  }

  private void index(Device device) {
    devices.put(device.record.getDeviceUuid(), device);
    uuidByFingerprint.put(device.record.getCertFingerprint(), device.record.getDeviceUuid());
    uuidBySerial.put(device.record.getSerial(), device.record.getDeviceUuid());
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
    DeviceRecord.Builder record = device.record.toBuilder();
    if (device.current != null) {
      record.setCurrentVersion(device.current.getVersion()).setCurrentHash(device.current.getConfigHash());
    }
    return Optional.of(record.build());
  }

  public synchronized List<String> deviceUuids() {
    return devices.keySet().stream().sorted().toList();
  }

  public synchronized ApplyOutcome apply(String uuid, DeviceConfig config) throws IOException {
    Device device = requireDevice(uuid);
    String hash = ConfigDigest.contentHash(config);
    if (device.current != null && device.current.getConfigHash().equals(hash)) {
      return new ApplyOutcome(device.current, true);
    }
    long next = device.current == null ? 1 : device.current.getVersion() + 1;
    ConfigVersion version = ConfigVersion.newBuilder()
        .setVersion(next).setConfigHash(hash).setStoredAtMs(clock.millis()).setConfig(config).build();
    write(deviceDir(uuid).resolve("configs").resolve(String.format("%010d.json", next)), version);
    device.current = version;
    device.history.put(next, summary(version));
    return new ApplyOutcome(version, false);
  }

  public synchronized Optional<ConfigVersion> currentConfig(String uuid) {
    return Optional.ofNullable(requireDevice(uuid).current);
  }

  public synchronized Optional<ConfigVersion> configVersion(String uuid, long version) throws IOException {
    Device device = requireDevice(uuid);
    if (!device.history.containsKey(version)) {
      return Optional.empty();
    }
    return Optional.of(read(deviceDir(uuid).resolve("configs").resolve(String.format("%010d.json", version)), ConfigVersion.getDefaultInstance()));
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
    } catch (InvalidProtocolBufferException e) {
      throw new IOException(file + " is not readable: " + e.getMessage(), e);
    }
  }

  /** The device UUID names no onboarded device. */
  public static final class UnknownDeviceException extends RuntimeException {
    public UnknownDeviceException(String uuid) {
      super("no device " + uuid);
    }
  }
}
