package dev.verge.hostos;

import java.util.HexFormat;
import java.util.Locale;

/** An Ethernet address in its canonical form {@code 02:00:00:00:00:01}. */
public record MacAddress(String value) {
  private static final HexFormat COLONS = HexFormat.ofDelimiter(":");

  public MacAddress {
    value = value.toLowerCase(Locale.ROOT);
    if (!value.matches("([0-9a-f]{2}:){5}[0-9a-f]{2}")) {
      throw new IllegalArgumentException("not a MAC address: " + value);
    }
  }

  public static MacAddress of(String text) {
    return new MacAddress(text);
  }

  public static MacAddress of(byte[] bytes) {
    if (bytes.length != 6) {
      throw new IllegalArgumentException("a MAC address has 6 bytes, not " + bytes.length);
    }
    return new MacAddress(COLONS.formatHex(bytes));
  }

  public byte[] bytes() {
    return COLONS.parseHex(value);
  }

  @Override
  public String toString() {
    return value;
  }
}
