package dev.verge.cli;

import com.sun.net.httpserver.HttpServer;
import dev.verge.proto.flowlog.v1.FlowBatch;
import dev.verge.proto.info.v1.DeviceNetworkStatus;
import dev.verge.proto.info.v1.DomainStatus;
import dev.verge.proto.info.v1.NetworkInstanceStatus;
import dev.verge.proto.metrics.v1.MetricsMessage;
import dev.verge.pubsub.AgentLoop;
import dev.verge.pubsub.PubSub;
import dev.verge.pubsub.PubSubMetrics;
import dev.verge.pubsub.Subscription;
import dev.verge.pubsub.SubscriptionHandler;
import dev.verge.topics.AgentTopics;
import dev.verge.topics.DomainmgrTopics;
import dev.verge.topics.NimTopics;
import dev.verge.topics.ZedrouterTopics;
import dev.verge.topics.v1.AgentHealth;
import dev.verge.topics.v1.AgentMetrics;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToLongFunction;

/**
 * The node's Prometheus endpoint ({@code GET /metrics}): what the agents publish on the bus —
 * reconcile runs and operations, health, the uplink in use and its probes, NI and domain states,
 * ACL matches and drops, flow-log volume — with the bus's own counters and the JVM's, through
 * Micrometer's Prometheus registry. It only subscribes, so it runs beside in-process agents or in
 * the parent of a node of agent processes alike.
 */
final class NodePrometheus implements AutoCloseable {
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final SnapshotMeters snapshots = new SnapshotMeters(registry);
  private final AgentLoop loop = AgentLoop.create("prometheus");
  private final List<Subscription<?>> subscriptions = new ArrayList<>();
  private final List<Subscription<AgentMetrics>> agentMetrics = new ArrayList<>();
  private final List<Subscription<AgentHealth>> agentHealth = new ArrayList<>();
  private final Subscription<DeviceNetworkStatus> deviceNetwork;
  private final Subscription<MetricsMessage> nimMetrics;
  private final Subscription<NetworkInstanceStatus> networkInstances;
  private final Subscription<MetricsMessage> zedrouterMetrics;
  private final Subscription<DomainStatus> domains;
  private final AtomicLong flowBatches = new AtomicLong();
  private final AtomicLong flowRecords = new AtomicLong();
  private final AtomicLong dnsRequests = new AtomicLong();
  private final ExecutorService httpThread;
  private final HttpServer server;

  private NodePrometheus(PubSub bus, List<String> agents, InetSocketAddress listen) throws IOException {
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    busCounter(bus, "published", "values published on the bus", PubSubMetrics::published);
    busCounter(bus, "delivered", "subscription handler calls", PubSubMetrics::delivered);
    busCounter(bus, "coalesced", "changes replaced by a newer one before delivery", PubSubMetrics::coalesced);
    busCounter(bus, "slow.handlers", "handler calls slower than the threshold", PubSubMetrics::slowHandlers);
    busCounter(bus, "handler.errors", "handler calls that threw", PubSubMetrics::handlerErrors);
    busCounter(bus, "reconnects", "subscriber reconnections to a publisher", PubSubMetrics::reconnects);
    busCounter(bus, "protocol.errors", "undecodable frames and refused handshakes", PubSubMetrics::protocolErrors);
    for (String agent : agents) {
      agentMetrics.add(subscribe(bus, AgentTopics.metrics(agent), new SubscriptionHandler<>() {}));
      agentHealth.add(subscribe(bus, AgentTopics.health(agent), new SubscriptionHandler<>() {}));
    }
    deviceNetwork = subscribe(bus, NimTopics.DEVICE_NETWORK_STATUS, new SubscriptionHandler<>() {});
    nimMetrics = subscribe(bus, NimTopics.METRICS, new SubscriptionHandler<>() {});
    networkInstances = subscribe(bus, ZedrouterTopics.NETWORK_INSTANCE_STATUS, new SubscriptionHandler<>() {});
    zedrouterMetrics = subscribe(bus, ZedrouterTopics.METRICS, new SubscriptionHandler<>() {});
    domains = subscribe(bus, DomainmgrTopics.DOMAIN_STATUS, new SubscriptionHandler<>() {});
    // Batches are published once each and then taken away by zedagent: count them as they come.
    subscribe(bus, ZedrouterTopics.FLOW_LOGS, new SubscriptionHandler<FlowBatch>() {
      @Override
      public void onCreate(String key, FlowBatch batch) {
        flowBatches.incrementAndGet();
        flowRecords.addAndGet(batch.getFlowsCount());
        dnsRequests.addAndGet(batch.getDnsRequestsCount());
      }
    });
    FunctionCounter.builder("verge.flowlog.batches", flowBatches, AtomicLong::get)
        .description("flow-log batches zedrouter published").register(registry);
    FunctionCounter.builder("verge.flowlog.flows", flowRecords, AtomicLong::get)
        .description("flow records in those batches").register(registry);
    FunctionCounter.builder("verge.flowlog.dns.requests", dnsRequests, AtomicLong::get)
        .description("DNS requests in those batches").register(registry);

    httpThread = Executors.newSingleThreadExecutor(runnable -> {
      Thread thread = new Thread(runnable, "prometheus-http");
      thread.setDaemon(true);
      return thread;
    });
    server = HttpServer.create(listen, 0);
    server.createContext("/metrics", exchange -> {
      try (exchange) {
        byte[] body;
        int status;
        if (!exchange.getRequestMethod().equals("GET")) {
          status = 405;
          body = "GET only\n".getBytes(StandardCharsets.UTF_8);
        } else {
          status = 200;
          body = scrape().getBytes(StandardCharsets.UTF_8);
          exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
        }
        exchange.sendResponseHeaders(status, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(body);
        }
      }
    });
    server.setExecutor(httpThread);
    server.start();
  }

