package dev.verge.bench;

import dev.verge.hostos.IpPrefix;
import dev.verge.hostos.Link;
import dev.verge.hostos.LinkSpec;
import dev.verge.hostos.NetEvent;
import dev.verge.hostos.NetEvents;
import dev.verge.hostos.NetOperation;
import dev.verge.hostos.linux.LinuxNetworkStack;
import dev.verge.hostos.linux.NftablesFirewall;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Measures the host layer against the tools it replaces, in one throw-away namespace (needs root):
 * our netlink client against {@code ip -batch}, libnftables against {@code nft -f}, and the delay
 * from a carrier change to our event handler. Prints {@code BENCH <name> <value> <unit>} lines;
 * absolute times go to stderr.
 */
public final class HostosBenchmark {
  private static final int LINKS = 1000;
  private static final int RULES = 1000;
  /** Veth deletion is kernel-bound (RCU grace periods): two rounds of ~18 s each suffice. */
  private static final int NETLINK_ROUNDS = 2;
  private static final int NFT_ROUNDS = 5;
  private static final int CARRIER_SAMPLES = 101;

  private HostosBenchmark() {}

  public static void main(String[] args) throws Exception {
    // Named like the test kit's namespaces, so a later test run sweeps it if this JVM is killed.
    String namespace = "vg-" + ProcessHandle.current().pid() + "-0-bench";
    Thread cleanup = new Thread(() -> run(List.of("ip", "netns", "del", namespace), false));
    Runtime.getRuntime().addShutdownHook(cleanup);
    Path work = Files.createTempDirectory("verge-hostos-bench-");
    try {
      run(List.of("ip", "netns", "add", namespace), true);
      run(List.of("ip", "-n", namespace, "link", "set", "lo", "up"), true);
      try (LinuxNetworkStack stack = LinuxNetworkStack.inNamespace(namespace)) {
        netlinkVersusIpBatch(stack, namespace, work);
        carrierEventLatency(stack);
      }
      try (NftablesFirewall firewall = NftablesFirewall.inNamespace(namespace)) {
        nftablesVersusCli(firewall, namespace, work);
      }
    } finally {
      run(List.of("ip", "netns", "del", namespace), false);
      Runtime.getRuntime().removeShutdownHook(cleanup);
      deleteTree(work);
    }
  }

  // ---- netlink vs ip -batch

  private static void netlinkVersusIpBatch(LinuxNetworkStack stack, String namespace, Path work)
      throws IOException {
    vethWorkload(stack, "w", 200); // warm the JIT up
    Path batch = work.resolve("ip.batch");
    Files.write(batch, ipBatch("c", LINKS));
    long ours = Long.MAX_VALUE;
    long ip = Long.MAX_VALUE;
    for (int round = 0; round < NETLINK_ROUNDS; round++) {
      long start = System.nanoTime();
      vethWorkload(stack, "b", LINKS);
      ours = Math.min(ours, System.nanoTime() - start);
      start = System.nanoTime();
      run(List.of("ip", "-n", namespace, "-batch", batch.toString()), true);
      ip = Math.min(ip, System.nanoTime() - start);
    }
    System.err.printf(Locale.ROOT, "netlink %d veth+addr+del: ours %.1f ms, ip -batch %.1f ms%n",
        LINKS, ours / 1e6, ip / 1e6);
    bench("hostos.netlink_vs_ip_batch.ratio", (double) ours / ip, "x");
  }

  /**
   * Creates n veth pairs, adds an address to each, deletes them (one end, which takes its peer):
   * the same requests as {@link #ipBatch}, handed over as one batch.
   */
  private static void vethWorkload(LinuxNetworkStack stack, String prefix, int n) {
    List<NetOperation> operations = new ArrayList<>(3 * n);
    for (int i = 0; i < n; i++) {
      operations.add(new NetOperation.CreateLink(prefix + i, new LinkSpec.Veth(prefix + i + "p")));
    }
    for (int i = 0; i < n; i++) {
      operations.add(new NetOperation.AddAddress(prefix + i, IpPrefix.parse(address(i))));
    }
    for (int i = 0; i < n; i++) {
      operations.add(new NetOperation.DeleteLink(prefix + i));
    }
    stack.apply(operations).stream().flatMap(Optional::stream).findFirst().ifPresent(refused -> {
      throw refused;
    });
  }

