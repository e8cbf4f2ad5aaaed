package dev.verge.cli;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code verge bench [group...]}: runs benchmark programs, each printing {@code BENCH <name>
 * <value> <unit>} lines. Each group is a module's benchmark main class.
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = "Run benchmarks; prints lines 'BENCH <name> <value> <unit>'.")
final class BenchCommand implements Callable<Integer> {
  /** Group name → benchmark main classes, in the order `verge bench` runs them. */
  static final Map<String, List<String>> GROUPS = new LinkedHashMap<>();

  static {
    GROUPS.put("reconciler", List.of("dev.verge.reconciler.bench.ReconcilerBenchmark"));
    GROUPS.put("pubsub", List.of("dev.verge.pubsub.bench.PubsubBenchmark"));
    GROUPS.put("hostos", List.of("dev.verge.hostos.bench.HostosBenchmark"));
    GROUPS.put("controller", List.of(
        "dev.verge.cli.bench.PushToBusBenchmark", "dev.verge.controller.bench.ControllerBenchmark"));
    GROUPS.put("guest", List.of("dev.verge.testkit.bench.GuestBenchmark"));
  }

  @Parameters(arity = "0..*", paramLabel = "GROUP", description = "Groups to run (default: all): ${COMPLETION-CANDIDATES}",
      completionCandidates = GroupNames.class)
  List<String> groups = new ArrayList<>();

  @Override
  public Integer call() throws Exception {
    List<String> selected = groups.isEmpty() ? List.copyOf(GROUPS.keySet()) : groups;
    for (String group : selected) {
      if (!GROUPS.containsKey(group)) {
        System.err.println("unknown bench group '" + group + "'; known: " + String.join(", ", GROUPS.keySet()));
        return 2;
      }
    }
    int failures = 0;
    for (String group : selected) {
      System.out.println("# bench " + group);
      System.out.flush();
      for (String benchmark : GROUPS.get(group)) {
        try {
          Method main = Class.forName(benchmark).getMethod("main", String[].class);
          main.invoke(null, (Object) new String[0]);
        } catch (ClassNotFoundException e) {
          System.err.println("benchmark " + benchmark + " is not part of this build");
          failures++;
        } catch (InvocationTargetException e) {
          System.err.println("benchmark " + benchmark + " failed: " + e.getCause());
          e.getCause().printStackTrace();
          failures++;
        }
      }
      System.out.flush();
    }
    return failures == 0 ? 0 : 1;
  }

  static final class GroupNames extends ArrayList<String> {
    GroupNames() {
      super(GROUPS.keySet());
    }
  }
}
