package dev.verge.testkit;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectMethod;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectPackage;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.platform.engine.DiscoverySelector;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.discovery.ClassNameFilter;
import org.junit.platform.engine.reporting.ReportEntry;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * Runs JUnit tests where there is no Maven: inside the lab VM. Arguments select what runs: a class
 * name, {@code Class#method}, or {@code package:dev.verge.x} (its classes ending in IT or Test).
 * Prints one line per test, report entries (the branch a capability-dependent test took), then
 * the plain closing line {@code N passed, N failed, N skipped}. Exit code 0 only when something
 * ran and nothing failed or was skipped: in the lab everything a test needs is there, so a skip
 * is a failure too.
 */
public final class LabTestMain {
  private LabTestMain() {}

  public static void main(String[] args) {
    List<DiscoverySelector> selectors = new ArrayList<>();
    for (String arg : args) {
      if (arg.startsWith("package:")) {
        selectors.add(selectPackage(arg.substring("package:".length())));
      } else if (arg.contains("#")) {
        selectors.add(selectMethod(arg));
      } else {
        selectors.add(selectClass(arg));
      }
    }
    if (selectors.isEmpty()) {
      System.err.println("usage: LabTestMain <class|Class#method|package:name>...");
      System.exit(2);
    }
    LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
        .selectors(selectors)
        .filters(ClassNameFilter.includeClassNamePatterns(".*IT", ".*Test"))
        // as the build's Surefire/Failsafe configuration, with room for TCG's slowness
        .configurationParameter("junit.jupiter.extensions.autodetection.enabled", "true")
        .configurationParameter("junit.jupiter.execution.timeout.default", "900 s")
        .build();
    Launcher launcher = LauncherFactory.create();
    SummaryGeneratingListener summary = new SummaryGeneratingListener();
    Progress progress = new Progress();
    launcher.execute(request, summary, progress);

    TestExecutionSummary result = summary.getSummary();
    PrintWriter out = new PrintWriter(System.out, true);
    if (!result.getFailures().isEmpty()) {
      out.println("Failures:");
      result.printFailuresTo(out, 25);
    }
    long failed = result.getTotalFailureCount();
    long skipped = result.getTestsSkippedCount() + result.getTestsAbortedCount();
    out.printf("%d passed, %d failed, %d skipped%n", result.getTestsSucceededCount(), failed, skipped);
    boolean ranNothing = result.getTestsStartedCount() == 0;
    if (ranNothing) {
      out.println("lab: no test ran for " + String.join(" ", args));
    }
    System.exit(failed > 0 || skipped > 0 || ranNothing ? 1 : 0);
  }

  /** One line per finished test, with its time; report entries as they come. */
  private static final class Progress implements TestExecutionListener {
    private final Map<String, Long> started = new ConcurrentHashMap<>();
    private TestPlan plan;

    @Override
    public void testPlanExecutionStarted(TestPlan testPlan) {
      plan = testPlan;
    }

    @Override
    public void executionStarted(TestIdentifier test) {
      started.put(test.getUniqueId(), System.nanoTime());
    }

    @Override
    public void executionSkipped(TestIdentifier test, String reason) {
      System.out.println("SKIP " + name(test) + ": " + reason);
    }

    @Override
    public void executionFinished(TestIdentifier test, TestExecutionResult result) {
      long millis = (System.nanoTime() - started.getOrDefault(test.getUniqueId(), System.nanoTime())) / 1_000_000;
      boolean container = !test.isTest();
      if (container && result.getStatus() == TestExecutionResult.Status.SUCCESSFUL) {
        return;
      }
      String word = switch (result.getStatus()) {
        case SUCCESSFUL -> "PASS";
        case ABORTED -> "ABORTED";
        case FAILED -> "FAIL";
      };
      String why = result.getThrowable().map(t -> ": " + firstLine(t.toString())).orElse("");
      System.out.println(word + " " + name(test) + " (" + millis + " ms)" + why);
    }

    @Override
    public void reportingEntryPublished(TestIdentifier test, ReportEntry entry) {
      entry.getKeyValuePairs().forEach((key, value) -> System.out.println("  " + name(test) + " " + key + ": " + value));
    }

    private String name(TestIdentifier test) {
      String parent = plan == null ? "" : plan.getParent(test).map(TestIdentifier::getDisplayName).orElse("");
      return parent.isEmpty() || parent.startsWith("JUnit") ? test.getDisplayName() : parent + "." + test.getDisplayName();
    }

    private static String firstLine(String text) {
      int newline = text.indexOf('\n');
      return newline < 0 ? text : text.substring(0, newline);
    }
  }
}
