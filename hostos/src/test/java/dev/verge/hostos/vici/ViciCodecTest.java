package dev.verge.hostos.vici;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class ViciCodecTest {

  /** Every packet charon and swanctl exchanged decodes and encodes back to the same bytes. */
  @Test
  void everyRecordedPacketRoundTripsByteForByte() throws IOException, URISyntaxException {
    Path root = Path.of(ViciCodecTest.class.getResource("/vici").toURI());
    List<Path> files;
    try (Stream<Path> walk = Files.walk(root)) {
      files = walk.filter(p -> p.toString().endsWith(".bin")).sorted().toList();
    }
    assertTrue(files.size() > 80, "recordings found: " + files.size());
    for (Path file : files) {
      String name = root.relativize(file).toString();
      byte[] bytes = Files.readAllBytes(file);
      ViciPacket packet = ViciCodec.decode(Recorded.payload(name));
      assertArrayEquals(bytes, ViciCodec.encode(packet), name);
    }
  }

  @Test
  void encodesRequestsAsSwanctlDoes() {
    assertArrayEquals(Recorded.packet("listsas/05-045-req.bin"), ViciCodec.encode(ViciPacket.register("list-sa")));
    assertArrayEquals(Recorded.packet("listsas/05-047-req.bin"), ViciCodec.encode(ViciPacket.request("list-sas", ViciMessage.EMPTY)));
    ViciMessage initiate = ViciMessage.builder().put("child", "net").put("loglevel", 1).build();
    assertArrayEquals(Recorded.packet("wrongpsk/09-076-req.bin"), ViciCodec.encode(ViciPacket.request("initiate", initiate)));
  }

  @Test
  void decodesListSaWithSectionsListsAndCounters() {
    ViciPacket event = Recorded.decoded("listsas/05-048-rsp.bin");
    assertEquals(ViciPacket.Type.EVENT, event.type());
    assertEquals(Optional.of("list-sa"), event.name());
    List<IkeSa> sas = IkeSa.fromListSa(event.message());
    assertEquals(1, sas.size());
    IkeSa sa = sas.get(0);
    assertEquals("site", sa.connection());
    assertTrue(sa.established());
    assertEquals("192.0.2.2", sa.remoteHost());
    assertEquals(4500, sa.remotePort());
    assertEquals("gw", sa.remoteId());
    assertEquals(3, sa.establishedSeconds());
    IkeSa.ChildSa child = sa.children().get(0);
    assertEquals("net", child.name());
    assertEquals("INSTALLED", child.state());
    assertTrue(child.udpEncapsulated());
    assertEquals(168, child.bytesIn());
    assertEquals(2, child.packetsOut());
    assertEquals(List.of("10.1.0.0/24"), child.localTs());
    assertEquals(List.of("10.2.0.0/24"), child.remoteTs());
  }

  @Test
  void decodesUpDownAndRekeyEvents() {
    ViciMessage up = Recorded.decoded("events/08-068-rsp.bin").message();
    assertTrue(up.isYes("up"));
    assertEquals(List.of("IKE_ESTABLISH", "CHILD_CREATE"), up.section("site").orElseThrow().list("tasks-active"));
    ViciMessage down = Recorded.decoded("wrongpsk/08-092-rsp.bin").message();
    assertFalse(down.isYes("up"));
    ViciPacket rekey = Recorded.decoded("events/08-070-rsp.bin");
    assertEquals(Optional.of("child-rekey"), rekey.name());
    List<IkeSa.ChildSa> children = IkeSa.fromListSa(rekey.message()).get(0).children();
    assertEquals(List.of("REKEYED", "INSTALLED"), children.stream().map(IkeSa.ChildSa::state).toList());
  }

  @Test
  void roundTripsNestedMessages() {
    ViciMessage m = ViciMessage.builder()
        .putSection("conn", ViciMessage.builder().put("version", 2).putList("proposals", List.of("a", "b"))
            .putSection("children", ViciMessage.builder().putSection("net", ViciMessage.builder()
                .putList("empty", List.of()).put("x", "").build()).build()).build())
        .put("after", true).build();
    ViciMessage back = ViciCodec.decodeMessage(ViciCodec.encodeMessage(m));
    assertEquals(m, back);
    assertEquals(List.of("conn", "after"), List.copyOf(back.keys()));
  }

  @Test
  void refusesMalformedInputSayingWhere() {
    IllegalArgumentException truncated = assertThrows(IllegalArgumentException.class,
        () -> ViciCodec.decodeMessage(new byte[] {3, 1, 'k', 0, 5, 'a'}));
    assertTrue(truncated.getMessage().contains("value of 'k' truncated"), truncated.getMessage());
    IllegalArgumentException unended = assertThrows(IllegalArgumentException.class,
        () -> ViciCodec.decodeMessage(new byte[] {1, 1, 's'}));
    assertTrue(unended.getMessage().contains("section 's' not ended"), unended.getMessage());
    IllegalArgumentException stray = assertThrows(IllegalArgumentException.class,
        () -> ViciCodec.decodeMessage(new byte[] {2}));
    assertTrue(stray.getMessage().contains("section end at byte 0"), stray.getMessage());
    IllegalArgumentException type = assertThrows(IllegalArgumentException.class,
        () -> ViciCodec.decode(new byte[] {9}));
    assertTrue(type.getMessage().contains("unknown VICI packet type 9"), type.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> ViciMessage.builder().put("a", "1").put("a", "2"));
  }
}
