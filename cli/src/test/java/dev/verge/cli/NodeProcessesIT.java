package dev.verge.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.verge.agent.sample.SampleBridgeAgent;
import dev.verge.proto.Certificates;
import dev.verge.proto.info.v1.NetworkInstanceStatus;
import dev.verge.pubsub.AgentLoop;
import dev.verge.pubsub.PubSub;
import dev.verge.pubsub.PubSubConfig;
import dev.verge.pubsub.Subscription;
import dev.verge.pubsub.SubscriptionHandler;
import dev.verge.topics.AgentTopics;
import dev.verge.topics.v1.AgentHealth;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code verge node run --processes}: each agent in its own JVM, talking over the socket bus. The
 * agents here are zedagent and the runtime's sample agent (enabled by the environment), on the sim
 * host; the controller is absent, which zedagent rides out.
 */
class NodeProcessesIT {
  static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir Path dir;
  Process node;
  PubSub bus;
  AgentLoop loop;
  final List<String> output = new CopyOnWriteArrayList<>();

  @AfterEach
  void stop() throws InterruptedException {
    if (bus != null) {
      bus.close();
      loop.close();
    }
    if (node != null) {
      node.destroy();
      if (!node.waitFor(20, TimeUnit.SECONDS)) {
        node.destroyForcibly();
      }
      // The children go with the parent's shutdown hook; check none is left.
      for (ProcessHandle child : node.descendants().toList()) {
        child.destroyForcibly();
      }
    }
  }

  @Test
  void eachAgentRunsInItsOwnProcessAndTheyTalkOverTheSocketBus() throws Exception {
    Path ca = dir.resolve("ca.crt");
    Files.writeString(ca, Certificates.toPem(Certificates.selfSigned("test CA", true, Duration.ofDays(1)).certificate()));
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), VergeCommand.class.getName(),
        "node", "run", "--processes", "--host", "sim", "--controller", "127.0.0.1:9", "--ca-cert", ca.toString(),
        "--serial", "SN-PROC", "--state-dir", dir.resolve("state").toString()));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().put("VERGE_SAMPLE_AGENT", "1");
    node = builder.start();
    Thread pump = new Thread(() -> {
      try (var out = new BufferedReader(new InputStreamReader(node.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = out.readLine()) != null; ) {
          output.add(line);
        }
      } catch (java.io.IOException e) {
        output.add("output lost: " + e);
      }
    }, "node-output");
    pump.setDaemon(true);
    pump.start();

    await().atMost(WAIT).until(() -> output.stream().anyMatch(l -> l.startsWith("verge node: running")));
    String banner = output.stream().filter(l -> l.startsWith("verge node: running")).findFirst().orElseThrow();
    assertThat(banner).contains("processes=nim,zedrouter,domainmgr,sample,zedagent");
    List<Long> childPids = node.descendants().filter(p -> p.parent().map(pp -> pp.pid() == node.pid()).orElse(false))
        .map(ProcessHandle::pid).toList();
    assertThat(childPids).hasSize(5);

    // The test joins the node's socket bus as a third process would.
    bus = PubSub.unixSockets(PubSubConfig.defaults().withSocketDir(dir.resolve("state/bus")));
    loop = AgentLoop.create("test");
    Subscription<AgentHealth> sampleHealth = bus.subscribe(AgentTopics.health("sample"), loop, new SubscriptionHandler<>() {});
    Subscription<AgentHealth> zedagentHealth = bus.subscribe(AgentTopics.health("zedagent"), loop, new SubscriptionHandler<>() {});
    Subscription<AgentHealth> zedrouterHealth = bus.subscribe(AgentTopics.health("zedrouter"), loop, new SubscriptionHandler<>() {});
    Subscription<AgentHealth> nimHealth = bus.subscribe(AgentTopics.health("nim"), loop, new SubscriptionHandler<>() {});
    Subscription<AgentHealth> domainmgrHealth = bus.subscribe(AgentTopics.health("domainmgr"), loop, new SubscriptionHandler<>() {});
    await().atMost(WAIT).until(() -> sampleHealth.get("sample").isPresent() && zedagentHealth.get("zedagent").isPresent()
        && zedrouterHealth.get("zedrouter").isPresent() && nimHealth.get("nim").isPresent()
        && domainmgrHealth.get("domainmgr").isPresent());
    long samplePid = sampleHealth.get("sample").orElseThrow().getPid();
    long zedagentPid = zedagentHealth.get("zedagent").orElseThrow().getPid();
    long zedrouterPid = zedrouterHealth.get("zedrouter").orElseThrow().getPid();
    long nimPid = nimHealth.get("nim").orElseThrow().getPid();
    long domainmgrPid = domainmgrHealth.get("domainmgr").orElseThrow().getPid();
    assertThat(List.of(samplePid, zedagentPid, zedrouterPid, nimPid, domainmgrPid)).containsExactlyInAnyOrderElementsOf(childPids);

    // The sample agent's input is zedagent's network instance topic: it leaves WAITING_FOR_INPUTS
    // only once that topic, published by the other process, has reached it over the socket bus.
    Subscription<NetworkInstanceStatus> status = bus.subscribe(SampleBridgeAgent.STATUS, loop, new SubscriptionHandler<>() {});
    await().atMost(WAIT).until(() -> sampleHealth.get("sample")
        .map(h -> h.getState() == AgentHealth.State.STATE_RUNNING && h.getReconcileRuns() >= 1).orElse(false));
    assertThat(status.snapshot()).as("no config yet, so no network instance").isEmpty();

    // One agent process dies: the node stops the others and exits with an error.
    ProcessHandle.of(samplePid).orElseThrow().destroyForcibly();
    assertThat(node.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(node.exitValue()).isEqualTo(1);
    assertThat(ProcessHandle.of(zedagentPid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    assertThat(String.join("\n", output)).contains("agent process sample exited");
  }
}
