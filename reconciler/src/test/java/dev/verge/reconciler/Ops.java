package dev.verge.reconciler;

import java.util.List;
import java.util.stream.Collectors;

/** Operation logs as short strings ("Create A", "Delete B (async)", "Modify C: failed to modify"). */
final class Ops {
  private Ops() {}

  static List<String> of(Status status) {
    return status.operationLog().stream().map(Ops::text).collect(Collectors.toList());
  }

  static String text(OpLogEntry e) {
    String op = switch (e.operation()) {
      case CREATE -> "Create";
      case MODIFY -> "Modify";
      case DELETE -> "Delete";
      default -> "?";
    };
    String s = op + " " + e.item().name();
    if (e.inProgress()) {
      s += " (async)";
    }
    if (e.error() != null) {
      s += ": " + e.error().getMessage();
    }
    return s;
  }
}