  private static List<String> ipBatch(String prefix, int n) {
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      lines.add("link add " + prefix + i + " type veth peer name " + prefix + i + "p");
    }
    for (int i = 0; i < n; i++) {
      lines.add("address add " + address(i) + " dev " + prefix + i);
    }
    for (int i = 0; i < n; i++) {
      lines.add("link del " + prefix + i);
    }
    return lines;
  }

  private static String address(int i) {
    return "10.0." + (i / 256) + "." + (i % 256) + "/32";
  }

  // ---- carrier → handler

  private static void carrierEventLatency(LinuxNetworkStack stack) throws InterruptedException {
    stack.createLink("car0", new LinkSpec.Veth("car0p"));
    stack.setUp("car0", true);
    stack.setUp("car0p", true);
    BlockingQueue<Long> heard = new ArrayBlockingQueue<>(16);
    long[] samples = new long[CARRIER_SAMPLES];
    try (NetEvents.Subscription ignored =
        stack.subscribe(
            event -> {
              if (event instanceof NetEvent.LinkEvent change && change.link().name().equals("car0")) {
                Link link = change.link();
                heard.offer(System.nanoTime() * (link.carrier() ? 1 : -1));
              }
            })) {
      for (int i = 0; i < CARRIER_SAMPLES; i++) {
        boolean carrier = i % 2 == 1;
        heard.clear();
        long start = System.nanoTime();
        stack.setUp("car0p", carrier); // the peer's admin state is car0's carrier
        samples[i] = awaitCarrier(heard, carrier) - start;
      }
    }
    stack.deleteLink("car0");
    Arrays.sort(samples);
    System.err.printf(Locale.ROOT, "carrier event latency: p50 %.3f ms, max %.3f ms (%d samples)%n",
        samples[samples.length / 2] / 1e6, samples[samples.length - 1] / 1e6, samples.length);
    bench("hostos.carrier_event.latency", samples[samples.length / 2] / 1e6, "ms");
  }

  private static long awaitCarrier(BlockingQueue<Long> heard, boolean carrier)
      throws InterruptedException {
    while (true) {
      Long signed = heard.poll(5, TimeUnit.SECONDS);
      if (signed == null) {
        throw new IllegalStateException("no carrier event within 5 s");
      }
      if ((signed > 0) == carrier) {
        return Math.abs(signed);
      }
    }
  }

  // ---- libnftables vs nft -f

  private static void nftablesVersusCli(NftablesFirewall firewall, String namespace, Path work)
      throws IOException {
    String ruleset = ruleset(RULES);
    Path file = work.resolve("ruleset.json");
    Files.writeString(file, ruleset);
    firewall.apply(ruleset); // warm up
    long ours = Long.MAX_VALUE;
    long cli = Long.MAX_VALUE;
    for (int round = 0; round < NFT_ROUNDS; round++) {
      long start = System.nanoTime();
      firewall.apply(ruleset);
      ours = Math.min(ours, System.nanoTime() - start);
      start = System.nanoTime();
      run(List.of("nsenter", "--net=/run/netns/" + namespace, "nft", "-j", "-f", file.toString()), true);
      cli = Math.min(cli, System.nanoTime() - start);
    }
    System.err.printf(Locale.ROOT, "nftables %d rules: libnftables %.1f ms, nft -f %.1f ms%n",
        RULES, ours / 1e6, cli / 1e6);
    bench("hostos.nft_vs_cli.ratio", (double) ours / cli, "x");
  }

  /** Flush, one table, one chain, n rules: the whole ruleset replaced in one transaction. */
  private static String ruleset(int n) {
    StringBuilder json = new StringBuilder("{\"nftables\": [{\"flush\": {\"ruleset\": null}},");
    json.append("{\"add\": {\"table\": {\"family\": \"inet\", \"name\": \"bench\"}}},");
    json.append("{\"add\": {\"chain\": {\"family\": \"inet\", \"table\": \"bench\", \"name\": \"fwd\",")
        .append(" \"type\": \"filter\", \"hook\": \"forward\", \"prio\": 0, \"policy\": \"accept\"}}}");
    for (int i = 0; i < n; i++) {
      json.append(",{\"add\": {\"rule\": {\"family\": \"inet\", \"table\": \"bench\", \"chain\": \"fwd\",")
          .append(" \"expr\": [{\"match\": {\"op\": \"==\", \"left\": {\"payload\": {\"protocol\": \"ip\",")
          .append(" \"field\": \"saddr\"}}, \"right\": \"10.1.").append(i / 256).append('.')
          .append(i % 256).append("\"}}, {\"match\": {\"op\": \"==\", \"left\": {\"payload\":")
          .append(" {\"protocol\": \"tcp\", \"field\": \"dport\"}}, \"right\": ").append(1024 + i)
          .append("}}, {\"counter\": null}, {\"accept\": null}]}}}");
    }
    return json.append("]}").toString();
  }

  // ---- helpers

  private static void bench(String name, double value, String unit) {
    System.out.printf(Locale.ROOT, "BENCH %s %.3f %s%n", name, value, unit);
  }

  private static void run(List<String> command, boolean mustSucceed) {
    try {
      Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
      String output = new String(process.getInputStream().readAllBytes());
      int exit = process.waitFor();
      if (mustSucceed && exit != 0) {
        throw new IllegalStateException(String.join(" ", command) + " failed (" + exit + "): " + output);
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static void deleteTree(Path directory) throws IOException {
    try (var paths = Files.walk(directory)) {
      paths.sorted((a, b) -> b.getNameCount() - a.getNameCount()).forEach(p -> p.toFile().delete());
    }
  }
}
