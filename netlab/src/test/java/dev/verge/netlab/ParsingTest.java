package dev.verge.netlab;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ParsingTest {

  @Test
  void udhcpcLeaseLineBecomesALeaseWithPrefixLength() {
    DhcpClient.Lease lease =
        DhcpClient.parse("LEASE eth0 203.0.113.120/255.255.255.0 router=203.0.113.1 dns=203.0.113.1");
    assertThat(lease).isEqualTo(new DhcpClient.Lease("eth0", "203.0.113.120/24", "203.0.113.1", "203.0.113.1"));
  }

  @Test
  void netmasksConvertToPrefixLengths() {
    assertThat(DhcpClient.prefixLength("255.255.255.0")).isEqualTo(24);
    assertThat(DhcpClient.prefixLength("255.255.240.0")).isEqualTo(20);
    assertThat(DhcpClient.prefixLength("16")).isEqualTo(16);
  }

  @Test
  void guestConsoleAddressLinesAreParsedPerInterface() {
    String console =
        "VERGE-BOOT kernel=6.1\nnoise\nVERGE-ADDR eth0 mac=52:54:00:aa:00:01 10.0.0.5/24 \n"
            + "VERGE-ADDR eth1 mac=52:54:00:aa:00:02 none\n";
    var addresses = GuestVm.parseAddresses(console);
    assertThat(addresses).containsOnlyKeys("eth0", "eth1");
    assertThat(addresses.get("eth0").cidr()).isEqualTo("10.0.0.5/24");
    assertThat(addresses.get("eth1").cidr()).isEqualTo("none");
  }

  @Test
  void failedCommandsNameTheCommandAndItsError() {
    ExecResult result = Exec.run("sh", "-c", "echo boom >&2; exit 3");
    assertThat(result.exitCode()).isEqualTo(3);
    org.assertj.core.api.Assertions.assertThatThrownBy(result::requireOk)
        .hasMessageContaining("exit 3")
        .hasMessageContaining("sh -c")
        .hasMessageContaining("boom");
  }
}
