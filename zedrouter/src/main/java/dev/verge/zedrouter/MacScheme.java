package dev.verge.zedrouter;

import dev.verge.hostos.MacAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * EVE's deterministic MACs: a bridge's is {@code 00:16:3e:<sha256(node)[0..1]>:<bridge number>}; an
 * app VIF's on a local NI is 6 bytes of sha256(app, NI, adapter number, app number) with the
 * group bit cleared and the local bit set; on a switch NI {@code 02:16:3e} and 3 bytes of that hash.
 * The same inputs always give the same MAC, so a restarted device keeps its apps' leases.
 */
public final class MacScheme {
  private MacScheme() {}

  /** @param bridgeNumber 1..255, one byte as in EVE */
  public static MacAddress bridge(String nodeId, int bridgeNumber) {
    if (bridgeNumber < 1 || bridgeNumber > 255) {
      throw new IllegalArgumentException("bridge number " + bridgeNumber + " out of 1..255");
    }
    byte[] hash = sha256(nodeId);
    return MacAddress.of(new byte[] {0x00, 0x16, 0x3e, hash[0], hash[1], (byte) bridgeNumber});
  }

  public static MacAddress localVif(String appUuid, String niUuid, int adapterNumber, int appNumber) {
    byte[] hash = sha256(appUuid + "|" + niUuid + "|" + adapterNumber + "|" + appNumber);
    byte first = (byte) ((hash[0] & 0xfe) | 0x02); // unicast, locally administered
    return MacAddress.of(new byte[] {first, hash[1], hash[2], hash[3], hash[4], hash[5]});
  }

  public static MacAddress switchVif(String appUuid, String niUuid, int adapterNumber, int appNumber) {
    byte[] hash = sha256(appUuid + "|" + niUuid + "|" + adapterNumber + "|" + appNumber);
    return MacAddress.of(new byte[] {0x02, 0x16, 0x3e, hash[0], hash[1], hash[2]});
  }

  private static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }
}
