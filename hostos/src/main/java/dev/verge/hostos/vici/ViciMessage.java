package dev.verge.hostos.vici;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A VICI message: an ordered set of named entries, each a value, a list of values or a nested
 * section. Values are kept as text (charon sends numbers, addresses and states as ASCII); the
 * order of entries is the wire order, so that an encoded message compares byte for byte.
 */
public final class ViciMessage {
  public static final ViciMessage EMPTY = new ViciMessage(Map.of());

  private final Map<String, Object> entries;

  private ViciMessage(Map<String, Object> entries) {
    this.entries = entries;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The entry names, in wire order. */
  public Set<String> keys() {
    return entries.keySet();
  }

  /**
   * The raw entries: {@link String}, {@code List<String>} or {@link ViciMessage}, in wire order; a
   * message built to be sent may also hold binary values ({@link Der}, alone or in lists).
   */
  public Map<String, Object> entries() {
    return entries;
  }

  public Optional<String> value(String key) {
    Object v = entries.get(key);
    return v instanceof String s ? Optional.of(s) : Optional.empty();
  }

  /** The value, or "" when absent (for fields charon leaves out when empty). */
  public String text(String key) {
    return value(key).orElse("");
  }

  public long number(String key, long absent) {
    Optional<String> v = value(key);
    if (v.isEmpty() || v.get().isEmpty()) {
      return absent;
    }
    try {
      return Long.parseLong(v.get());
    } catch (NumberFormatException e) {
      return absent;
    }
  }

  public List<String> list(String key) {
    Object v = entries.get(key);
    @SuppressWarnings("unchecked")
    List<String> list = v instanceof List<?> l ? (List<String>) l : List.of();
    return list;
  }

  public Optional<ViciMessage> section(String key) {
    Object v = entries.get(key);
    return v instanceof ViciMessage m ? Optional.of(m) : Optional.empty();
  }

  /** {@code yes} as charon writes booleans. */
  public boolean isYes(String key) {
    return "yes".equals(entries.get(key));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ViciMessage m && entries.equals(m.entries)
        && new ArrayList<>(entries.keySet()).equals(new ArrayList<>(m.entries.keySet()));
  }

  @Override
  public int hashCode() {
    return entries.hashCode();
  }

  @Override
  public String toString() {
    return entries.toString();
  }

  /** Builds a message; entries keep the order they are added in, a name may appear once. */
  public static final class Builder {
    private final Map<String, Object> entries = new LinkedHashMap<>();

    public Builder put(String key, String value) {
      return add(key, requireEncodable(key, value));
    }

    public Builder put(String key, long value) {
      return add(key, Long.toString(value));
    }

    public Builder put(String key, boolean value) {
      return add(key, value ? "yes" : "no");
    }

    /** A binary value (a certificate, a key), sent as its bytes. */
    public Builder put(String key, Der value) {
      requireEncodable(key, value);
      return add(key, value);
    }

    /** A list of binary values ({@code certs}, {@code cacerts}). */
    public Builder putDerList(String key, List<Der> values) {
      values.forEach(v -> requireEncodable(key, v));
      return add(key, List.copyOf(values));
    }

    public Builder putList(String key, List<String> values) {
      values.forEach(v -> requireEncodable(key, v));
      return add(key, List.copyOf(values));
    }

    public Builder putSection(String key, ViciMessage section) {
      return add(key, section);
    }

    private Builder add(String key, Object value) {
      if (key.isEmpty() || key.getBytes(StandardCharsets.UTF_8).length > 255) {
        throw new IllegalArgumentException("VICI entry name must be 1..255 bytes: '" + key + "'");
      }
      if (entries.putIfAbsent(key, value) != null) {
        throw new IllegalArgumentException("VICI entry '" + key + "' given twice");
      }
      return this;
    }

    private static String requireEncodable(String key, String value) {
      if (value.getBytes(StandardCharsets.UTF_8).length > 65535) {
        throw new IllegalArgumentException("VICI value of '" + key + "' longer than 65535 bytes");
      }
      return value;
    }

    private static void requireEncodable(String key, Der value) {
      if (value.length() > 65535) {
        throw new IllegalArgumentException("VICI value of '" + key + "' longer than 65535 bytes");
      }
    }

    public ViciMessage build() {
      return new ViciMessage(Collections.unmodifiableMap(new LinkedHashMap<>(entries)));
    }
  }
}
