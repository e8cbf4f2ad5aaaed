package dev.verge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class StatusViewTest {
  @Test
  void networkInstancesGetATableWithStateBridgeSubnetUplinkAppIpsAndErrors() throws Exception {
    String status = """
        {"reported": {
          "network_instance/11111111-0000-4000-8000-000000000001": {
            "id": {"uuid": "11111111-0000-4000-8000-000000000001"}, "displayName": "local-1", "type": "local",
            "state": "STATE_ONLINE", "bridgeName": "bn1", "bridgeIp": "10.1.0.1", "selectedPort": "eth0",
            "routes": [{"destination": "10.1.0.0/24", "port": "bn1"}],
            "ipAssignments": [{"mac": "02:00:00:00:00:01", "ipAddrs": ["10.1.0.128"]}]},
          "network_instance/11111111-0000-4000-8000-000000000002": {
            "id": {"uuid": "11111111-0000-4000-8000-000000000002"}, "type": "local", "state": "STATE_ERROR",
            "errors": [{"reason": "SUBNET_OVERLAP", "fieldPath": "ip.subnet", "description": "subnet 10.1.0.128/25 overlaps"}]}
        }}""";
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    new StatusView(new PrintStream(bytes, true, StandardCharsets.UTF_8)).render(new ObjectMapper().readTree(status));
    assertThat(bytes.toString(StandardCharsets.UTF_8).lines().toList()).containsSubsequence(
        "NETWORK INSTANCES",
        "  NAME         TYPE    STATE   BRIDGE GATEWAY         SUBNET             UPLINK   APP IPS",
        "  local-1      local   ONLINE  bn1    10.1.0.1        10.1.0.0/24        eth0     10.1.0.128",
        "  11111111-0000-4000-8000-000000000002 local   ERROR   -      -               -                  -        -",
        "    error SUBNET_OVERLAP ip.subnet: subnet 10.1.0.128/25 overlaps");
  }

  @Test
  void aVpnNiShowsItsTunnelStatePeerCountersAndIkesReason() throws Exception {
    String status = """
        {"reported": {
          "network_instance/11111111-0000-4000-8000-000000000003": {
            "id": {"uuid": "11111111-0000-4000-8000-000000000003"}, "displayName": "site-b", "type": "vpn",
            "state": "STATE_ONLINE", "bridgeName": "bn3", "bridgeIp": "10.1.0.1", "selectedPort": "eth0",
            "vpnState": "FAILED",
            "vpn": {"state": "FAILED", "reason": "received AUTHENTICATION_FAILED notify error", "peer": "192.0.2.2",
                    "localAddress": "192.0.2.10", "ipsecBackend": "libipsec", "bytesIn": "168", "packetsIn": "2",
                    "bytesOut": "336", "packetsOut": "4", "lastRekeyMs": "0"}}
        }}""";
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    new StatusView(new PrintStream(bytes, true, StandardCharsets.UTF_8)).render(new ObjectMapper().readTree(status));
    assertThat(bytes.toString(StandardCharsets.UTF_8).lines().toList()).containsSubsequence(
        "  site-b       vpn     ONLINE  bn3    10.1.0.1        -                  eth0     -",
        "    vpn FAILED peer 192.0.2.2 from 192.0.2.10 (libipsec) in 168 B/2 pkts out 336 B/4 pkts, last rekey never",
        "    vpn reason: received AUTHENTICATION_FAILED notify error");
  }

  @Test
  void aVpnTunnelThatCharonRetriesSaysWhichAttemptItIs() throws Exception {
    String status = """
        {"reported": {
          "network_instance/11111111-0000-4000-8000-000000000003": {
            "id": {"uuid": "11111111-0000-4000-8000-000000000003"}, "displayName": "site-b", "type": "vpn",
            "state": "STATE_ONLINE", "bridgeName": "bn3", "bridgeIp": "10.1.0.1", "selectedPort": "eth0",
            "vpnState": "CONNECTING",
            "vpn": {"state": "CONNECTING", "reason": "retrying after peer dead (DPD): giving up after 3 retransmits",
                    "peer": "192.0.2.2", "localAddress": "192.0.2.10", "ipsecBackend": "libipsec", "retries": 3}}
        }}""";
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    new StatusView(new PrintStream(bytes, true, StandardCharsets.UTF_8)).render(new ObjectMapper().readTree(status));
    assertThat(bytes.toString(StandardCharsets.UTF_8).lines().toList()).contains(
        "    vpn reason: retrying after peer dead (DPD): giving up after 3 retransmits (charon's attempt 3)");
  }

  @Test
  void portsAndPortConfigsGetSectionsOfTheirOwn() throws Exception {
    String json = """
        {"connected": true,
         "reported": {
           "device_network/global": {"dpcKey": "zedagent", "currentUplink": "wan1", "ports": [
             {"label": "wan0", "ifName": "eth0", "isMgmt": true, "cost": 0, "error": {"description": "no carrier on eth0"},
              "lastFailedMs": "1767225597000", "lastSucceededMs": "1767225500000"},
             {"label": "wan1", "ifName": "eth1", "isMgmt": true, "up": true, "cost": 10, "dhcpType": "client",
              "ipAddrs": ["198.51.100.10/24"], "defaultRouters": ["198.51.100.1"], "proxy": "http://198.51.100.3:3128",
              "lastSucceededMs": "1767225588000"},
             {"label": "lan0", "ifName": "eth2", "cost": 0}]},
           "config_list/global": {"reason": "controller port wan0 lost (no carrier on eth0): switched to wan1",
             "configs": [
             {"key": "zedagent", "lastSucceededMs": "20", "lastFailedMs": "10"},
             {"key": "lastresort", "lastFailedMs": "30", "lastError": "no management port reaches the controller"}]}}}
        """;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    long now = 1767225600000L; // the status is read 3 s after wan0's last check failed, 12 s after wan1's succeeded
    new StatusView(new PrintStream(bytes, true, StandardCharsets.UTF_8), () -> now)
        .render(new ObjectMapper().readTree(json));
    String text = bytes.toString(StandardCharsets.UTF_8);
    assertThat(text).contains("PORTS (config zedagent, controller traffic on wan1)");
    // Each port's newest check: how it went and how long ago; the failure's error follows.
    assertThat(text).containsPattern("\n {5}wan0 +eth0 +false +true +0 +- +- +- +failed 3s ago +no carrier on eth0");
    // The port in use is marked, with how it gets its address, its gateway and its proxy.
    assertThat(text).containsPattern(
        "\n  \\* +wan1 +eth1 +true +true +10 +dhcp +198.51.100.10/24 +198.51.100.1 +ok 12s ago +-");
    assertThat(text).as("never checked").containsPattern("\n {5}lan0 +eth2 +false +false +0 +- +- +- +- +-");
    assertThat(text).contains("     proxy http://198.51.100.3:3128");
    assertThat(text).contains("PORT CONFIGS (in use: zedagent)\n  why: controller port wan0 lost (no carrier on eth0): "
        + "switched to wan1");
    assertThat(text).containsPattern("\\* +zedagent +works +-");
    assertThat(text).containsPattern(" +lastresort +failed +no management port reaches the controller");
  }

  @Test
  void agesAreShortAndATimeAheadOfTheClockIsNow() {
    assertThat(StatusView.age(-5_000)).isEqualTo("0s ago");
    assertThat(StatusView.age(119_999)).isEqualTo("119s ago");
    assertThat(StatusView.age(3 * 60_000)).isEqualTo("3m ago");
    assertThat(StatusView.age(5 * 3_600_000)).isEqualTo("5h ago");
    assertThat(StatusView.age(3 * 86_400_000L)).isEqualTo("3d ago");
  }

  @Test
  void nimsMetricsGetAPortTableWithCountersAndProbes() throws Exception {
    String json = """
        {"metrics": {"nim/nim": {
           "interfaces": [{"ifName": "eth0", "label": "wan0", "rxBytes": "7000", "txBytes": "5000", "rxPackets": "7",
                           "txPackets": "5", "rxErrors": "1", "txErrors": "2", "rxDrops": "3", "txDrops": "4"}],
           "controllerProbes": {"currentPort": "wan0", "ports": [
             {"port": "wan0", "successCount": "41", "failureCount": "2", "lastRttUs": "1250"}]}}}}
        """;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    new StatusView(new PrintStream(bytes, true, StandardCharsets.UTF_8)).render(new ObjectMapper().readTree(json));
    String text = bytes.toString(StandardCharsets.UTF_8);
    assertThat(text).contains("PORT METRICS");
    assertThat(text).containsPattern("wan0 +eth0 +7000 +5000 +7 +5 +3 +7 +41 +2 +1\\.3");
    assertThat(text).doesNotContain("metrics ");
  }

  @Test
  void zedroutersUplinkProbesGetATablePerNiWithEachPortsPingsTcpProbesAndTheReasonForTheChoice() throws Exception {
    String json = """
        {"reported": {
           "network_instance/11111111-0000-4000-8000-000000000001": {
             "id": {"uuid": "11111111-0000-4000-8000-000000000001"}, "displayName": "local-1", "type": "local"}},
         "metrics": {"zedrouter/zedrouter": {"networkInstances": [
           {"networkUuid": "11111111-0000-4000-8000-000000000002"},
           {"networkUuid": "11111111-0000-4000-8000-000000000001", "probes": [{"currentPort": "eth1",
             "currentPortReason": "failover to eth1: eth0 fails its probe (no echo reply)", "ports": [
               {"port": "eth0", "ifName": "eth0", "state": "DOWN", "icmpSuccessCount": "3", "icmpFailureCount": "9",
                "tcpSuccessCount": "0", "tcpFailureCount": "4", "lastIcmpSuccessMs": "940000",
                "lastError": "cannot ping 192.0.2.1: no echo reply"},
               {"port": "eth1", "ifName": "eth1", "state": "UP", "icmpSuccessCount": "12", "gatewayUp": true,
                "tcpSuccessCount": "4", "lastIcmpSuccessMs": "997000", "lastTcpSuccessMs": "998000"}]}]}]}}}
        """;
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    new StatusView(new PrintStream(bytes, true, StandardCharsets.UTF_8), () -> 1_000_000)
        .render(new ObjectMapper().readTree(json));
    assertThat(bytes.toString(StandardCharsets.UTF_8).lines().toList()).containsSubsequence(
        "UPLINK PROBES",
        "     NI           PORT       STATE   ICMP OK FAILED  TCP OK FAILED LAST OK    ERROR",
        "     local-1      eth0       DOWN          3      9       0      4 60s ago    cannot ping 192.0.2.1: no echo reply",
        "  *  local-1      eth1       UP           12      0       4      0 2s ago     -",
        "     local-1 uses eth1: failover to eth1: eth0 fails its probe (no echo reply)");
  }

  @Test
  void reportsAsZedagentServesThemAreUnwrappedFromTheirInfoMessage() throws Exception {
    String json = """
        {"reported": {
          "domain/aaaaaaaa-0000-4000-8000-000000000001": {"atTimeMs": "1", "objectId": "domain/aaaaaaaa-0000-4000-8000-000000000001",
            "domain": {"domainName": "aaaaaaaa-0000-4000-8000-000000000001", "state": "STATE_RUNNING", "accel": "tcg"}}
        }}""";
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    new StatusView(new PrintStream(bytes, true, StandardCharsets.UTF_8)).render(new ObjectMapper().readTree(json));
    assertThat(bytes.toString(StandardCharsets.UTF_8))
        .containsPattern("aaaaaaaa-0000-4000-8000-000000000001 RUNNING +tcg");
  }

  @Test
  void appDomainsGetATableWithStateAndVifsWithTheirIps() throws Exception {
    String json = """
        {"reported": {
          "domain/aaaaaaaa-0000-4000-8000-000000000001": {
            "domainName": "aaaaaaaa-0000-4000-8000-000000000001", "state": "STATE_RUNNING", "accel": "tcg", "restarts": 1,
            "consoleLog": "/persist/domainmgr/domains/a/console.log",
            "vifs": [{"name": "eth0", "vifName": "nbu1x1", "mac": "02:16:3e:00:00:01", "ipAddress": "10.1.0.128", "ready": true}]},
          "domain/aaaaaaaa-0000-4000-8000-000000000002": {
            "domainName": "aaaaaaaa-0000-4000-8000-000000000002", "state": "STATE_ERROR",
            "errors": [{"reason": "DUPLICATE_MAC", "description": "adapter eth0: MAC 02:16:3e:00:00:01 is already used"}]}
        }}""";
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    new StatusView(new PrintStream(bytes, true, StandardCharsets.UTF_8)).render(new ObjectMapper().readTree(json));
    assertThat(bytes.toString(StandardCharsets.UTF_8).lines().toList()).containsSubsequence(
        "APPS",
        "  DOMAIN                               STATE    ACCEL RESTARTS  CONSOLE",
        "  aaaaaaaa-0000-4000-8000-000000000001 RUNNING  tcg          1  /persist/domainmgr/domains/a/console.log",
        "    vif eth0   nbu1x1          02:16:3e:00:00:01 10.1.0.128      ready",
        "  aaaaaaaa-0000-4000-8000-000000000002 ERROR    -            0  -",
        "    error DUPLICATE_MAC: adapter eth0: MAC 02:16:3e:00:00:01 is already used");
  }

  @Test
  void assignableAdaptersGetATableWithHolderAndErrorAndDomainsListTheirDevices() throws Exception {
    String json = """
        {"reported": {
          "assignable_adapters/global": {"adapters": [
            {"type": "TYPE_UNSPECIFIED", "name": "gpu", "assignGroup": "gpu", "pciAddress": "0000:04:00.0",
             "usedByAppUuid": "aaaaaaaa-0000-4000-8000-000000000001"},
            {"type": "TYPE_ETH_PF", "name": "eth1", "pciAddress": "0000:03:00.0",
             "error": {"description": "eth1 asks for 16 VFs but 0000:03:00.0 supports at most 8 (sriov_totalvfs)"}}]},
          "domain/aaaaaaaa-0000-4000-8000-000000000001": {
            "domainName": "aaaaaaaa-0000-4000-8000-000000000001", "state": "STATE_RUNNING",
            "passthroughAdapters": ["0000:04:00.0", "0000:04:00.1"]}
        }}""";
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    new StatusView(new PrintStream(bytes, true, StandardCharsets.UTF_8)).render(new ObjectMapper().readTree(json));
    assertThat(bytes.toString(StandardCharsets.UTF_8).lines().toList()).containsSubsequence(
        "ASSIGNABLE ADAPTERS",
        "  NAME       TYPE          GROUP    PCI          USED BY                              ERROR",
        "  gpu        UNSPECIFIED   gpu      0000:04:00.0 aaaaaaaa-0000-4000-8000-000000000001 -",
        "  eth1       ETH_PF        -        0000:03:00.0 -                                    eth1 asks for 16 VFs but"
            + " 0000:03:00.0 supports at most 8 (sriov_totalvfs)",
        "APPS",
        "    adapter 0000:04:00.0",
        "    adapter 0000:04:00.1");
  }
}