  /** Serves {@code GET /metrics} on {@code listen} (port 0: any free port, see {@link #address()}). */
  static NodePrometheus start(PubSub bus, List<String> agents, InetSocketAddress listen) throws IOException {
    return new NodePrometheus(bus, agents, listen);
  }

  InetSocketAddress address() {
    return server.getAddress();
  }

  /** The exposition text, with the bus-fed meters brought up to the latest published values first. */
  synchronized String scrape() {
    SnapshotMeters.Round round = snapshots.round();
    agentMetrics.forEach(sub -> sub.snapshot().values().forEach(metrics -> agentSamples(round, metrics)));
    agentHealth.forEach(sub -> sub.snapshot().values().forEach(health -> {
      for (AgentHealth.State state : List.of(AgentHealth.State.STATE_WAITING_FOR_INPUTS,
          AgentHealth.State.STATE_RUNNING, AgentHealth.State.STATE_DEGRADED)) {
        round.gauge("verge.agent.health", "1 for the agent's current state", health.getState() == state ? 1 : 0,
            "agent", health.getAgent(), "state", stateName(state.name()));
      }
    }));
    deviceNetwork.snapshot().values().forEach(status -> status.getPortsList().forEach(port -> {
      round.gauge("verge.port.in.use", "1 for the port that reaches the controller now",
          port.getLabel().equals(status.getCurrentUplink()) ? 1 : 0, "port", port.getLabel(), "if_name", port.getIfName());
      round.gauge("verge.port.up", "1 when the port is up", port.getUp() ? 1 : 0, "port", port.getLabel());
      round.gauge("verge.port.error", "1 when the port has an error", port.hasError() ? 1 : 0, "port", port.getLabel());
    }));
    nimMetrics.snapshot().values().forEach(metrics -> {
      metrics.getControllerProbes().getPortsList().forEach(probe -> {
        round.gauge("verge.controller.probe.up", "1 when the last probe of the controller through the port succeeded",
            probe.getRemoteHostUp() ? 1 : 0, "port", probe.getPort());
        round.counter("verge.controller.probe.successes", "probes of the controller that succeeded",
            probe.getSuccessCount(), "port", probe.getPort());
        round.counter("verge.controller.probe.failures", "probes of the controller that failed",
            probe.getFailureCount(), "port", probe.getPort());
      });
      metrics.getInterfacesList().forEach(nic -> interfaceSamples(round, "nim", nic));
    });
    networkInstances.snapshot().values().forEach(ni -> {
      for (NetworkInstanceStatus.State state : List.of(NetworkInstanceStatus.State.STATE_INIT,
          NetworkInstanceStatus.State.STATE_ONLINE, NetworkInstanceStatus.State.STATE_ERROR)) {
        round.gauge("verge.ni.state", "1 for the network instance's current state", ni.getState() == state ? 1 : 0,
            "ni", ni.getDisplayName(), "uuid", ni.getId().getUuid(), "state", stateName(state.name()));
      }
    });
    zedrouterMetrics.snapshot().values().forEach(metrics -> {
      metrics.getNetworkInstancesList().forEach(ni -> ni.getInterfacesList().forEach(nic -> {
        interfaceSamples(round, "zedrouter", nic);
        nic.getAcesList().forEach(ace -> {
          String id = Integer.toUnsignedString(ace.getAceId());
          round.counter("verge.acl.matches", "packets matched by the ACE", ace.getPackets(),
              "ni", ni.getNetworkUuid(), "if_name", nic.getIfName(), "ace", id, "name", ace.getName());
          round.counter("verge.acl.match.bytes", "bytes matched by the ACE", ace.getBytes(),
              "ni", ni.getNetworkUuid(), "if_name", nic.getIfName(), "ace", id, "name", ace.getName());
        });
        round.counter("verge.acl.drops", "packets the ACLs dropped on the interface", nic.getAclDrops(),
            "ni", ni.getNetworkUuid(), "if_name", nic.getIfName());
        round.counter("verge.acl.rate.limit.drops", "packets over an ACE's rate limit", nic.getAclRateLimitDrops(),
            "ni", ni.getNetworkUuid(), "if_name", nic.getIfName());
      }));
    });
    domains.snapshot().values().forEach(domain -> {
      for (DomainStatus.State state : List.of(DomainStatus.State.STATE_BOOTING, DomainStatus.State.STATE_RUNNING,
          DomainStatus.State.STATE_HALTED, DomainStatus.State.STATE_ERROR)) {
        round.gauge("verge.domain.state", "1 for the domain's current state", domain.getState() == state ? 1 : 0,
            "domain", domain.getDomainName(), "state", stateName(state.name()));
      }
      round.counter("verge.domain.restarts", "restarts of the VM after it died", domain.getRestarts(),
          "domain", domain.getDomainName());
    });
    round.end();
    return registry.scrape();
  }

