package dev.verge.controller.internal;

import dev.verge.controller.store.ControllerStore;
import dev.verge.proto.ConfigCodec;
import dev.verge.proto.ConfigFormatException;
import dev.verge.proto.ConfigValidator;
import dev.verge.proto.ConfigViolation;
import dev.verge.proto.config.v1.DeviceConfig;
import dev.verge.proto.controller.v1.AdminServiceGrpc;
import dev.verge.proto.controller.v1.ApplyConfigRequest;
import dev.verge.proto.controller.v1.ApplyConfigResponse;
import dev.verge.proto.controller.v1.ConfigVersion;
import dev.verge.proto.controller.v1.ControllerMessage;
import dev.verge.proto.controller.v1.DeviceRecord;
import dev.verge.proto.controller.v1.GetConfigRequest;
import dev.verge.proto.controller.v1.GetConfigResponse;
import dev.verge.proto.controller.v1.GetDeviceRequest;
import dev.verge.proto.controller.v1.GetFlowLogsRequest;
import dev.verge.proto.controller.v1.GetFlowLogsResponse;
import dev.verge.proto.controller.v1.GetInfoRequest;
import dev.verge.proto.controller.v1.GetInfoResponse;
import dev.verge.proto.controller.v1.GetMetricsRequest;
import dev.verge.proto.controller.v1.GetMetricsResponse;
import dev.verge.proto.controller.v1.ListDevicesRequest;
import dev.verge.proto.controller.v1.ListDevicesResponse;
import dev.verge.proto.controller.v1.ListOnboardingRequest;
import dev.verge.proto.controller.v1.OnboardingList;
import dev.verge.proto.controller.v1.OnboardingRequest;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The operator-facing API: apply configs (validated, stored, signed, pushed) and read the fleet. */
public final class AdminServiceImpl extends AdminServiceGrpc.AdminServiceImplBase {
  private static final Logger LOG = LoggerFactory.getLogger(AdminServiceImpl.class);

  private final ControllerStore store;
  private final TelemetryStore telemetry;
  private final DeviceSessions sessions;
  private final ConfigSigner signer;
  private final int maxConfigBytes;
  private final ConfigValidator validator;

  public AdminServiceImpl(ControllerStore store, TelemetryStore telemetry, DeviceSessions sessions, ConfigSigner signer,
      int maxConfigBytes) {
    this.store = store;
    this.telemetry = telemetry;
    this.sessions = sessions;
    this.signer = signer;
    this.maxConfigBytes = maxConfigBytes;
    this.validator = new ConfigValidator(maxConfigBytes);
  }

  @Override
  public void applyConfig(ApplyConfigRequest request, StreamObserver<ApplyConfigResponse> response) {
    String device = request.getDeviceUuid();
    if (device.isEmpty()) {
      knownDevice(device, response);
      return;
    }
    Optional<ConfigVersion> current;
    try {
      current = store.currentConfig(device); // also says whether the device exists: one store read, not two
    } catch (ControllerStore.UnknownDeviceException e) {
      response.onError(RpcErrors.unknownDevice(device));
      return;
    }
    DeviceConfig config;
    try {
      config = parse(request);
    } catch (ConfigFormatException e) {
      response.onError(RpcErrors.badRequest("INVALID_CONFIG", e.violations()));
      return;
    }
    if (config.getId().getUuid().isEmpty()) {
      config = config.toBuilder().setId(config.getId().toBuilder().setUuid(device)).build();
    }
    List<ConfigViolation> violations = new ArrayList<>();
    if (!config.getId().getUuid().equals(device)) {
      violations.add(new ConfigViolation("id.uuid", ConfigViolation.INVALID_VALUE,
          "config is for device " + config.getId().getUuid() + ", not " + device));
    }
    violations.addAll(validator.validate(config));
    if (!violations.isEmpty()) {
      response.onError(RpcErrors.badRequest("INVALID_CONFIG", violations));
      return;
    }
    if (!request.getForce() && current.isPresent() && dropsEverything(current.get().getConfig(), config)) {
      DeviceConfig running = current.get().getConfig();
      response.onError(RpcErrors.error(Status.Code.FAILED_PRECONDITION, "CONFIG_DROPS_EVERYTHING",
          "the config has no network instance and no app; it would remove the device's "
              + running.getNetworkInstancesCount() + " network instance(s) and " + running.getAppsCount()
              + " app(s). Apply it with force to do that on purpose",
          Map.of("device_uuid", device, "current_version", String.valueOf(current.get().getVersion()))));
      return;
    }
    try {
      ControllerStore.ApplyOutcome outcome = store.apply(device, config);
      ConfigVersion version = outcome.version();
      boolean pushed = false;
      if (!outcome.unchanged()) {
        DeviceSessions.Session session = sessions.get(device);
        pushed = session != null && session.sendConfig(version.getConfigHash(), ControllerMessage.newBuilder()
            .setConfig(signer.sign(device, version.getVersion(), version.getConfig())).build());
        // Held by another replica: the store tells it (PostgreSQL NOTIFY on commit) and it pushes.
        pushed = pushed || sessions.isConnectedAnywhere(device);
        LOG.info("device {} config v{} {} stored, pushed={}", device, version.getVersion(), version.getConfigHash(), pushed);
      }
      response.onNext(ApplyConfigResponse.newBuilder()
          .setVersion(version.getVersion())
          .setConfigHash(version.getConfigHash())
          .setUnchanged(outcome.unchanged())
          .setPushed(pushed)
          .build());
      response.onCompleted();
    } catch (IOException e) {
      response.onError(DeviceServiceImpl.storageError(e));
    }
  }

