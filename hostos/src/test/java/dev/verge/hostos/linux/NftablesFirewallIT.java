package dev.verge.hostos.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.verge.hostos.Errno;
import dev.verge.hostos.HostException;
import dev.verge.netlab.Exec;
import dev.verge.netlab.NetTopology;
import dev.verge.netlab.Netns;
import dev.verge.netlab.Root;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** libnftables inside a throw-away namespace, checked against the nft command. */
class NftablesFirewallIT {
  private static NetTopology topology;
  private static Netns namespace;
  private static NftablesFirewall firewall;

  @BeforeAll
  static void openNamespace() {
    Assumptions.assumeTrue(Root.isRoot(), "needs root");
    topology = NetTopology.create("hostos-nft");
    namespace = topology.namespace("fw");
    firewall = NftablesFirewall.inNamespace(namespace.name());
  }

  @AfterAll
  static void closeNamespace() {
    if (firewall != null) {
      firewall.close();
    }
    if (topology != null) {
      topology.close();
    }
  }

  @AfterEach
  void flushRuleset() {
    namespace.execOk("nft", "flush", "ruleset");
  }

  private static String tableWithSshRule(String table) {
    return "{\"nftables\": ["
        + "{\"add\": {\"table\": {\"family\": \"inet\", \"name\": \"" + table + "\"}}},"
        + "{\"add\": {\"chain\": {\"family\": \"inet\", \"table\": \"" + table + "\", \"name\": \"input\","
        + " \"type\": \"filter\", \"hook\": \"input\", \"prio\": 0, \"policy\": \"accept\"}}},"
        + "{\"add\": {\"rule\": {\"family\": \"inet\", \"table\": \"" + table + "\", \"chain\": \"input\","
        + " \"expr\": [{\"match\": {\"op\": \"==\", \"left\": {\"payload\": {\"protocol\": \"tcp\","
        + " \"field\": \"dport\"}}, \"right\": 22}}, {\"accept\": null}]}}}"
        + "]}";
  }

  @Test
  void aJsonBatchIsAppliedAndTheTableListsAsJson() {
    firewall.apply(tableWithSshRule("vgtest"));
    String listed = firewall.listTable("inet", "vgtest");
    assertThat(listed).startsWith("{\"nftables\": [").contains("\"dport\"").contains("\"right\": 22");
    assertThat(namespace.execOk("nft", "list", "table", "inet", "vgtest")).contains("tcp dport 22 accept");
  }

  @Test
  void aBatchWithOneBadCommandChangesNothingAndCarriesNftsErrorVerbatim() {
    String batch =
        "{\"nftables\": ["
            + "{\"add\": {\"table\": {\"family\": \"inet\", \"name\": \"half\"}}},"
            + "{\"add\": {\"rule\": {\"family\": \"inet\", \"table\": \"half\", \"chain\": \"missing\","
            + " \"expr\": [{\"accept\": null}]}}}"
            + "]}";
    HostException refused = catchThrowableOfType(HostException.class, () -> firewall.apply(batch));
    assertThat(refused.errno()).isEqualTo(Errno.ENOENT);
    assertThat(refused.reason()).contains("Could not process rule: No such file or directory");
    assertThat(refused.getMessage())
        .isEqualTo("cannot apply nftables batch: internal:0:0-0: Error: Could not process rule:"
            + " No such file or directory (ENOENT)");
    assertThat(namespace.execOk("nft", "list", "tables")).doesNotContain("half");
  }

  @Test
  void malformedJsonIsRefusedWithNftsParserMessage() {
    HostException refused =
        catchThrowableOfType(HostException.class, () -> firewall.apply("{\"nftables\": [{\"add\": {\"tabel\": {}}}]}"));
    assertThat(refused.errno()).isEqualTo(Errno.EINVAL);
    assertThat(refused.reason()).contains("Error: Unknown object passed to add command.");
  }

  @Test
  void listingAMissingTableFailsWithEnoent() {
    HostException refused =
        catchThrowableOfType(HostException.class, () -> firewall.listTable("inet", "nosuch"));
    assertThat(refused.errno()).isEqualTo(Errno.ENOENT);
    assertThat(refused.getMessage()).startsWith("cannot list nftables table inet nosuch: ")
        .contains("Error: No such file or directory");
  }

  @Test
  void theFirewallChangesOnlyItsNamespace() {
    firewall.apply(tableWithSshRule("vgonlyhere"));
    assertThat(namespace.execOk("nft", "list", "tables")).contains("vgonlyhere");
    assertThat(Exec.run("nft", "list", "tables").stdout()).doesNotContain("vgonlyhere");
  }
}