  private static void agentSamples(SnapshotMeters.Round round, AgentMetrics metrics) {
    String agent = metrics.getAgent();
    round.counter("verge.reconcile.runs", "reconcile runs", metrics.getReconcileRuns(), "agent", agent);
    round.counter("verge.reconcile.duration.seconds", "time spent reconciling",
        metrics.getTotalReconcileMs() / 1000.0, "agent", agent);
    round.gauge("verge.reconcile.last.seconds", "duration of the last reconcile run",
        metrics.getLastReconcileMs() / 1000.0, "agent", agent);
    round.gauge("verge.reconcile.max.seconds", "longest reconcile run", metrics.getMaxReconcileMs() / 1000.0, "agent", agent);
    metrics.getOperationsList().forEach(op -> round.counter("verge.reconcile.operations", "operations on items",
        op.getCount(), "agent", agent, "item_type", op.getItemType(), "operation", op.getOperation().toLowerCase(),
        "result", op.getResult().toLowerCase()));
    round.gauge("verge.items.failed", "items whose last operation failed", metrics.getFailedItems(), "agent", agent);
    round.gauge("verge.items.current", "items in the current state graph", metrics.getCurrentItems(), "agent", agent);
    round.gauge("verge.async.operations", "asynchronous operations in flight", metrics.getAsyncOpsInFlight(), "agent", agent);
    round.counter("verge.kernel.events", "kernel events the agent received", metrics.getKernelEvents(), "agent", agent);
    round.counter("verge.input.changes", "changes of the agent's bus inputs", metrics.getInputChanges(), "agent", agent);
    round.counter("verge.intent.errors", "intended graphs rejected", metrics.getIntentErrors(), "agent", agent);
    round.counter("verge.retries", "automatic retries of failed items", metrics.getRetries(), "agent", agent);
  }

  private static void interfaceSamples(SnapshotMeters.Round round, String agent, dev.verge.proto.metrics.v1.InterfaceMetrics nic) {
    round.counter("verge.interface.rx.bytes", "bytes received", nic.getRxBytes(), "agent", agent, "if_name", nic.getIfName());
    round.counter("verge.interface.tx.bytes", "bytes sent", nic.getTxBytes(), "agent", agent, "if_name", nic.getIfName());
    round.counter("verge.interface.rx.drops", "received packets dropped", nic.getRxDrops(), "agent", agent, "if_name", nic.getIfName());
    round.counter("verge.interface.tx.drops", "packets to send dropped", nic.getTxDrops(), "agent", agent, "if_name", nic.getIfName());
  }

  private static String stateName(String protoName) {
    return protoName.substring("STATE_".length()).toLowerCase();
  }

  private <T extends com.google.protobuf.Message> Subscription<T> subscribe(
      PubSub bus, dev.verge.pubsub.Topic<T> topic, SubscriptionHandler<T> handler) {
    Subscription<T> subscription = bus.subscribe(topic, loop, handler);
    subscriptions.add(subscription);
    return subscription;
  }

  private void busCounter(PubSub bus, String name, String description, ToLongFunction<PubSubMetrics> value) {
    FunctionCounter.builder("verge.bus." + name, bus, b -> value.applyAsLong(b.metrics()))
        .description(description).register(registry);
  }

  @Override
  public void close() {
    server.stop(0);
    httpThread.shutdownNow();
    subscriptions.forEach(Subscription::close);
    loop.close();
    registry.close();
  }
}
