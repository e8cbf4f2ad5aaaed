package dev.verge.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.verge.proto.Certificates;
import dev.verge.controller.ControllerServer;
import dev.verge.controller.ControllerSettings;
import dev.verge.controller.client.DeviceClient;
import dev.verge.proto.ConfigExamples;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code verge controller ...} against a real controller: output formats and exit codes. */
class ControllerCommandTest {
  @TempDir Path dir;
  private ControllerServer server;
  private String admin;
  private final ObjectMapper json = new ObjectMapper();

  /** What one CLI run printed and returned. */
  record Run(int exitCode, String out, String err) {}

  @BeforeEach
  void start() throws Exception {
    server = ControllerServer.start(ControllerSettings.ephemeral(dir.resolve("data")));
    admin = "127.0.0.1:" + server.adminPort();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private Run verge(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = VergeCommand.commandLine();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    int code = cli.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  private String onboardedDevice() {
    assertThat(verge("controller", "onboard", "--admin", admin, "SN-CLI").exitCode()).isZero();
    Certificates.Identity identity = Certificates.selfSigned("SN-CLI", false, Duration.ofDays(1));
    try (DeviceClient device = new DeviceClient(DeviceClient.tlsChannel("localhost", server.devicePort(), identity,
        server.controller().caIdentity().certificate()))) {
      return device.onboard("SN-CLI").getDeviceUuid();
    }
  }

  @Test
  void onboardAddsListsAndRemovesSerials() throws Exception {
    assertThat(verge("controller", "onboard", "--admin", admin, "SN-B", "SN-A").out()).isEqualTo("SN-A\nSN-B\n");
    assertThat(verge("controller", "onboard", "--admin", admin, "--remove", "SN-A").exitCode()).isZero();

    Run list = verge("controller", "onboard", "--admin", admin, "-o", "json");

    assertThat(list.exitCode()).isZero();
    assertThat(json.readTree(list.out()).get("serials")).hasSize(1);
    assertThat(json.readTree(list.out()).get("serials").get(0).asText()).isEqualTo("SN-B");
  }

  @Test
  void applyStoresAConfigAndGetShowsIt() throws Exception {
    String device = onboardedDevice();
    Path file = dir.resolve("config.yaml");
    Files.writeString(file, ConfigExamples.deviceConfigYaml());

    Run apply = verge("controller", "apply", "--admin", admin, "-d", device, "-f", file.toString(), "-o", "json");
    JsonNode applied = json.readTree(apply.out());
    Run get = verge("controller", "get", "device", "--admin", admin, "-d", device, "-o", "json");
    Run config = verge("controller", "get", "config", "--admin", admin, "-d", device);
    Run devices = verge("controller", "devices", "--admin", admin);

    assertThat(apply.exitCode()).isZero();
    assertThat(applied.get("version").asText()).isEqualTo("1");
    assertThat(applied.get("pushed").asBoolean()).isFalse();
    JsonNode record = json.readTree(get.out());
    assertThat(record.get("currentHash").asText()).isEqualTo(applied.get("configHash").asText());
    assertThat(record.get("connected").asBoolean()).isFalse(); // printed although false: stable fields
    assertThat(config.out()).startsWith("# version 1, hash " + applied.get("configHash").asText()).contains("display_name: \"local1\"");
    assertThat(devices.out()).contains(device).contains("SN-CLI").contains("pending");
  }

  @Test
  void invalidConfigFailsWithTheFieldPathAndExitCodeOne() throws Exception {
    String device = onboardedDevice();
    Path file = dir.resolve("bad.json");
    Files.writeString(file, "{\"network_instances\": [{\"id\": {\"uuid\": \"6f0a1c2e-0000-4000-8000-000000000011\"},"
        + " \"type\": \"TYPE_LOCAL\", \"ip\": {\"subnet\": \"10.1.0.0/24\", \"gatway\": \"10.1.0.1\"}}]}");

    Run text = verge("controller", "apply", "--admin", admin, "-d", device, "-f", file.toString());
    Run asJson = verge("controller", "apply", "--admin", admin, "-d", device, "-f", file.toString(), "-o", "json");

    assertThat(text.exitCode()).isEqualTo(1);
    assertThat(text.err()).contains("at network_instances[0].ip.gatway").contains("UNKNOWN_FIELD");
    assertThat(asJson.exitCode()).isEqualTo(1);
    JsonNode error = json.readTree(asJson.out()).get("error");
    assertThat(error.get("code").asText()).isEqualTo("INVALID_ARGUMENT");
    assertThat(error.get("fieldViolations").get(0).get("field").asText()).isEqualTo("network_instances[0].ip.gatway");
  }

  @Test
  void getDeviceShowsWhyTheDeviceRejectedItsConfig() throws Exception {
    assertThat(verge("controller", "onboard", "--admin", admin, "SN-REJ").exitCode()).isZero();
    Certificates.Identity identity = Certificates.selfSigned("SN-REJ", false, Duration.ofDays(1));
    try (DeviceClient device = new DeviceClient(DeviceClient.tlsChannel("localhost", server.devicePort(), identity,
        server.controller().caIdentity().certificate()))) {
      String uuid = device.onboard("SN-REJ").getDeviceUuid();
      var acks = new java.util.concurrent.LinkedBlockingQueue<dev.verge.proto.controller.v1.ConfigAck>();
      // This device never fetched the controller certificates: every config has an unknown signer.
      device.connect("", (config, signed) -> java.util.List.of(), new DeviceClient.StreamListener() {
        @Override
        public void onAcknowledged(dev.verge.proto.controller.v1.ConfigAck ack) {
          acks.add(ack);
        }
      });
      Path file = dir.resolve("config.yaml");
      Files.writeString(file, ConfigExamples.deviceConfigYaml());
      assertThat(verge("controller", "apply", "--admin", admin, "-d", uuid, "-f", file.toString()).exitCode()).isZero();
      var ack = acks.poll(10, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(ack).as("the device's answer within 10 s").isNotNull();
      assertThat(ack.getAccepted()).isFalse();
      // The device has sent its reject; the controller records it on its own executor.
      await().atMost(Duration.ofSeconds(10)).until(() ->
          verge("controller", "get", "device", "--admin", admin, "-d", uuid).out().contains("config:     rejected"));

      Run get = verge("controller", "get", "device", "--admin", admin, "-d", uuid);
      Run devices = verge("controller", "devices", "--admin", admin);

      assertThat(get.exitCode()).isZero();
      assertThat(get.out()).contains("config:     rejected").contains("UNKNOWN_SIGNER: no trusted signing certificate");
      assertThat(devices.out()).contains("rejected");
    }
  }

  @Test
  void exitCodesSeparateUsageFromRuntimeErrors() {
    assertThat(verge("controller", "get", "device", "--admin", admin).exitCode()).isEqualTo(2); // no --device
    assertThat(verge("controller", "get", "colour", "--admin", admin, "-d", "x").exitCode()).isEqualTo(2);
    Run unknown = verge("controller", "get", "device", "--admin", admin, "-d", "no-such-device");
    assertThat(unknown.exitCode()).isEqualTo(1);
    assertThat(unknown.err()).contains("NOT_FOUND").contains("DEVICE_NOT_FOUND");
    server.close();
    Run unreachable = verge("controller", "devices", "--admin", admin);
    assertThat(unreachable.exitCode()).isEqualTo(1);
    assertThat(unreachable.err()).contains("UNAVAILABLE");
  }

  @Test
  void helpNamesTheExitCodes() {
    Run help = verge("controller", "--help");

    assertThat(help.exitCode()).isZero();
    assertThat(help.out()).contains("serve", "onboard", "apply", "get", "devices", "2   usage error");
  }
}
