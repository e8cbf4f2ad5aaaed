package dev.verge.controller.store;

import dev.verge.proto.common.v1.ErrorInfo;
import dev.verge.proto.config.v1.DeviceConfig;
import dev.verge.proto.controller.v1.ConfigVersion;
import dev.verge.proto.controller.v1.ConfigVersionSummary;
import dev.verge.proto.controller.v1.DeviceRecord;
import dev.verge.proto.info.v1.InfoMessage;
import java.io.IOException;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * What the controller persists: devices (identity, pinned certificate, last acknowledgement), the
 * onboarding list, each device's config versions (never rewritten, unique per device and version)
 * and the latest info per reported object. Two implementations pass one contract suite: the
 * embedded file store (one controller, the default) and PostgreSQL (several replicas on one
 * database).
 *
 * <p>Writes throw {@link IOException} when they cannot be made durable; reads of a store that is
 * unreachable throw {@link StoreUnavailableException}. Calls naming a device that was never
 * onboarded throw {@link UnknownDeviceException}.
 */
public interface ControllerStore extends AutoCloseable {
  /** How an onboarding attempt ended (EVE: 201 / 200 / 409 / 403). */
  enum OnboardKind {
    CREATED,
    REPEAT,
    CONFLICT,
    NOT_LISTED
  }

  record OnboardOutcome(OnboardKind kind, String deviceUuid) {}

  /** The stored version and whether the applied content equalled the current one. */
  record ApplyOutcome(ConfigVersion version, boolean unchanged) {}

  List<String> onboardingList();

  List<String> addOnboarding(Collection<String> serials) throws IOException;

  List<String> removeOnboarding(Collection<String> serials) throws IOException;

  OnboardOutcome onboard(String serial, String fingerprint) throws IOException;

  Optional<String> deviceByFingerprint(String fingerprint);

  /**
   * The stored part of a device's record: identity, acknowledgement, the current config's version
   * and hash, and when info last arrived with the uplink it named.
   */
  Optional<DeviceRecord> device(String uuid);

  List<String> deviceUuids();

  /** Every device's record, sorted by UUID (one read, for fleet-wide views). */
  default List<DeviceRecord> devices() {
    return deviceUuids().stream().map(this::device).flatMap(Optional::stream).toList();
  }

  /**
   * Stores {@code config} as the device's next version, stamped with the controller's own
   * {@code config_timestamp_ms} = max(now, latest + 1). Content equal to the current config's, stamp
   * aside, is not stored again. Concurrent applies get distinct consecutive versions.
   */
  ApplyOutcome apply(String uuid, DeviceConfig config) throws IOException;

  /** The config to serve; empty when there is none (or the newest one cannot be read). */
  Optional<ConfigVersion> currentConfig(String uuid);

  Optional<ConfigVersion> configVersion(String uuid, long version) throws IOException;

  List<ConfigVersionSummary> history(String uuid);

  /** Records the device's answer to a pushed config: applied, or rejected with reasons. */
  void recordAck(String uuid, String hash, boolean accepted, List<ErrorInfo> errors) throws IOException;

  /**
   * Keeps the newest info per (kind, object) of the device (an older message arriving late after a
   * retry does not replace a newer one) and notes when info arrived.
   */
  void putInfo(String uuid, List<InfoMessage> items, long receivedAtMs) throws IOException;

  /** The latest info per object, sorted by key ({@code kind/object}). */
  List<InfoMessage> info(String uuid);

  /**
   * Calls {@code listener} with a device's UUID whenever any controller sharing this store stores
   * a new config version for it, so the replica holding the device's stream can push it. The
   * embedded store is written by one controller only, which pushes itself: it never calls back.
   */
  default void onConfigStored(Consumer<String> listener) {}

  /** Notes that replica {@code replica} holds the device's config stream (shared stores only). */
  default void streamOpened(String uuid, String replica) {}

  /**
   * A device opened its config stream on {@code replica}, saying it runs {@code lastAppliedHash}:
   * notes the stream, returns the config to serve and, when that is the one the device runs (a
   * resume by hash), records it as acknowledged. A shared store does all three in one transaction
   * (a fleet reconnecting to one replica at once is mostly this call).
   */
  default Optional<ConfigVersion> streamResumed(String uuid, String replica, String lastAppliedHash) throws IOException {
    streamOpened(uuid, replica);
    Optional<ConfigVersion> current = currentConfig(uuid);
    if (current.isPresent() && current.get().getConfigHash().equals(lastAppliedHash)) {
      recordAck(uuid, lastAppliedHash, true, List.of());
    }
    return current;
  }

  default void streamClosed(String uuid, String replica) {}

  /** Whether a live replica other than {@code replica} holds the device's stream. */
  default boolean streamHeldElsewhere(String uuid, String replica) {
    return false;
  }

  /** The devices whose stream a live replica other than {@code replica} holds. */
  default java.util.Set<String> streamsHeldElsewhere(String replica) {
    return java.util.Set.of();
  }

  @Override
  default void close() {}

  /** The device UUID names no onboarded device. */
  final class UnknownDeviceException extends RuntimeException {
    public UnknownDeviceException(String uuid) {
      super("no device " + uuid);
    }
  }

  /** The store could not be read (the database is unreachable): the call fails, nothing changes. */
  final class StoreUnavailableException extends RuntimeException {
    public StoreUnavailableException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
