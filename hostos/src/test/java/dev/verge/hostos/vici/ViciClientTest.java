package dev.verge.hostos.vici;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verge.hostos.Errno;
import dev.verge.hostos.HostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client against a server that answers with charon's recorded packets. */
class ViciClientTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(5);

  @TempDir
  Path dir;

  @Test
  void listSasCollectsTheStreamedEventsAndUnregisters() throws Exception {
    try (ReplayingCharon charon = new ReplayingCharon(dir.resolve("charon.vici"))
            .answer("list-sas", "listsas/05-048-rsp.bin", "listsas/05-049-rsp.bin");
        ViciClient client = ViciClient.connect(dir.resolve("charon.vici"), TIMEOUT)) {
      List<IkeSa> sas = client.listSas("");
      assertEquals(1, sas.size());
      assertEquals(168, sas.get(0).bytesOut());
      assertEquals(2, sas.get(0).packetsIn());
      assertEquals(List.of(ViciPacket.Type.EVENT_REGISTER, ViciPacket.Type.CMD_REQUEST, ViciPacket.Type.EVENT_UNREGISTER),
          charon.received.stream().map(ViciPacket::type).toList());
      assertEquals(Optional.of("list-sa"), charon.received.get(0).name());
    }
  }

  @Test
  void aFailedInitiateIsAResultWithIkesReason() throws Exception {
    String[] streamed = new String[15];
    for (int i = 0; i < 15; i++) {
      streamed[i] = String.format("wrongpsk/09-%03d-rsp.bin", 77 + i);
    }
    try (ReplayingCharon charon = new ReplayingCharon(dir.resolve("charon.vici")).answer("initiate", streamed);
        ViciClient client = ViciClient.connect(dir.resolve("charon.vici"), TIMEOUT)) {
      ViciClient.InitiateResult result = client.initiate("net", "site", Duration.ofSeconds(2));
      assertFalse(result.success());
      assertTrue(result.error().contains("establishing CHILD_SA 'net' failed"), result.error());
      assertTrue(result.reason().contains("received AUTHENTICATION_FAILED notify error"), result.reason());
      ViciMessage sent = charon.received.get(1).message();
      assertEquals("net", sent.text("child"));
      assertEquals("2000", sent.text("timeout"));
    }
  }

  @Test
  void eventsReachSubscribersOnTheirExecutor() throws Exception {
    LinkedBlockingQueue<ViciMessage> seen = new LinkedBlockingQueue<>();
    LinkedBlockingQueue<String> threads = new LinkedBlockingQueue<>();
    java.util.concurrent.ExecutorService loop = java.util.concurrent.Executors.newSingleThreadExecutor(r -> new Thread(r, "test-loop"));
    try (ReplayingCharon charon = new ReplayingCharon(dir.resolve("charon.vici"));
        ViciClient client = ViciClient.connect(dir.resolve("charon.vici"), TIMEOUT)) {
      ViciClient.Subscription sub = client.subscribe("ike-updown", loop, m -> {
        threads.add(Thread.currentThread().getName());
        seen.add(m);
      });
      charon.push("events/08-068-rsp.bin");
      charon.push("events/08-070-rsp.bin"); // child-rekey: nobody subscribed
      charon.push("wrongpsk/08-092-rsp.bin");
      ViciMessage up = seen.poll(5, TimeUnit.SECONDS);
      ViciMessage down = seen.poll(5, TimeUnit.SECONDS);
      assertTrue(up.isYes("up"));
      assertFalse(down.isYes("up"));
      assertEquals("test-loop", threads.poll());
      sub.close();
      assertEquals(ViciPacket.Type.EVENT_UNREGISTER, charon.received.get(charon.received.size() - 1).type());
      assertEquals(null, seen.poll(100, TimeUnit.MILLISECONDS));
    } finally {
      loop.shutdownNow();
    }
  }

  @Test
  void refusalsNameTheCommandAndCharonsError() throws Exception {
    try (ReplayingCharon charon = new ReplayingCharon(dir.resolve("charon.vici"))
            .answer("initiate", "wrongpsk/09-091-rsp.bin");
        ViciClient client = ViciClient.connect(dir.resolve("charon.vici"), TIMEOUT)) {
      HostException refused = assertThrows(HostException.class, () -> client.command("initiate", ViciMessage.EMPTY));
      assertTrue(refused.getMessage().contains("run VICI initiate"), refused.getMessage());
      assertTrue(refused.reason().contains("establishing CHILD_SA 'net' failed"), refused.reason());
      HostException unknown = assertThrows(HostException.class, () -> client.request("no-such-command", ViciMessage.EMPTY));
      assertEquals(Errno.EOPNOTSUPP, unknown.errno());
    }
  }

  @Test
  void aVanishedCharonFailsTheCommandInsteadOfHanging() throws Exception {
    ReplayingCharon charon = new ReplayingCharon(dir.resolve("charon.vici")).answer("stats", "stats/06-051-rsp.bin");
    try (ViciClient client = ViciClient.connect(dir.resolve("charon.vici"), TIMEOUT)) {
      assertTrue(client.stats().section("workers").isPresent(), "recorded stats decoded");
      charon.close();
      long start = System.nanoTime();
      HostException gone = assertThrows(HostException.class, () -> {
        for (int i = 0; i < 50; i++) {
          client.stats();
          Thread.sleep(20);
        }
      });
      assertEquals(Errno.EIO, gone.errno(), gone.getMessage());
      assertTrue(System.nanoTime() - start < TIMEOUT.toNanos(), "failed fast");
    }
  }

  @Test
  void connectingToNoSocketSaysSo() {
    HostException e = assertThrows(HostException.class, () -> ViciClient.connect(dir.resolve("none.vici"), TIMEOUT));
    assertTrue(e.getMessage().contains("connect VICI"), e.getMessage());
  }

  @Test
  void loadKeyAndLoadCertSendTheirRequestsAndReadCharonsAnswer() throws Exception {
    byte[] key = {0x30, 0x03, 0x02, 0x01, 0x00};
    try (ReplayingCharon charon = new ReplayingCharon(dir.resolve("charon.vici"))
            .answerWith("load-key", ViciMessage.builder().put("success", true).put("id", "3a9f").build())
            .answerWith("load-cert", ViciMessage.builder().put("success", false)
                .put("errmsg", "parsing X509 certificate failed").build());
        ViciClient client = ViciClient.connect(dir.resolve("charon.vici"), TIMEOUT)) {
      assertEquals("3a9f", client.loadKey(ViciClient.KeyType.RSA, new Der(key)));
      assertArrayEquals(ViciCodec.encode(ViciPacket.request("load-key",
              ViciClient.loadKeyRequest(ViciClient.KeyType.RSA, new Der(key)))),
          withLength(charon.receivedBytes.get(0)));
      HostException refused = assertThrows(HostException.class,
          () -> client.loadCert(ViciClient.CertificateKind.X509, new Der(new byte[] {0x30, 0x00})));
      assertTrue(refused.getMessage().contains("run VICI load-cert"), refused.getMessage());
      assertTrue(refused.reason().contains("parsing X509 certificate failed"), refused.reason());
      assertEquals("NONE", charon.received.get(1).message().text("flag"));
    }
  }

  private static byte[] withLength(byte[] body) {
    byte[] p = new byte[body.length + 4];
    java.nio.ByteBuffer.wrap(p).putInt(body.length).put(body);
    return p;
  }
}
