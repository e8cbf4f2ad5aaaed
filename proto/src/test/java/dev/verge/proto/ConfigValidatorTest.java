package dev.verge.proto;

import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.proto.ConfigCodec.Format;
import dev.verge.proto.config.v1.ConfigItem;
import dev.verge.proto.config.v1.DeviceConfig;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

class ConfigValidatorTest {
  private final ConfigValidator validator = new ConfigValidator();

  private static DeviceConfig example() throws ConfigFormatException {
    return ConfigCodec.parseDeviceConfig(ConfigExamples.deviceConfigYaml(), Format.YAML);
  }

  /** The violations of the example config after {@code change}. */
  private List<ConfigViolation> violationsAfter(UnaryOperator<DeviceConfig.Builder> change) throws Exception {
    return validator.validate(change.apply(example().toBuilder()).build());
  }

  @Test
  void exampleConfigIsValid() throws Exception {
    assertThat(validator.validate(example())).isEmpty();
  }

  @Test
  void vifOnUnknownNetworkInstanceIsReportedAtItsNetworkId() throws Exception {
    var violations = violationsAfter(c -> {
      c.getAppsBuilder(0).getInterfacesBuilder(1).setNetworkId("6f0a1c2e-0000-4000-8000-0000000000ff");
      return c;
    });

    assertThat(violations).extracting(ConfigViolation::fieldPath, ConfigViolation::reason)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("apps[0].interfaces[1].network_id", ConfigViolation.UNKNOWN_REFERENCE));
  }

  @Test
  void networkInstanceOnUnknownPortLabelIsReportedAtPortName() throws Exception {
    var violations = violationsAfter(c -> {
      c.getNetworkInstancesBuilder(0).getPortBuilder().setName("wan2");
      return c;
    });

    assertThat(violations).extracting(ConfigViolation::fieldPath).containsExactly("network_instances[0].port.name");
  }

  @Test
  void sharedAndImplicitLabelsAreValidPorts() throws Exception {
    assertThat(violationsAfter(c -> {
      c.getNetworkInstancesBuilder(0).getPortBuilder().setName("freeuplink");
      return c;
    })).isEmpty();
  }

  @Test
  void overlappingLocalSubnetsAreReportedAtTheLaterSubnet() throws Exception {
    var violations = violationsAfter(c -> {
      c.getNetworkInstancesBuilder(1).getIpBuilder().setSubnet("10.1.0.128/25").setGateway("10.1.0.129");
      c.getNetworkInstancesBuilder(1).getVpnBuilder().setLocalSubnets(0, "10.1.0.128/25");
      return c;
    });

    assertThat(violations).extracting(ConfigViolation::fieldPath, ConfigViolation::reason)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("network_instances[1].ip.subnet", ConfigViolation.OVERLAPPING_SUBNET));
  }

  /**
   * The sorted sweep compares each subnet only with the furthest-reaching one before it: a wide
   * subnet must still catch narrow ones far after it in sorted order, with disjoint ones between.
   */
  @Test
  void overlapsBehindDisjointSubnetsAreFoundAndOnlyThose() throws Exception {
    String[] subnets = {"10.0.0.0/16", "192.168.0.0/24", "10.0.5.0/24", "10.1.0.0/24", "10.0.200.0/24", "fd00::/64", "fd00::/56"};
    DeviceConfig.Builder config = DeviceConfig.newBuilder();
    for (int i = 0; i < subnets.length; i++) {
      config.addNetworkInstances(dev.verge.proto.config.v1.NetworkInstanceConfig.newBuilder()
          .setId(dev.verge.proto.common.v1.UuidAndVersion.newBuilder().setUuid("6f0a1c2e-0000-4000-8000-0000000001" + (10 + i)))
          .setType(dev.verge.proto.config.v1.NetworkInstanceConfig.Type.TYPE_LOCAL)
          .setIp(dev.verge.proto.config.v1.IpSpec.newBuilder().setSubnet(subnets[i])));
    }

    assertThat(validator.validate(config.build())).extracting(ConfigViolation::fieldPath, ConfigViolation::description)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("network_instances[2].ip.subnet", "subnet 10.0.5.0/24 overlaps 10.0.0.0/16 of network_instances[0]"),
            org.assertj.core.groups.Tuple.tuple("network_instances[4].ip.subnet", "subnet 10.0.200.0/24 overlaps 10.0.0.0/16 of network_instances[0]"),
            org.assertj.core.groups.Tuple.tuple("network_instances[6].ip.subnet", "subnet fd00::/56 overlaps fd00::/64 of network_instances[5]"));
  }

  @Test
  void portOnUnknownLowerLayerIsReported() throws Exception {
    var violations = violationsAfter(c -> {
      c.getSystemAdaptersBuilder(1).setLowerLayerName("eth9.100");
      return c;
    });

    assertThat(violations).extracting(ConfigViolation::fieldPath).containsExactly("system_adapters[1].lower_layer_name");
  }

  @Test
  void vlanOverUnknownParentAndBadVlanIdAreReported() throws Exception {
    var violations = violationsAfter(c -> {
      c.getVlansBuilder(0).setLowerLayerName("eth7").setVlanId(5000);
      return c;
    });

    assertThat(violations).extracting(ConfigViolation::fieldPath)
        .containsExactly("vlans[0].lower_layer_name", "vlans[0].vlan_id");
  }

  @Test
  void badPrefixesAndAddressesAreReportedWhereTheyAre() throws Exception {
    var violations = violationsAfter(c -> {
      c.getNetworkInstancesBuilder(0).getStaticRoutesBuilder(0).setDestination("192.0.2.0/33");
      c.getAppsBuilder(0).getInterfacesBuilder(0).setAddr("10.9.0.20");
      return c;
    });

    assertThat(violations).extracting(ConfigViolation::fieldPath)
        .containsExactly("network_instances[0].static_routes[0].destination", "apps[0].interfaces[0].addr");
  }

  @Test
  void vpnPskMustNameAConfigItem() throws Exception {
    var violations = violationsAfter(c -> c.clearConfigItems().addConfigItems(ConfigItem.newBuilder().setKey("other")));

    assertThat(violations).extracting(ConfigViolation::fieldPath).containsExactly("network_instances[1].vpn.psk_ref");
  }

  @Test
  void aVpnWithACertificateNeedsNoPskButNotBoth() throws Exception {
    assertThat(violationsAfter(c -> {
      c.getNetworkInstancesBuilder(1).getVpnBuilder().clearPskRef().setLocalCertificate("-----BEGIN CERTIFICATE-----")
          .setLocalKey("-----BEGIN PRIVATE KEY-----").setCaCertificate("-----BEGIN CERTIFICATE-----");
      return c;
    })).isEmpty();
    assertThat(violationsAfter(c -> {
      c.getNetworkInstancesBuilder(1).getVpnBuilder().setLocalCertificate("-----BEGIN CERTIFICATE-----");
      return c;
    })).extracting(ConfigViolation::fieldPath).containsExactly("network_instances[1].vpn.psk_ref");
  }

  @Test
  void portmapWithoutLocalPortIsReported() throws Exception {
    var violations = violationsAfter(c -> {
      c.getAppsBuilder(0).getInterfacesBuilder(0).getAclsBuilder(0).removeMatches(1);
      return c;
    });

    assertThat(violations).extracting(ConfigViolation::fieldPath).containsExactly("apps[0].interfaces[0].acls[0].actions[0].portmap");
  }

  @Test
  void duplicateUuidsAndLabelsAreReported() throws Exception {
    var violations = violationsAfter(c -> {
      c.getNetworkInstancesBuilder(2).getIdBuilder().setUuid(c.getNetworkInstances(0).getId().getUuid());
      c.getDeviceIoBuilder(1).setLogicalLabel("eth0");
      return c;
    });

    assertThat(violations).extracting(ConfigViolation::fieldPath)
        .contains("device_io[1].logical_label", "network_instances[2].id.uuid");
  }

  @Test
  void oversizedConfigIsRefusedAsAWhole() throws Exception {
    List<ConfigViolation> violations = new ConfigValidator(1024).validate(example());

    assertThat(violations).extracting(ConfigViolation::fieldPath, ConfigViolation::reason)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("", ConfigViolation.TOO_LARGE));
  }

  @Test
  void bootSourceNamesOneImageThatStaysInsideTheImageStore() throws Exception {
    List<ConfigViolation> violations = violationsAfter(c -> {
      c.getAppsBuilder(0).getBootBuilder().getDiskBuilder().setPath("images/../../etc/guest.qcow2")
          .setSha256("ABC");
      return c;
    });

    assertThat(violations).extracting(ConfigViolation::fieldPath).containsExactly(
        "apps[0].boot.disk", "apps[0].boot.disk.path", "apps[0].boot.disk.sha256");
  }

  @Test
  void imagePathsRelativeToTheImageStoreAreAccepted() throws Exception {
    List<ConfigViolation> violations = violationsAfter(c -> {
      c.getAppsBuilder(0).getBootBuilder().getKernelBuilder().setKernel("guest/vmlinuz").setInitrd("guest/initrd.img");
      return c;
    });

    assertThat(violations).isEmpty();
  }

  @Test
  void kernelBootNeedsTheKernel() throws Exception {
    List<ConfigViolation> violations = violationsAfter(c -> {
      c.getAppsBuilder(0).getBootBuilder().getKernelBuilder().clearKernel();
      return c;
    });

    assertThat(violations).extracting(ConfigViolation::fieldPath, ConfigViolation::reason)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("apps[0].boot.kernel.kernel", ConfigViolation.MISSING_VALUE));
  }

  @Test
  void userDataUpToTheLimitIsAcceptedAndOneByteMoreIsRefusedAtItsField() throws Exception {
    String atLimit = "#cloud-config\n" + "x".repeat(ConfigValidator.MAX_USER_DATA_BYTES - 14);
    assertThat(violationsAfter(c -> {
      c.getAppsBuilder(0).setUserData(atLimit);
      return c;
    })).isEmpty();

    List<ConfigViolation> violations = violationsAfter(c -> {
      c.getAppsBuilder(0).setUserData(atLimit + "y");
      return c;
    });

    assertThat(violations).extracting(ConfigViolation::fieldPath, ConfigViolation::reason)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("apps[0].user_data", ConfigViolation.TOO_LARGE));
    assertThat(violations.get(0).toString()).contains("32769 bytes");
  }

  @Test
  void userDataIsMeasuredInBytesNotCharacters() throws Exception {
    // 11,000 three-byte characters: under the limit in characters, over it in UTF-8 bytes
    List<ConfigViolation> violations = violationsAfter(c -> {
      c.getAppsBuilder(0).setUserData("\u20ac".repeat(11_000));
      return c;
    });

    assertThat(violations).extracting(ConfigViolation::fieldPath).containsExactly("apps[0].user_data");
  }
}
