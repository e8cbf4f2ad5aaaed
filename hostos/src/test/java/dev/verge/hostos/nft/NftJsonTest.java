package dev.verge.hostos.nft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.verge.hostos.FirewallContract;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class NftJsonTest {
  private static final TableRef FW = TableRef.of(NftFamily.INET, "vgfw");

  /** The contract's table with every construct (kept there so sim and kernel check the same one). */
  static Table everything() {
    return FirewallContract.everything();
  }

  @Test
  void aRenderedBatchParsesBackToTheSameCommands() {
    NftBatch batch = NftBatch.replaceTable(everything())
        .then(new NftCommand.SetElements(FW, "allowed", List.of(Value.addr("203.0.113.7")), true),
            new NftCommand.MapElements(FW, "ports",
                List.of(MapElement.of(Value.num(443), new Stmt.Goto("web"))), true),
            new NftCommand.FlushChain(FW, "web"),
            new NftCommand.FlushSet(FW, "ports", true),
            new NftCommand.DeleteSet(FW, "macs", false),
            new NftCommand.DeleteCounter(FW, "web-hits"),
            new NftCommand.FlushTable(FW));
    String json = NftJson.render(batch);
    assertThat(NftJson.parseBatch(json, (ref, name) -> Optional.empty())).isEqualTo(batch);
  }

  @Test
  void elementsOfASetTheBatchDoesNotDeclareAreTypedByTheShapesGiven() {
    String json = NftJson.render(NftBatch.of(
        new NftCommand.SetElements(FW, "hosts", List.of(Value.addr("10.0.0.1")), true),
        new NftCommand.MapElements(FW, "dnat", List.of(MapElement.of(Value.num(80), Value.addr("10.0.0.2"))),
            true)));
    NftJson.Shapes shapes = (ref, name) -> Optional.of(name.equals("hosts")
        ? new NftJson.SetShape(List.of(DataType.IPV4_ADDR), Optional.empty())
        : new NftJson.SetShape(List.of(DataType.INET_SERVICE), Optional.of(DataType.IPV4_ADDR)));
    NftBatch parsed = NftJson.parseBatch(json, shapes);
    assertThat(parsed.commands()).containsExactly(
        new NftCommand.SetElements(FW, "hosts", List.of(Value.addr("10.0.0.1")), true),
        new NftCommand.MapElements(FW, "dnat", List.of(MapElement.of(Value.num(80), Value.addr("10.0.0.2"))),
            true));
  }

  @Test
  void whatNftListedForTheTableParsesToTheModelThatWasApplied() throws IOException {
    try (InputStream listed = getClass().getResourceAsStream("/nft/everything-listed-by-nft-1.0.6.json")) {
      String json = new String(listed.readAllBytes(), StandardCharsets.UTF_8);
      NftJson.Listing listing = NftJson.parseListing(json);
      assertThat(listing.table()).isEqualTo(everything());
      assertThat(listing.counters())
          .isEqualTo(Map.of("acl-drops", CounterValues.ZERO, "web-hits", CounterValues.ZERO));
    }
  }

  @Test
  void aRenderedListingParsesBackWithItsCounterValues() {
    Map<String, CounterValues> counters =
        Map.of("acl-drops", new CounterValues(3, 252), "web-hits", new CounterValues(1, 60));
    NftJson.Listing listing = NftJson.parseListing(NftJson.renderListing(everything(), counters));
    assertThat(listing.table()).isEqualTo(everything());
    assertThat(listing.counters()).isEqualTo(counters);
  }

  @Test
  void elementsAndAnonymousSetsCompareEqualInAnyOrder() {
    assertThat(NftSet.of("s", DataType.INET_SERVICE, Value.num(80), Value.num(22)))
        .isEqualTo(NftSet.of("s", DataType.INET_SERVICE, Value.num(22), Value.num(80)));
    assertThat(Value.anonSet(Value.num(5353), Value.num(53))).isEqualTo(Value.anonSet(Value.num(53), Value.num(5353)));
    assertThat(Value.flags("related", "established")).isEqualTo(Value.flags("established", "related"));
    assertThat(Value.prefix("10.1.2.3/8")).isEqualTo(Value.prefix("10.0.0.0/8"));
    assertThat(Value.prefix("10.1.2.3/32")).isEqualTo(Value.addr("10.1.2.3"));
  }

  @Test
  void constructsOutsideTheModelAreRefusedByName() {
    String json = "{\"nftables\": [{\"add\": {\"rule\": {\"family\": \"inet\", \"table\": \"t\", \"chain\": \"c\","
        + " \"expr\": [{\"queue\": {\"num\": 1}}]}}}]}";
    assertThatThrownBy(() -> NftJson.parseBatch(json, (ref, name) -> Optional.empty()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("unsupported statement queue");
    assertThatThrownBy(() -> NftJson.parseBatch("{\"nft\": []}", (ref, name) -> Optional.empty()))
        .hasMessage("not an nftables JSON batch: no \"nftables\" array");
  }
}
