package dev.verge.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ZedrouterDemoStepTest {
  static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void showsEachReportedNetworkInstance() throws Exception {
    List<String> lines = new ArrayList<>();
    boolean shown = ZedrouterDemoStep.show(JSON.readTree("""
        {"agents": {"zedrouter": {"state": "running"}},
         "reported": {"network_instance/n1": {"displayName": "local-1", "state": "STATE_ONLINE", "bridgeName": "bn1",
           "bridgeIp": "10.1.0.1", "selectedPort": "eth0", "ipAssignments": [{"ipAddrs": ["10.1.0.128"]}]},
           "device_network/global": {}}}"""), lines::add);
    assertThat(shown).isTrue();
    assertThat(lines).containsExactly("local-1: ONLINE, bridge bn1 10.1.0.1, uplink eth0, apps 10.1.0.128");
  }

  @Test
  void saysWhatZedrouterWaitsForInsteadOfPretending() throws Exception {
    List<String> lines = new ArrayList<>();
    boolean shown = ZedrouterDemoStep.show(JSON.readTree("""
        {"agents": {"zedrouter": {"state": "waiting_for_inputs", "waitingFor": ["nim/DeviceNetwork"]}}}"""), lines::add);
    assertThat(shown).isFalse();
    assertThat(lines).containsExactly(
        "zedrouter is waiting_for_inputs: waiting for nim/DeviceNetwork (it takes its uplinks from nim)");
  }
}
