package dev.verge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class VpnDemoStepTest {
  static final ObjectMapper JSON = new ObjectMapper();

  /** A node with a local NI and the demo's VPN NI, its tunnel up and counting, as zedagent reports it. */
  static final String STATUS = """
      {"reported": {
        "network_instance/00000000-0000-4000-8000-000000000b01": {"objectId": "network_instance/b01",
          "networkInstance": {"displayName": "local-1", "type": "local", "state": "STATE_ONLINE", "bridgeName": "bn1"}},
        "network_instance/00000000-0000-4000-8000-000000000b03": {"objectId": "network_instance/b03",
          "networkInstance": {"displayName": "site-vpn", "type": "vpn", "state": "STATE_ONLINE", "bridgeName": "bn2",
            "bridgeIp": "10.3.0.1", "selectedPort": "eth0", "vpnState": "ESTABLISHED",
            "vpn": {"state": "ESTABLISHED", "peer": "198.51.100.2", "localAddress": "203.0.113.2",
              "ipsecBackend": "libipsec", "bytesIn": "508", "packetsIn": "5", "bytesOut": "302", "packetsOut": "4"}}}
      }}""";

  @Test
  void theTunnelsStateAndCountersAreReadFromTheVpnNisReport() throws Exception {
    JsonNode status = JSON.readTree(STATUS);
    assertThat(VpnDemoStep.vpnState(status)).isEqualTo("ESTABLISHED");
    assertThat(VpnDemoStep.packets(status)).isEqualTo(9);
    assertThat(VpnDemoStep.vpnState(JSON.readTree("{\"reported\": {}}"))).isEmpty();
  }

  @Test
  void onlyTheVpnNisRowsOfNodeStatusAreShown() throws Exception {
    ByteArrayOutputStream text = new ByteArrayOutputStream();
    new StatusView(new PrintStream(text, true, StandardCharsets.UTF_8)).render(JSON.readTree(STATUS));
    assertThat(VpnDemoStep.tunnelRows(text.toString(StandardCharsets.UTF_8))).containsExactly(
        "site-vpn     vpn     ONLINE  bn2    10.3.0.1        -                  eth0     -",
        "vpn ESTABLISHED peer 198.51.100.2 from 203.0.113.2 (libipsec) in 508 B/5 pkts out 302 B/4 pkts, last rekey never");
  }
}
