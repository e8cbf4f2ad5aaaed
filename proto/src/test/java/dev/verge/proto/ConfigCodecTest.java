package dev.verge.proto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.verge.proto.ConfigCodec.Format;
import dev.verge.proto.config.v1.DeviceConfig;
import dev.verge.proto.config.v1.NetworkInstanceConfig;
import org.junit.jupiter.api.Test;

class ConfigCodecTest {

  private static ConfigViolation onlyViolation(String text, Format format) {
    try {
      ConfigCodec.parseDeviceConfig(text, format);
    } catch (ConfigFormatException e) {
      assertThat(e.violations()).hasSize(1);
      return e.violations().get(0);
    }
    throw new AssertionError("expected the document to be refused");
  }

  @Test
  void exampleYamlParsesAndSurvivesJsonAndYamlRoundTrips() throws Exception {
    DeviceConfig config = ConfigCodec.parseDeviceConfig(ConfigExamples.deviceConfigYaml(), Format.YAML);

    assertThat(config.getNetworkInstancesList()).extracting(NetworkInstanceConfig::getDisplayName)
        .containsExactly("local1", "vpn1", "switch1");
    assertThat(config.getApps(0).getInterfaces(0).getAcls(0).getActions(0).getAppPort()).isEqualTo(80);
    assertThat(ConfigCodec.parseDeviceConfig(ConfigCodec.toJson(config), Format.JSON)).isEqualTo(config);
    assertThat(ConfigCodec.parseDeviceConfig(ConfigCodec.toYaml(config), Format.YAML)).isEqualTo(config);
  }

  @Test
  void jsonAcceptsBothProtoAndCamelCaseFieldNames() throws Exception {
    DeviceConfig snake = ConfigCodec.parseDeviceConfig("{\"controller_epoch\": 3}", Format.JSON);
    DeviceConfig camel = ConfigCodec.parseDeviceConfig("{\"controllerEpoch\": 3}", Format.JSON);

    assertThat(snake.getControllerEpoch()).isEqualTo(3);
    assertThat(camel).isEqualTo(snake);
  }

  @Test
  void outputUsesProtoFieldNames() {
    String json = ConfigCodec.toJson(DeviceConfig.newBuilder().setControllerEpoch(2).build());

    assertThat(json).isEqualTo("{\"controller_epoch\":\"2\"}");
  }

  @Test
  void unknownNestedFieldIsReportedWithItsPath() {
    ConfigViolation violation = onlyViolation(
        "{\"network_instances\": [{}, {\"ip\": {\"subnett\": \"10.0.0.0/24\"}}]}", Format.JSON);

    assertThat(violation.fieldPath()).isEqualTo("network_instances[1].ip.subnett");
    assertThat(violation.reason()).isEqualTo(ConfigViolation.UNKNOWN_FIELD);
  }

  @Test
  void unknownFieldInYamlIsReportedWithItsPath() {
    ConfigViolation violation = onlyViolation("apps:\n  - interfaces:\n      - network: x\n", Format.YAML);

    assertThat(violation.fieldPath()).isEqualTo("apps[0].interfaces[0].network");
  }

  @Test
  void malformedJsonIsReportedWithLineAndColumn() {
    ConfigViolation violation = onlyViolation("{\n  \"controller_epoch\": 1,\n  oops\n}", Format.JSON);

    assertThat(violation.reason()).isEqualTo(ConfigViolation.MALFORMED_INPUT);
    assertThat(violation.fieldPath()).isEqualTo("<input>:3:3");
  }

  @Test
  void malformedYamlIsReportedWithItsLine() {
    ConfigViolation violation = onlyViolation("vlans:\n  - vlan_id: 1\n   bad: [\n", Format.YAML);

    assertThat(violation.reason()).isEqualTo(ConfigViolation.MALFORMED_INPUT);
    assertThat(violation.fieldPath()).startsWith("<input>:3:");
  }

  @Test
  void wrongShapeAndBadEnumAreReportedWithTheirPaths() {
    assertThat(onlyViolation("{\"vlans\": {\"vlan_id\": 1}}", Format.JSON).fieldPath()).isEqualTo("vlans");
    ConfigViolation enumViolation = onlyViolation("{\"bonds\": [{\"mode\": \"MODE_FASTEST\"}]}", Format.JSON);
    assertThat(enumViolation.fieldPath()).isEqualTo("bonds[0].mode");
    assertThat(enumViolation.reason()).isEqualTo(ConfigViolation.INVALID_VALUE);
  }

  @Test
  void settingTwoAlternativesOfAOneofIsRefused() {
    ConfigViolation violation = onlyViolation(
        "{\"bonds\": [{\"mii\": {\"interval_ms\": 100}, \"arp\": {\"interval_ms\": 100}}]}", Format.JSON);

    assertThat(violation.fieldPath()).isEqualTo("bonds[0].arp");
    assertThat(violation.reason()).isEqualTo(ConfigViolation.DUPLICATE);
  }

  @Test
  void duplicateKeysAreRefused() {
    assertThatThrownBy(() -> ConfigCodec.parseDeviceConfig("{\"controller_epoch\": 1, \"controller_epoch\": 2}", Format.JSON))
        .isInstanceOf(ConfigFormatException.class)
        .hasMessageContaining("Duplicate field");
  }

  @Test
  void contentHashIsStableAndSensitiveToContent() throws Exception {
    DeviceConfig config = ConfigCodec.parseDeviceConfig(ConfigExamples.deviceConfigYaml(), Format.YAML);
    DeviceConfig reparsed = ConfigCodec.parseDeviceConfig(ConfigCodec.toYaml(config), Format.YAML);

    assertThat(ConfigDigest.contentHash(reparsed)).isEqualTo(ConfigDigest.contentHash(config)).hasSize(64);
    assertThat(ConfigDigest.contentHash(config.toBuilder().setControllerEpoch(9).build()))
        .isNotEqualTo(ConfigDigest.contentHash(config));
  }
}
