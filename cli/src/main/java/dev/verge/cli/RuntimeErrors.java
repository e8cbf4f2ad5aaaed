package dev.verge.cli;

import java.net.BindException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.List;

/** One line for an operator from an exception: the innermost causes that say something, joined. */
final class RuntimeErrors {
  private RuntimeErrors() {}

  /** A usage problem found while running (e.g. in a file an option names): exit 2 like a bad option. */
  static final class UsageProblem extends IllegalArgumentException {
    UsageProblem(String message) {
      super(message);
    }
  }

  static String describe(Throwable error) {
    List<String> parts = new ArrayList<>();
    for (Throwable t = error; t != null && parts.size() < 3; t = t.getCause() == t ? null : t.getCause()) {
      String part = explain(t);
      if (part != null && parts.stream().noneMatch(p -> p.contains(part))) {
        parts.add(part);
      }
    }
    String line = parts.isEmpty() ? error.getClass().getSimpleName() : String.join(": ", parts);
    return line.replaceAll("\\s*\\R\\s*", " ");
  }

  private static String explain(Throwable t) {
    String message = t.getMessage();
    if (t instanceof BindException || (message != null && message.contains("Address already in use"))) {
      return "address already in use"; // Netty's native bind says "bind(..) failed: Address already in use"
    }
    if (t instanceof NoSuchFileException) {
      return "no such file: " + message;
    }
    if (t instanceof AccessDeniedException) {
      return "permission denied: " + message;
    }
    if (message == null || message.isBlank()) {
      return null;
    }
    return message;
  }
}
