package dev.verge.hostos.vici;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * DER bytes (a certificate, a private key) as one immutable value: compared by content, so items
 * that carry one compare as values, and never printed (a key's bytes stay out of logs).
 */
public record Der(byte[] bytes) {
  public Der {
    if (bytes.length == 0) {
      throw new IllegalArgumentException("DER data is empty");
    }
    bytes = bytes.clone();
  }

  @Override
  public byte[] bytes() {
    return bytes.clone();
  }

  public int length() {
    return bytes.length;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Der d && Arrays.equals(bytes, d.bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }

  @Override
  public String toString() {
    return "Der[" + bytes.length + " bytes, " + HexFormat.of().formatHex(bytes, 0, Math.min(4, bytes.length)) + "…]";
  }
}