  /** An empty (or networks-only) document replacing a working one: most likely a mistake. */
  private static boolean dropsEverything(DeviceConfig running, DeviceConfig next) {
    return next.getNetworkInstancesCount() == 0 && next.getAppsCount() == 0
        && (running.getNetworkInstancesCount() > 0 || running.getAppsCount() > 0);
  }

  private DeviceConfig parse(ApplyConfigRequest request) throws ConfigFormatException {
    return switch (request.getSourceCase()) {
      case CONFIG -> request.getConfig();
      case JSON -> ConfigCodec.parseDeviceConfig(checkSize(request.getJson(), "json"), ConfigCodec.Format.JSON);
      case YAML -> ConfigCodec.parseDeviceConfig(checkSize(request.getYaml(), "yaml"), ConfigCodec.Format.YAML);
      case SOURCE_NOT_SET -> throw new ConfigFormatException(List.of(new ConfigViolation("", ConfigViolation.MISSING_VALUE,
          "send the config as config, json or yaml")));
    };
  }

  private String checkSize(String text, String form) throws ConfigFormatException {
    int bytes = text.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > maxConfigBytes) {
      throw new ConfigFormatException(List.of(new ConfigViolation("", ConfigViolation.TOO_LARGE,
          "the " + form + " document is " + bytes + " bytes; the limit is " + maxConfigBytes)));
    }
    return text;
  }

  @Override
  public void listDevices(ListDevicesRequest request, StreamObserver<ListDevicesResponse> response) {
    ListDevicesResponse.Builder list = ListDevicesResponse.newBuilder();
    java.util.Set<String> elsewhere = store.streamsHeldElsewhere(sessions.replica()); // one read for the whole fleet
    for (DeviceRecord record : store.devices()) {
      String device = record.getDeviceUuid();
      list.addDevices(record.toBuilder().setConnected(sessions.isConnected(device) || elsewhere.contains(device)));
    }
    response.onNext(list.build());
    response.onCompleted();
  }

  @Override
  public void getDevice(GetDeviceRequest request, StreamObserver<DeviceRecord> response) {
    if (knownDevice(request.getDeviceUuid(), response)) {
      response.onNext(deviceRecord(request.getDeviceUuid()).orElseThrow());
      response.onCompleted();
    }
  }

  private Optional<DeviceRecord> deviceRecord(String device) {
    return store.device(device).map(record -> record.toBuilder()
        .setConnected(sessions.isConnectedAnywhere(device))
        .build());
  }

  @Override
  public void getConfig(GetConfigRequest request, StreamObserver<GetConfigResponse> response) {
    String device = request.getDeviceUuid();
    if (!knownDevice(device, response)) {
      return;
    }
    try {
      Optional<ConfigVersion> version = request.getVersion() == 0
          ? store.currentConfig(device) : store.configVersion(device, request.getVersion());
      if (version.isEmpty()) {
        response.onError(RpcErrors.error(Status.Code.NOT_FOUND, "CONFIG_NOT_FOUND",
            request.getVersion() == 0 ? "device " + device + " has no config yet"
                : "device " + device + " has no config version " + request.getVersion(),
            Map.of("device_uuid", device, "version", String.valueOf(request.getVersion()))));
        return;
      }
      response.onNext(GetConfigResponse.newBuilder().setConfig(version.get()).addAllHistory(store.history(device)).build());
      response.onCompleted();
    } catch (IOException e) {
      response.onError(DeviceServiceImpl.storageError(e));
    }
  }

  @Override
  public void getInfo(GetInfoRequest request, StreamObserver<GetInfoResponse> response) {
    if (knownDevice(request.getDeviceUuid(), response)) {
      response.onNext(GetInfoResponse.newBuilder().addAllItems(store.info(request.getDeviceUuid())).build());
      response.onCompleted();
    }
  }

  @Override
  public void getMetrics(GetMetricsRequest request, StreamObserver<GetMetricsResponse> response) {
    if (knownDevice(request.getDeviceUuid(), response)) {
      response.onNext(GetMetricsResponse.newBuilder()
          .addAllSamples(telemetry.metrics(request.getDeviceUuid(), request.getSinceMs())).build());
      response.onCompleted();
    }
  }

  @Override
  public void getFlowLogs(GetFlowLogsRequest request, StreamObserver<GetFlowLogsResponse> response) {
    if (knownDevice(request.getDeviceUuid(), response)) {
      response.onNext(GetFlowLogsResponse.newBuilder()
          .addAllBatches(telemetry.flows(request.getDeviceUuid(), request.getLimit())).build());
      response.onCompleted();
    }
  }

  @Override
  public void addOnboarding(OnboardingRequest request, StreamObserver<OnboardingList> response) {
    changeOnboarding(request, response, true);
  }

  @Override
  public void removeOnboarding(OnboardingRequest request, StreamObserver<OnboardingList> response) {
    changeOnboarding(request, response, false);
  }

  private void changeOnboarding(OnboardingRequest request, StreamObserver<OnboardingList> response, boolean add) {
    List<ConfigViolation> violations = new ArrayList<>();
    if (request.getSerialsCount() == 0) {
      violations.add(new ConfigViolation("serials", ConfigViolation.MISSING_VALUE, "name at least one serial"));
    }
    for (int i = 0; i < request.getSerialsCount(); i++) {
      if (request.getSerials(i).isBlank()) {
        violations.add(new ConfigViolation("serials[" + i + "]", ConfigViolation.INVALID_VALUE, "a serial cannot be blank"));
      }
    }
    if (!violations.isEmpty()) {
      response.onError(RpcErrors.badRequest("INVALID_ONBOARDING_REQUEST", violations));
      return;
    }
    try {
      List<String> serials = add ? store.addOnboarding(request.getSerialsList()) : store.removeOnboarding(request.getSerialsList());
      response.onNext(OnboardingList.newBuilder().addAllSerials(serials).build());
      response.onCompleted();
    } catch (IOException e) {
      response.onError(DeviceServiceImpl.storageError(e));
    }
  }

  @Override
  public void listOnboarding(ListOnboardingRequest request, StreamObserver<OnboardingList> response) {
    response.onNext(OnboardingList.newBuilder().addAllSerials(store.onboardingList()).build());
    response.onCompleted();
  }

  private boolean knownDevice(String device, StreamObserver<?> response) {
    if (device.isEmpty()) {
      response.onError(RpcErrors.badRequest("INVALID_REQUEST",
          List.of(new ConfigViolation("device_uuid", ConfigViolation.MISSING_VALUE, "the device UUID is required"))));
      return false;
    }
    if (store.device(device).isEmpty()) {
      response.onError(RpcErrors.unknownDevice(device));
      return false;
    }
    return true;
  }
}
