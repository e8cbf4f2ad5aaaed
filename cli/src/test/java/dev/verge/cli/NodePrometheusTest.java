package dev.verge.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.verge.proto.common.v1.UuidAndVersion;
import dev.verge.proto.flowlog.v1.FlowBatch;
import dev.verge.proto.flowlog.v1.FlowRecord;
import dev.verge.proto.info.v1.DeviceNetworkStatus;
import dev.verge.proto.info.v1.NetworkInstanceStatus;
import dev.verge.proto.info.v1.PortStatus;
import dev.verge.proto.metrics.v1.AceMetrics;
import dev.verge.proto.metrics.v1.InterfaceMetrics;
import dev.verge.proto.metrics.v1.MetricsMessage;
import dev.verge.proto.metrics.v1.NetworkInstanceMetrics;
import dev.verge.pubsub.Durability;
import dev.verge.pubsub.Publication;
import dev.verge.pubsub.PubSub;
import dev.verge.pubsub.PubSubConfig;
import dev.verge.topics.AgentTopics;
import dev.verge.topics.NimTopics;
import dev.verge.topics.ZedrouterTopics;
import dev.verge.topics.v1.AgentHealth;
import dev.verge.topics.v1.AgentMetrics;
import dev.verge.topics.v1.OperationCount;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The node's Prometheus endpoint renders what the agents publish, over real HTTP, and forgets what is gone. */
class NodePrometheusTest {
  @TempDir Path dir;
  private PubSub bus;
  private NodePrometheus endpoint;

  @BeforeEach
  void start() throws Exception {
    bus = PubSub.inJvm(PubSubConfig.defaults().withStateDir(dir.resolve("persist")).withSocketDir(dir.resolve("bus")));
    endpoint = NodePrometheus.start(bus, List.of("nim", "zedrouter"), new InetSocketAddress("127.0.0.1", 0));
  }

  @AfterEach
  void stop() {
    endpoint.close();
    bus.close();
  }

  private HttpResponse<String> get() throws Exception {
    InetSocketAddress address = endpoint.address();
    return HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + address.getPort() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private String scrape() throws Exception {
    HttpResponse<String> response = get();
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(type -> assertThat(type).startsWith("text/plain"));
    return response.body();
  }

  @Test
  void agentsUplinksNetworkInstancesAclsAndFlowLogsBecomeSeries() throws Exception {
    bus.publish(AgentTopics.metrics("nim"), Durability.VOLATILE).publish("nim", AgentMetrics.newBuilder()
        .setAgent("nim").setReconcileRuns(7).setTotalReconcileMs(1500).setLastReconcileMs(20).setFailedItems(1)
        .addOperations(OperationCount.newBuilder().setItemType("Link").setOperation("CREATE").setResult("SUCCEEDED").setCount(3))
        .build());
    bus.publish(AgentTopics.health("nim"), Durability.VOLATILE).publish("nim",
        AgentHealth.newBuilder().setAgent("nim").setState(AgentHealth.State.STATE_DEGRADED).build());
    bus.publish(NimTopics.DEVICE_NETWORK_STATUS, Durability.VOLATILE).publish("global", DeviceNetworkStatus.newBuilder()
        .setCurrentUplink("eth1")
        .addPorts(PortStatus.newBuilder().setLabel("eth0").setIfName("eth0").setUp(false))
        .addPorts(PortStatus.newBuilder().setLabel("eth1").setIfName("eth1").setUp(true))
        .build());
    Publication<NetworkInstanceStatus> nis = bus.publish(ZedrouterTopics.NETWORK_INSTANCE_STATUS, Durability.VOLATILE);
    nis.publish("ni-1", NetworkInstanceStatus.newBuilder().setId(UuidAndVersion.newBuilder().setUuid("ni-1"))
        .setDisplayName("apps").setState(NetworkInstanceStatus.State.STATE_ONLINE).build());
    bus.publish(ZedrouterTopics.METRICS, Durability.VOLATILE).publish("zedrouter", MetricsMessage.newBuilder()
        .addNetworkInstances(NetworkInstanceMetrics.newBuilder().setNetworkUuid("ni-1").addInterfaces(
            InterfaceMetrics.newBuilder().setIfName("nbu1x1").setAclDrops(5)
                .addAces(AceMetrics.newBuilder().setAceId(2).setName("web").setPackets(42).setBytes(4200))))
        .build());
    Publication<FlowBatch> flows = bus.publish(ZedrouterTopics.FLOW_LOGS, Durability.VOLATILE);
    flows.publish("b1", FlowBatch.newBuilder().addFlows(FlowRecord.getDefaultInstance()).addFlows(FlowRecord.getDefaultInstance()).build());

    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      String text = scrape();
      assertThat(text)
          .contains("verge_reconcile_runs_total{agent=\"nim\"} 7.0")
          .contains("verge_reconcile_duration_seconds_total{agent=\"nim\"} 1.5")
          .contains("verge_reconcile_operations_total{agent=\"nim\",item_type=\"Link\",operation=\"create\",result=\"succeeded\"} 3.0")
          .contains("verge_items_failed{agent=\"nim\"} 1.0")
          .contains("verge_agent_health{agent=\"nim\",state=\"degraded\"} 1.0")
          .contains("verge_agent_health{agent=\"nim\",state=\"running\"} 0.0")
          .contains("verge_port_in_use{if_name=\"eth1\",port=\"eth1\"} 1.0")
          .contains("verge_port_in_use{if_name=\"eth0\",port=\"eth0\"} 0.0")
          .contains("verge_ni_state{ni=\"apps\",state=\"online\",uuid=\"ni-1\"} 1.0")
          .contains("verge_acl_matches_total{ace=\"2\",if_name=\"nbu1x1\",name=\"web\",ni=\"ni-1\"} 42.0")
          .contains("verge_acl_drops_total{if_name=\"nbu1x1\",ni=\"ni-1\"} 5.0")
          .contains("verge_flowlog_flows_total 2.0")
          .contains("verge_bus_published_total")
          .contains("jvm_memory_used_bytes");
    });

    // An NI that is deleted leaves the exposition: nobody should alert on the state of the dead.
    nis.unpublish("ni-1");
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(scrape()).doesNotContain("verge_ni_state{"));
  }

  @Test
  void onlyGetIsServed() throws Exception {
    InetSocketAddress address = endpoint.address();
    HttpResponse<String> response = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + address.getPort() + "/metrics"))
            .POST(HttpRequest.BodyPublishers.ofString("x")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(405);
  }
}
