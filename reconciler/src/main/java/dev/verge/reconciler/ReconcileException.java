package dev.verge.reconciler;

import java.util.List;
import java.util.stream.Collectors;

/** All errors of one reconcile run, joined with "; ". */
public final class ReconcileException extends RuntimeException {
  private final List<Throwable> causes;

  public ReconcileException(List<Throwable> causes) {
    super(causes.stream().map(ReconcileException::text).collect(Collectors.joining("; ")), null, false, false);
    this.causes = List.copyOf(causes);
  }

  private static String text(Throwable t) {
    return t.getMessage() != null ? t.getMessage() : t.toString();
  }

  public List<Throwable> causes() {
    return causes;
  }
}
