package dev.verge.testkit;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test when anything threw on another thread while it ran: an agent loop's task or bus
 * handler (the loops hand what they catch to the default uncaught exception handler), or a thread
 * that died. Without it an assertion made in a callback is only logged, and the test passes or
 * times out for the wrong reason.
 *
 * <p>Registered for every test by JUnit's extension auto-detection (the build enables it). A test
 * that provokes failures on purpose declares them with {@link #expect}.
 */
public final class UncaughtFailures implements BeforeEachCallback, AfterEachCallback {
  /** A failure seen on some thread. */
  public record Failure(String thread, Throwable error) {}

  private static final List<Failure> SEEN = new CopyOnWriteArrayList<>();
  private static final List<Predicate<Throwable>> EXPECTED = new CopyOnWriteArrayList<>();

  static {
    Thread.setDefaultUncaughtExceptionHandler((t, e) -> SEEN.add(new Failure(t.getName(), e)));
  }

  /** Tolerates, for the current test, failures whose message (or a cause's) contains the text. */
  public static void expect(String messagePart) {
    EXPECTED.add(e -> messages(e).contains(messagePart));
  }

  /** Tolerates, for the current test, failures of this type (or with a cause of it). */
  public static void expect(Class<? extends Throwable> type) {
    EXPECTED.add(e -> {
      for (Throwable t = e; t != null; t = t.getCause()) {
        if (type.isInstance(t)) {
          return true;
        }
      }
      return false;
    });
  }

  /**
   * Records a failure seen by test code running on another thread (a recording handler that finds
   * a contract broken, a fake server that gets a bad request): the test fails when it ends, however
   * the code that saw it was created or registered.
   */
  public static void report(Throwable failure) {
    SEEN.add(new Failure(Thread.currentThread().getName(), failure));
  }

  /** The failures seen so far in this test, expected or not. */
  public static List<Failure> seen() {
    return List.copyOf(SEEN);
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    SEEN.clear();
    EXPECTED.clear();
  }

  @Override
  public void afterEach(ExtensionContext context) {
    List<Failure> unexpected = new ArrayList<>();
    for (Failure failure : SEEN) {
      if (EXPECTED.stream().noneMatch(p -> p.test(failure.error()))) {
        unexpected.add(failure);
      }
    }
    SEEN.clear();
    EXPECTED.clear();
    if (!unexpected.isEmpty()) {
      AssertionError error =
          new AssertionError(
              unexpected.size() + " failure(s) on other threads during the test, first on "
                  + unexpected.get(0).thread() + ": " + unexpected.get(0).error());
      unexpected.forEach(f -> error.addSuppressed(f.error()));
      throw error;
    }
  }

  private static String messages(Throwable e) {
    StringBuilder text = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      text.append(t).append('\n');
    }
    return text.toString();
  }
}
