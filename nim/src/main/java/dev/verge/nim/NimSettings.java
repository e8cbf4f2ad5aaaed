package dev.verge.nim;

import dev.verge.proto.ConfigCodec;
import dev.verge.proto.config.v1.DeviceConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What nim takes from the node's settings.
 *
 * @param stateDir the node's state directory; the override file is
 *     {@code <stateDir>/nim/DevicePortConfig/override.json}
 */
public record NimSettings(Path stateDir) {
  private static final Logger log = LoggerFactory.getLogger(NimSettings.class);
  /** EVE's read limit for override files. */
  public static final int OVERRIDE_MAX_BYTES = 16384;
  /** A file without a time priority counts from 1980-01-01, as in EVE. */
  public static final long DEFAULT_TIME_PRIORITY_MS = 315532800000L;

  public Path overrideFile() {
    return stateDir.resolve("nim").resolve("DevicePortConfig").resolve("override.json");
  }

  /**
   * A console operator's port config (EVE's TUI config, key {@code manual}): same format as the
   * override file; it outranks every config that came before it, and fallback never goes past it.
   */
  public Path manualFile() {
    return stateDir.resolve("nim").resolve("DevicePortConfig").resolve("manual.json");
  }

  /** The device's resolver configuration nim writes. */
  public Path resolvConf() {
    return stateDir.resolve("nim").resolve("resolv.conf");
  }

  /** The device's NTP servers, as a chrony sources file ({@code sourcedir} in chrony.conf reads it). */
  public Path timeSources() {
    return stateDir.resolve("nim").resolve("ntp.sources");
  }

  /**
   * Where nim keeps a controller port config's content (a {@code DeviceConfig} with its port part)
   * while the list holds it: an older one survives a restart as the fallback of the newest.
   */
  public Path controllerContentFile(String fingerprint) {
    return stateDir.resolve("nim").resolve("ControllerConfigs").resolve(fingerprint + ".pb");
  }

  /** Where nim keeps its config list's history across restarts (a {@code ConfigListStatus}). */
  public Path configListFile() {
    return stateDir.resolve("nim").resolve("ConfigList.pb");
  }

  /**
   * The bootstrap/override port config: a device config in JSON whose port part (physical I/O,
   * VLANs, bonds, system adapters, networks) is used. A bad file is logged and ignored.
   */
  public Optional<PortConfig> readOverrideFile() {
    return readPortConfigFile(overrideFile(), PortConfig.OVERRIDE);
  }

  public Optional<PortConfig> readManualFile() {
    return readPortConfigFile(manualFile(), PortConfig.MANUAL);
  }

  /** What tells whether a file changed without reading it: size and modification time (empty: no file). */
  public static String fileStamp(Path file) {
    try {
      return Files.isRegularFile(file) ? Files.size(file) + "@" + Files.getLastModifiedTime(file).toMillis() : "";
    } catch (IOException e) {
      return "unreadable: " + e.getMessage();
    }
  }

  private static Optional<PortConfig> readPortConfigFile(Path file, String key) {
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    try {
      if (Files.size(file) > OVERRIDE_MAX_BYTES) {
        log.warn("nim: ignoring {}: larger than {} bytes", file, OVERRIDE_MAX_BYTES);
        return Optional.empty();
      }
      DeviceConfig config = ConfigCodec.parseDeviceConfig(Files.readString(file), ConfigCodec.Format.JSON);
      long priority = config.getConfigTimestampMs() == 0 ? DEFAULT_TIME_PRIORITY_MS : config.getConfigTimestampMs();
      return Optional.of(PortConfigReader.read(key, priority, config));
    } catch (IOException | RuntimeException | dev.verge.proto.ConfigFormatException e) {
      log.warn("nim: ignoring {}: {}", file, e.getMessage());
      return Optional.empty();
    }
  }
}
