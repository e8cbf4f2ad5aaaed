package dev.verge.proto;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** The example configs shipped with the proto module (documentation, demos and tests). */
public final class ConfigExamples {
  private ConfigExamples() {}

  /** YAML text of a device config using every layer: ports, VLAN, PF/VFs, local/VPN/switch NIs, an app. */
  public static String deviceConfigYaml() {
    try (InputStream in = ConfigExamples.class.getResourceAsStream("examples/device-config.yaml")) {
      if (in == null) {
        throw new IllegalStateException("examples/device-config.yaml is missing from the proto jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
