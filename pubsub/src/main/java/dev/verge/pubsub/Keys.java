package dev.verge.pubsub;

import java.nio.charset.StandardCharsets;

/** Key rules shared by every driver: keys also name files, so they stay short and flat. */
public final class Keys {
  /** Longest key, in UTF-8 bytes. */
  public static final int MAX_KEY_BYTES = 255;

  private Keys() {}

  /**
   * Returns the key when it is valid.
   *
   * @throws IllegalArgumentException when the key is null, empty, has a '/' or is longer than
   *     {@value #MAX_KEY_BYTES} UTF-8 bytes
   */
  public static String validate(String key) {
    if (key == null || key.isEmpty()) {
      throw new IllegalArgumentException("key must be non-empty");
    }
    if (key.indexOf('/') >= 0) {
      throw new IllegalArgumentException("key must not contain '/': '" + key + "'");
    }
    if (key.length() * 3 > MAX_KEY_BYTES // fast path: short keys cannot be too long
        && key.getBytes(StandardCharsets.UTF_8).length > MAX_KEY_BYTES) {
      throw new IllegalArgumentException(
          "key is longer than " + MAX_KEY_BYTES + " UTF-8 bytes: '" + key.substring(0, 32) + "...'");
    }
    return key;
  }
}
