package dev.verge.zedrouter;

import static dev.verge.zedrouter.Fixtures.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.verge.topics.v1.DeviceNetwork;
import dev.verge.topics.v1.Port;
import org.junit.jupiter.api.Test;

class UplinkSelectorTest {
  @Test
  void theLowestCostUsablePortOfASharedLabelWinsAndTheReasonSaysWhyOthersLost() {
    DeviceNetwork ports = ports(
        port("wwan", "wwan0", 10, "198.51.100.2/24", "198.51.100.1"),
        port("eth1", "eth1", 0, "203.0.113.2/24", "203.0.113.1").toBuilder().setCarrier(false).build(),
        port("eth0", "eth0", 0, "192.0.2.10/24", "192.0.2.1"));
    UplinkChoice choice = UplinkSelector.choose("uplink", ports, true);
    assertThat(choice.ifName()).contains("eth0");
    assertThat(choice.candidates()).extracting(Port::getLabel).containsExactly("eth0", "eth1", "wwan");
    assertThat(choice.reason()).isEqualTo("lowest cost (0) usable port of uplink");

    UplinkChoice free = UplinkSelector.choose("freeuplink", ports(
        port("wwan", "wwan0", 10, "198.51.100.2/24", "198.51.100.1"),
        port("eth1", "eth1", 0, "203.0.113.2/24", "203.0.113.1").toBuilder().setCarrier(false).build()), true);
    assertThat(free.port()).isEmpty();
    assertThat(free.reason()).isEqualTo("no usable port for freeuplink: eth1 has no carrier");

    UplinkChoice failover = UplinkSelector.choose("uplink", ports(
        port("wwan", "wwan0", 10, "198.51.100.2/24", "198.51.100.1"),
        port("eth1", "eth1", 0, "", "")), true);
    assertThat(failover.ifName()).contains("wwan0");
    assertThat(failover.reason()).isEqualTo("lowest cost (10) usable port of uplink; eth1 has no address");
  }

  @Test
  void aPortLabelNamesExactlyThatPortAndEmptyIsAirGapped() {
    DeviceNetwork ports = ports(port("eth0", "eth0", 0, "192.0.2.10/24", "192.0.2.1"),
        port("eth1", "eth1", 5, "203.0.113.2/24", "203.0.113.1"));
    assertThat(UplinkSelector.choose("eth1", ports, true).reason()).isEqualTo("the only port labelled eth1");
    assertThat(UplinkSelector.choose("eth1", ports, true).ifName()).contains("eth1");
    assertThat(UplinkSelector.choose("", ports, true).isAirGapped()).isTrue();
    assertThat(UplinkSelector.choose("", ports, true).port()).isEmpty();
  }
}
