package dev.verge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.verge.controller.ControllerServer;
import dev.verge.controller.ControllerSettings;
import dev.verge.controller.client.DeviceClient;
import dev.verge.proto.Certificates;
import dev.verge.proto.ConfigExamples;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Configs that would hurt a device, as the operator applies them with {@code verge controller apply}:
 * each refused with exit 1 and the path of the offending field; a config that drops everything only
 * with --force; a non-UTF-8 file in one line.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConfigRefusalTest {
  @TempDir static Path dir;
  private ControllerServer server;
  private String admin;
  private String device;
  private final ObjectMapper json = new ObjectMapper();

  record Run(int exitCode, String out, String err) {}

  @BeforeAll
  void start() {
    try {
      server = ControllerServer.start(ControllerSettings.ephemeral(dir.resolve("data")));
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
    admin = "127.0.0.1:" + server.adminPort();
    assertThat(verge("controller", "onboard", "--admin", admin, "SN-REFUSE").exitCode()).isZero();
    Certificates.Identity identity = Certificates.selfSigned("SN-REFUSE", false, Duration.ofDays(1));
    try (DeviceClient client = new DeviceClient(DeviceClient.tlsChannel("localhost", server.devicePort(), identity,
        server.controller().caIdentity().certificate()))) {
      device = client.onboard("SN-REFUSE").getDeviceUuid();
    }
  }

  @AfterAll
  void stop() {
    server.close();
  }

  private Run verge(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    picocli.CommandLine cli = VergeCommand.commandLine();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    return new Run(cli.execute(args), out.toString(), err.toString());
  }

  private Run apply(String yaml, String... extra) throws Exception {
    Path file = Files.createTempFile(dir, "config", ".yaml");
    Files.writeString(file, yaml);
    List<String> args = new ArrayList<>(List.of("controller", "apply", "--admin", admin, "-d", device, "-f", file.toString(), "-o", "json"));
    args.addAll(List.of(extra));
    return verge(args.toArray(String[]::new));
  }

  /** Each row: text of the example replaced, its replacement, the one field refused and why. */
  @ParameterizedTest(name = "{2}")
  @CsvSource(delimiter = '|', quoteCharacter = '\'', textBlock = """
      '    display_name: web<NL>' | '    display_name: web<NL>    memoryMb: lots<NL>' | apps[0].memory_mb | WRONG_TYPE
      '    lower_layer_name: eth1<NL>    vlan_id: 100' | '    lower_layer_name: eth1<NL>    vlanId: -1' | vlans[0].vlan_id | INVALID_VALUE
      '    interface_name: eth1.100' | '    interface_name: eth1.100-uplink-vlan' | vlans[0].interface_name | INVALID_VALUE
      '    interface_name: eth1.100' | '    interface_name: eth1/100' | vlans[0].interface_name | INVALID_VALUE
      '    cost: 10' | '    cost: 256' | system_adapters[1].cost | INVALID_VALUE
      'mac: "02:00:00:00:00:01"' | 'mac: "03:00:00:00:00:01"' | apps[0].interfaces[0].mac | INVALID_VALUE
      '      subnet: 10.1.0.0/24' | '      subnet: 10.1.0.5/24' | network_instances[0].ip.subnet | INVALID_VALUE
      '        gateway: 10.1.0.254' | '        gateway: 224.0.0.1' | network_instances[0].static_routes[0].gateway | INVALID_VALUE
      '{type: protocol, value: tcp}' | '{type: protocol, value: "999"}' | apps[0].interfaces[0].acls[0].matches[0].value | INVALID_VALUE
      'ike_proposals: [aes256-sha256-modp2048]' | 'ike_proposals: ["aes256\\ninclude /etc/passwd"]' | network_instances[1].vpn.ike_proposals[0] | INVALID_VALUE
      '        addr: 10.1.0.20' | '        addr: 10.1.0.1' | apps[0].interfaces[0].addr | INVALID_VALUE
      '    activate: true<NL>    interfaces:' | '    activate: true<NL>    vcpus: 1.5<NL>    interfaces:' | apps[0].vcpus | WRONG_TYPE
      """)
  void aHarmfulValueIsRefusedAtItsFieldPath(String text, String replacement, String field, String reason) throws Exception {
    String example = ConfigExamples.deviceConfigYaml();
    String from = unescape(text);
    assertThat(example).contains(from);

    Run run = apply(example.replace(from, unescape(replacement)));

    assertThat(run.exitCode()).as(run.out() + run.err()).isEqualTo(1);
    JsonNode violations = json.readTree(run.out()).get("error").get("fieldViolations");
    assertThat(violations).as(run.out()).hasSize(1);
    assertThat(violations.get(0).get("field").asText()).isEqualTo(field);
    assertThat(violations.get(0).get("reason").asText()).isEqualTo(reason);
  }

  /** {@code <NL>} stands for a line break (a YAML escape such as backslash-n stays as written). */
  private static String unescape(String text) {
    return text.replace("<NL>", "\n");
  }

  @Test
  void aConfigDroppingEveryNetworkAndAppIsAppliedOnlyWithForce() throws Exception {
    assertThat(apply(ConfigExamples.deviceConfigYaml()).exitCode()).isZero();

    Run refused = apply("controller_epoch: 2\n");
    Run text = verge("controller", "apply", "--admin", admin, "-d", device, "-f",
        Files.writeString(dir.resolve("empty.yaml"), "").toString());
    Run forced = apply("controller_epoch: 2\n", "--force");

    assertThat(refused.exitCode()).isEqualTo(1);
    JsonNode error = json.readTree(refused.out()).get("error");
    assertThat(error.get("code").asText()).isEqualTo("FAILED_PRECONDITION");
    assertThat(error.get("reason").asText()).isEqualTo("CONFIG_DROPS_EVERYTHING");
    assertThat(error.get("message").asText()).contains("remove the device's 3 network instance(s) and 1 app(s)");
    assertThat(text.exitCode()).isEqualTo(1);
    assertThat(text.err()).startsWith("error: FAILED_PRECONDITION: the config has no network instance and no app");
    assertThat(forced.exitCode()).as(forced.out()).isZero();
    assertThat(json.readTree(forced.out()).get("unchanged").asBoolean()).isFalse();
  }

  @Test
  void aFileThatIsNotUtf8GivesOneLine() throws Exception {
    Path file = dir.resolve("latin1.yaml");
    Files.write(file, "display_name: caf\u00e9\n".getBytes(StandardCharsets.ISO_8859_1));

    Run run = verge("controller", "apply", "--admin", admin, "-d", device, "-f", file.toString());

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.out()).isEmpty();
    assertThat(run.err()).isEqualTo("error: " + file + " is not UTF-8 text (byte 0xe9 at offset 17)" + System.lineSeparator());
  }
}
