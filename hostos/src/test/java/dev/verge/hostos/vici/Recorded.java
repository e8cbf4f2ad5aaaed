package dev.verge.hostos.vici;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;

/**
 * Packets recorded from a real charon 5.9.8 (device side of a PSK tunnel) by a proxy on its VICI
 * socket while swanctl talked to it: {@code <connection>-<sequence>-<req|rsp>.bin}, each one
 * packet with its length prefix, under {@code src/test/resources/vici/<exchange>/}.
 */
final class Recorded {
  private Recorded() {}

  /** The packet with its length prefix. */
  static byte[] packet(String path) {
    try (InputStream in = Recorded.class.getResourceAsStream("/vici/" + path)) {
      if (in == null) {
        throw new IllegalArgumentException("no recording " + path);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The packet without its length prefix, as {@link ViciCodec#decode} takes it. */
  static byte[] payload(String path) {
    byte[] p = packet(path);
    return Arrays.copyOfRange(p, 4, p.length);
  }

  static ViciPacket decoded(String path) {
    return ViciCodec.decode(payload(path));
  }
}
