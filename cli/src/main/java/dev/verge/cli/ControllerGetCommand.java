package dev.verge.cli;

import com.google.protobuf.MessageOrBuilder;
import dev.verge.proto.ConfigCodec;
import dev.verge.proto.common.v1.ErrorInfo;
import dev.verge.proto.controller.v1.DeviceRecord;
import dev.verge.proto.controller.v1.GetConfigRequest;
import dev.verge.proto.controller.v1.GetConfigResponse;
import dev.verge.proto.controller.v1.GetDeviceRequest;
import dev.verge.proto.controller.v1.GetFlowLogsRequest;
import dev.verge.proto.controller.v1.GetInfoRequest;
import dev.verge.proto.controller.v1.GetMetricsRequest;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code verge controller get}: one device's record, config, info, metrics or flow logs. */
@Command(name = "get", mixinStandardHelpOptions = true,
    description = "Show what the controller knows about one device.")
final class ControllerGetCommand implements Callable<Integer> {
  enum What {
    device,
    config,
    info,
    metrics,
    flowlogs
  }

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;
  @Mixin AdminOptions admin;

  @Parameters(index = "0", paramLabel = "WHAT", description = "${COMPLETION-CANDIDATES}")
  What what;

  @Option(names = {"-d", "--device"}, required = true, paramLabel = "UUID", description = "Device UUID.")
  String device;

  @Option(names = "--config-version", paramLabel = "N", defaultValue = "0", description = "config: which version (default: current).")
  long version;

  @Option(names = "--limit", paramLabel = "N", defaultValue = "0", description = "flowlogs: newest N batches (default: all kept).")
  int limit;

  @Override
  public Integer call() {
    return switch (what) {
      case device -> admin.call(spec, s -> s.getDevice(GetDeviceRequest.newBuilder().setDeviceUuid(device).build()),
          ControllerGetCommand::deviceText);
      case config -> admin.call(spec, s -> s.getConfig(GetConfigRequest.newBuilder().setDeviceUuid(device).setVersion(version).build()),
          ControllerGetCommand::configText);
      case info -> admin.call(spec, s -> s.getInfo(GetInfoRequest.newBuilder().setDeviceUuid(device).build()), ControllerGetCommand::yaml);
      case metrics -> admin.call(spec, s -> s.getMetrics(GetMetricsRequest.newBuilder().setDeviceUuid(device).build()), ControllerGetCommand::yaml);
      case flowlogs -> admin.call(spec, s -> s.getFlowLogs(GetFlowLogsRequest.newBuilder().setDeviceUuid(device).setLimit(limit).build()),
          ControllerGetCommand::yaml);
    };
  }

  private static String yaml(MessageOrBuilder message) {
    return ConfigCodec.toYaml(message).stripTrailing();
  }

  private static String deviceText(DeviceRecord d) {
    StringBuilder out = new StringBuilder()
        .append("device:     ").append(d.getDeviceUuid())
        .append("\nserial:     ").append(d.getSerial())
        .append("\ncert:       ").append(d.getCertFingerprint())
        .append("\nconnected:  ").append(d.getConnected() ? "yes" : "no")
        .append("\nconfig:     ").append(ControllerDevicesCommand.configState(d))
        .append(d.getCurrentVersion() > 0 ? " (version " + d.getCurrentVersion() + ", " + d.getCurrentHash() + ")" : "")
        .append("\napplied:    ").append(d.getAppliedHash().isEmpty() ? "-" : d.getAppliedHash() + " at " + Instant.ofEpochMilli(d.getAppliedAtMs()))
        .append("\nuplink:     ").append(d.getUplink().isEmpty() ? "-" : d.getUplink())
        .append("\nlast info:  ").append(d.getLastInfoAtMs() == 0 ? "-" : Instant.ofEpochMilli(d.getLastInfoAtMs()).toString());
    for (String problem : d.getStoreProblemsList()) {
      out.append("\nquarantined: ").append(problem);
    }
    if (!d.getRejectedHash().isEmpty()) {
      out.append("\nrejected:   ").append(d.getRejectedHash());
      for (ErrorInfo error : d.getRejectionErrorsList()) {
        out.append("\n  ").append(error.getReason()).append(error.getFieldPath().isEmpty() ? "" : " at " + error.getFieldPath())
            .append(": ").append(error.getDescription());
      }
    }
    return out.toString();
  }

  private static String configText(GetConfigResponse response) {
    return "# version " + response.getConfig().getVersion() + ", hash " + response.getConfig().getConfigHash() + "\n"
        + ConfigCodec.toYaml(response.getConfig().getConfig()).stripTrailing();
  }
}
