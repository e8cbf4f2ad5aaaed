package dev.verge.zedrouter;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class MacSchemeTest {
  @Test
  void bridgeMacsAreEvesPrefixANodeHashAndTheBridgeNumber() {
    String mac = MacScheme.bridge("node-1", 7).toString();
    assertThat(mac).startsWith("00:16:3e:").endsWith(":07");
    assertThat(MacScheme.bridge("node-1", 7)).isEqualTo(MacScheme.bridge("node-1", 7));
    assertThat(MacScheme.bridge("node-2", 7)).isNotEqualTo(MacScheme.bridge("node-1", 7));
  }

  @Test
  void vifMacsAreStableUnicastAndLocallyAdministered() {
    byte[] local = MacScheme.localVif("app", "ni", 1, 1).bytes();
    assertThat(local[0] & 0x01).isZero(); // unicast
    assertThat(local[0] & 0x02).isEqualTo(2); // locally administered
    assertThat(MacScheme.localVif("app", "ni", 1, 1)).isEqualTo(MacScheme.localVif("app", "ni", 1, 1));
    assertThat(MacScheme.localVif("app", "ni", 2, 1)).isNotEqualTo(MacScheme.localVif("app", "ni", 1, 1));
    assertThat(MacScheme.switchVif("app", "ni", 1, 1).toString()).startsWith("02:16:3e:");
  }
}
