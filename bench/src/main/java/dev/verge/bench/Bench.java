package dev.verge.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code ./verge bench [group...]}: runs benchmark programs, each printing {@code BENCH <name>
 * <value> <unit>} lines on stdout (progress and diagnostics go to stderr).
 */
@Command(
    name = "verge bench",
    mixinStandardHelpOptions = true,
    description = "Run benchmarks; prints lines 'BENCH <name> <value> <unit>'.")
public final class Bench implements Callable<Integer> {
  /** A benchmark program: a main that prints BENCH lines. */
  @FunctionalInterface
  interface Program {
    void run(String[] args) throws Exception;
  }

  /** Group name → programs, in the order `verge bench` runs them. */
  static final Map<String, List<Program>> GROUPS = new LinkedHashMap<>();

  static {
    GROUPS.put("reconciler", List.of(ReconcilerBenchmark::main));
    GROUPS.put("pubsub", List.of(PubsubBenchmark::main));
    GROUPS.put("hostos", List.of(HostosBenchmark::main));
    GROUPS.put("agent", List.of(AgentBenchmark::main));
    GROUPS.put("nim", List.of(NimBenchmark::main));
    GROUPS.put("failover", List.of(NimBenchmark::failover));
    GROUPS.put("controller", List.of(PushToBusBenchmark::main, ControllerBenchmark::main, MaxConfigBenchmark::main));
    GROUPS.put("fleet", List.of(FleetBenchmark::main));
    GROUPS.put("guest", List.of(GuestBenchmark::main));
    GROUPS.put("lab", List.of(LabBenchmark::main));
    GROUPS.put("zedrouter", List.of(ZedrouterBenchmark::main));
    GROUPS.put("domainmgr", List.of(DomainmgrBenchmark::main));
    GROUPS.put("vpn", List.of(VpnBenchmark::main));
    GROUPS.put("node", List.of(NodeBenchmark::main));
  }

  @Parameters(
      arity = "0..*",
      paramLabel = "GROUP",
      description = "Groups to run (default: all): ${COMPLETION-CANDIDATES}",
      completionCandidates = GroupNames.class)
  List<String> groups = new ArrayList<>();

  public static void main(String[] args) {
    System.exit(new CommandLine(new Bench()).execute(args));
  }

  @Override
  public Integer call() {
    List<String> selected = groups.isEmpty() ? List.copyOf(GROUPS.keySet()) : groups;
    for (String group : selected) {
      if (!GROUPS.containsKey(group)) {
        System.err.println(
            "unknown bench group '" + group + "'; known: " + String.join(", ", GROUPS.keySet()));
        return 2;
      }
    }
    int failures = 0;
    for (String group : selected) {
      System.out.println("# bench " + group);
      System.out.flush();
      for (Program program : GROUPS.get(group)) {
        try {
          program.run(new String[0]);
        } catch (Exception e) {
          System.err.println("benchmark of " + group + " failed: " + e);
          e.printStackTrace();
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
