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

  /** Bytes as the VICI wire has them, for expectations written out element by element. */
  private static final class Wire {
    private final java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();

    Wire b(int... bytes) {
      for (int x : bytes) {
        out.write(x);
      }
      return this;
    }

    /** An 8-bit length and the name. */
    Wire name(String name) {
      return b(name.length()).raw(name.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    }

    /** A 16-bit big-endian length and the value. */
    Wire value(byte[] value) {
      return b(value.length >> 8, value.length & 0xff).raw(value);
    }

    Wire raw(byte[] bytes) {
      out.writeBytes(bytes);
      return this;
    }

    /** With the 32-bit length prefix charon reads first. */
    byte[] packet() {
      byte[] body = out.toByteArray();
      return new Wire().b(0, 0, body.length >> 8, body.length & 0xff).raw(body).out.toByteArray();
    }
  }

  private static byte[] ascii(String s) {
    return s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  }

  @Test
  void loadCertCarriesTypeFlagAndTheDerBytesAsTheyAre() {
    // 300 bytes, so the value's 16-bit length has a high byte; 0x00 and 0xff pass untouched
    byte[] der = new byte[300];
    for (int i = 0; i < der.length; i++) {
      der[i] = (byte) (i * 7);
    }
    der[0] = 0x30;
    byte[] encoded = ViciCodec.encode(ViciPacket.request("load-cert",
        ViciClient.loadCertRequest(ViciClient.CertificateKind.X509_CA, new Der(der))));
    byte[] expected = new Wire()
        .b(0).name("load-cert")                              // CMD_REQUEST, its name
        .b(3).name("type").value(ascii("X509"))             // KEY_VALUE type = X509
        .b(3).name("flag").value(ascii("CA"))               // KEY_VALUE flag = CA: a trust anchor
        .b(3).name("data").value(der)                       // KEY_VALUE data = the DER, 0x01 0x2c long
        .packet();
    assertArrayEquals(expected, encoded);
    assertEquals(0x01, encoded[4 + 1 + 10 + 1 + 5 + 2 + 4 + 1 + 5 + 2 + 2 + 1 + 5]);
    assertEquals(0x2c, encoded[4 + 1 + 10 + 1 + 5 + 2 + 4 + 1 + 5 + 2 + 2 + 1 + 5 + 1]);
    byte[] endEntity = ViciCodec.encode(ViciPacket.request("load-cert",
        ViciClient.loadCertRequest(ViciClient.CertificateKind.X509, new Der(new byte[] {0x30, 0x00}))));
    assertArrayEquals(new Wire().b(0).name("load-cert").b(3).name("type").value(ascii("X509"))
        .b(3).name("flag").value(ascii("NONE")).b(3).name("data").value(new byte[] {0x30, 0x00}).packet(), endEntity);
  }

  @Test
  void loadKeyNamesTheKeyTypeAsCharonDoes() {
    byte[] der = {0x30, (byte) 0x82, 0x00, 0x01, (byte) 0xff};
    assertArrayEquals(new Wire().b(0).name("load-key").b(3).name("type").value(ascii("rsa"))
            .b(3).name("data").value(der).packet(),
        ViciCodec.encode(ViciPacket.request("load-key", ViciClient.loadKeyRequest(ViciClient.KeyType.RSA, new Der(der)))));
    assertArrayEquals(new Wire().b(0).name("load-key").b(3).name("type").value(ascii("ecdsa"))
            .b(3).name("data").value(der).packet(),
        ViciCodec.encode(ViciPacket.request("load-key", ViciClient.loadKeyRequest(ViciClient.KeyType.ECDSA, new Der(der)))));
  }

  @Test
  void certificatesInLoadConnAreListsOfDer() {
    SiteToSite conn = new SiteToSite("s", "192.0.2.1", "192.0.2.2", "a", "b",
        Optional.of(new SiteToSite.PubkeyAuth(new Der(new byte[] {0x30, 1}), new Der(new byte[] {0x30, 2}))),
        List.of("aes256-sha256-modp3072"), List.of("aes256-sha256-modp3072"), java.time.Duration.ofSeconds(10),
        java.time.Duration.ofHours(4), java.time.Duration.ofHours(1), List.of("10.1.0.0/24"), List.of("10.2.0.0/24"), true);
    ViciMessage vici = conn.toVici();
    byte[] local = ViciCodec.encodeMessage(vici.section("local").orElseThrow());
    assertArrayEquals(new Wire().b(3).name("auth").value(ascii("pubkey")).b(3).name("id").value(ascii("a"))
        .b(4).name("certs").b(5).value(new byte[] {0x30, 1}).b(6)   // LIST_START certs, one LIST_ITEM, LIST_END
        .out.toByteArray(), local);
    byte[] remote = ViciCodec.encodeMessage(vici.section("remote").orElseThrow());
    assertArrayEquals(new Wire().b(3).name("auth").value(ascii("pubkey")).b(3).name("id").value(ascii("b"))
        .b(4).name("cacerts").b(5).value(new byte[] {0x30, 2}).b(6)
        .out.toByteArray(), remote);
    assertEquals("no", vici.text("mobike"));
  }
}
