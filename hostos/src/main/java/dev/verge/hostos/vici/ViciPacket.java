package dev.verge.hostos.vici;

import java.util.Optional;

/**
 * One VICI packet (the payload after the 4-byte big-endian length): its type, the name for the
 * named types (a command, an event) and the message (empty for the types that carry none).
 */
public record ViciPacket(Type type, Optional<String> name, ViciMessage message) {
  public ViciPacket {
    if (type.named() != name.isPresent()) {
      throw new IllegalArgumentException("VICI " + type + " packet " + (type.named() ? "needs" : "takes no") + " name");
    }
  }

  public static ViciPacket request(String command, ViciMessage message) {
    return new ViciPacket(Type.CMD_REQUEST, Optional.of(command), message);
  }

  public static ViciPacket register(String event) {
    return new ViciPacket(Type.EVENT_REGISTER, Optional.of(event), ViciMessage.EMPTY);
  }

  public static ViciPacket unregister(String event) {
    return new ViciPacket(Type.EVENT_UNREGISTER, Optional.of(event), ViciMessage.EMPTY);
  }

  /** The packet types, with their wire codes. */
  public enum Type {
    CMD_REQUEST(0, true, true),
    CMD_RESPONSE(1, false, true),
    CMD_UNKNOWN(2, false, false),
    EVENT_REGISTER(3, true, false),
    EVENT_UNREGISTER(4, true, false),
    EVENT_CONFIRM(5, false, false),
    EVENT_UNKNOWN(6, false, false),
    EVENT(7, true, true);

    private final int code;
    private final boolean named;
    private final boolean hasMessage;

    Type(int code, boolean named, boolean hasMessage) {
      this.code = code;
      this.named = named;
      this.hasMessage = hasMessage;
    }

    public int code() {
      return code;
    }

    public boolean named() {
      return named;
    }

    public boolean hasMessage() {
      return hasMessage;
    }

    public static Type ofCode(int code) {
      for (Type t : values()) {
        if (t.code == code) {
          return t;
        }
      }
      throw new IllegalArgumentException("unknown VICI packet type " + code);
    }
  }
}
