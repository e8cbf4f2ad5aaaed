package dev.verge.cli;

import dev.verge.proto.controller.v1.DeviceRecord;
import dev.verge.proto.controller.v1.ListDevicesRequest;
import dev.verge.proto.controller.v1.ListDevicesResponse;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code verge controller devices}: the fleet at a glance. */
@Command(name = "devices", mixinStandardHelpOptions = true, description = "List onboarded devices and their config state.")
final class ControllerDevicesCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;
  @Mixin AdminOptions admin;

  @Override
  public Integer call() {
    return admin.call(spec, stub -> stub.listDevices(ListDevicesRequest.getDefaultInstance()), ControllerDevicesCommand::text);
  }

  static String configState(DeviceRecord d) {
    if (d.getStoreProblemsCount() > 0) {
      return "damaged";
    }
    if (d.getCurrentHash().isEmpty()) {
      return "no-config";
    }
    if (d.getCurrentHash().equals(d.getAppliedHash())) {
      return "applied";
    }
    return d.getCurrentHash().equals(d.getRejectedHash()) ? "rejected" : "pending";
  }

  private static String text(ListDevicesResponse response) {
    StringBuilder out = new StringBuilder(String.format(Locale.ROOT, "%-36s  %-16s  %-9s  %-7s  %-9s  %s",
        "DEVICE", "SERIAL", "CONNECTED", "VERSION", "CONFIG", "UPLINK"));
    for (DeviceRecord d : response.getDevicesList()) {
      out.append(String.format(Locale.ROOT, "%n%-36s  %-16s  %-9s  %-7d  %-9s  %s", d.getDeviceUuid(), d.getSerial(),
          d.getConnected() ? "yes" : "no", d.getCurrentVersion(), configState(d), d.getUplink()));
    }
    return out.toString();
  }
}
