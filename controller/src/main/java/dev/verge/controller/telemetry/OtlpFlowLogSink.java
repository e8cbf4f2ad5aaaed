package dev.verge.controller.telemetry;

import dev.verge.proto.flowlog.v1.DnsRequest;
import dev.verge.proto.flowlog.v1.FlowBatch;
import dev.verge.proto.flowlog.v1.FlowRecord;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.logs.Logger;
import io.opentelemetry.context.Context;
import io.opentelemetry.exporter.otlp.http.logs.OtlpHttpLogRecordExporter;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.logs.LogRecordProcessor;
import io.opentelemetry.sdk.logs.ReadWriteLogRecord;
import io.opentelemetry.sdk.logs.SdkLoggerProvider;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.logs.export.LogRecordExporter;
import io.opentelemetry.sdk.resources.Resource;
import java.net.URI;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.LoggerFactory;

/**
 * Flow logs as OpenTelemetry log records, pushed to a collector over OTLP/HTTP (the SDK's OTLP log
 * exporter): one record per flow (event {@code verge.flow}) and per DNS request ({@code verge.dns}),
 * the flow's 5-tuple under the semantic conventions' names. Records collect in memory and leave in
 * batches every second. A batch the collector does not take stays for the next second, so a
 * collector that is away for a while loses nothing; only past {@code maxPending} records are the
 * oldest dropped, and the drop is counted and logged, never silent.
 *
 * <p>Not the SDK's batch processor: it drops on a full queue without telling the caller, and a
 * failed export is not retried.
 */
public final class OtlpFlowLogSink implements FlowLogSink {
  private static final org.slf4j.Logger LOG = LoggerFactory.getLogger(OtlpFlowLogSink.class);
  private static final int BATCH = 2_000;
  static final AttributeKey<String> DEVICE = AttributeKey.stringKey("verge.device.id");
  static final AttributeKey<String> APP = AttributeKey.stringKey("verge.app.id");
  static final AttributeKey<String> NETWORK = AttributeKey.stringKey("verge.network.id");
  static final AttributeKey<String> VIF = AttributeKey.stringKey("verge.vif");
  static final AttributeKey<String> ACTION = AttributeKey.stringKey("verge.flow.action");
  static final AttributeKey<Long> ACL_ID = AttributeKey.longKey("verge.acl.id");
  static final AttributeKey<String> ACL_NAME = AttributeKey.stringKey("verge.acl.name");
  static final AttributeKey<Boolean> INBOUND = AttributeKey.booleanKey("verge.flow.inbound");
  static final AttributeKey<String> SOURCE = AttributeKey.stringKey("source.address");
  static final AttributeKey<Long> SOURCE_PORT = AttributeKey.longKey("source.port");
  static final AttributeKey<String> DESTINATION = AttributeKey.stringKey("destination.address");
  static final AttributeKey<Long> DESTINATION_PORT = AttributeKey.longKey("destination.port");
  static final AttributeKey<Long> PROTOCOL = AttributeKey.longKey("network.protocol.number");
  static final AttributeKey<Long> TX_BYTES = AttributeKey.longKey("verge.flow.tx_bytes");
  static final AttributeKey<Long> RX_BYTES = AttributeKey.longKey("verge.flow.rx_bytes");
  static final AttributeKey<Long> TX_PACKETS = AttributeKey.longKey("verge.flow.tx_packets");
  static final AttributeKey<Long> RX_PACKETS = AttributeKey.longKey("verge.flow.rx_packets");
  static final AttributeKey<Long> END_MS = AttributeKey.longKey("verge.flow.end_time_ms");
  static final AttributeKey<String> DNS_NAME = AttributeKey.stringKey("dns.question.name");
  static final AttributeKey<List<String>> DNS_ANSWERS = AttributeKey.stringArrayKey("dns.answers");

  private final LogRecordExporter exporter;
  private final SdkLoggerProvider provider;
  private final Logger logger;
  private final int maxPending;
  private final ArrayDeque<LogRecordData> pending = new ArrayDeque<>();
  private final ScheduledExecutorService sender;
  private long dropped;

  /** endpoint: the collector's logs URL ({@code .../v1/logs}); replica: this controller's id. */
  public OtlpFlowLogSink(URI endpoint, String replica, int maxPending) {
    // no retries inside the exporter: a failed batch is kept and sent again by this sink, and an export
    // that ended after we stopped waiting would be sent twice
    this.exporter = OtlpHttpLogRecordExporter.builder().setEndpoint(endpoint.toString())
        .setTimeout(java.time.Duration.ofSeconds(5)).setRetryPolicy(null).build();
    this.maxPending = maxPending;
    this.provider = SdkLoggerProvider.builder()
        .setResource(Resource.getDefault().merge(Resource.create(Attributes.of(
            AttributeKey.stringKey("service.name"), "verge-controller",
            AttributeKey.stringKey("service.instance.id"), replica))))
        .addLogRecordProcessor(new Collect())
        .build();
    this.logger = provider.get("dev.verge.controller.flowlogs");
    this.sender = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread thread = new Thread(r, "flowlog-otlp");
      thread.setDaemon(true);
      return thread;
    });
    sender.scheduleWithFixedDelay(this::flushQuietly, 1, 1, TimeUnit.SECONDS);
    LOG.info("flow logs go over OTLP to {}", endpoint);
  }

  @Override
  public void accept(String device, List<FlowBatch> batches) {
    for (FlowBatch batch : batches) {
      AttributesBuilder scope = Attributes.builder().put(DEVICE, device)
          .put(APP, batch.getScope().getAppUuid()).put(NETWORK, batch.getScope().getNetworkUuid())
          .put(VIF, batch.getScope().getVifName());
      for (FlowRecord flow : batch.getFlowsList()) {
        Attributes attributes = scope.build().toBuilder()
            .put(ACTION, flow.getAction().name().replace("ACTION_", ""))
            .put(ACL_ID, flow.getAclId()).put(ACL_NAME, flow.getAclName()).put(INBOUND, flow.getInbound())
            .put(SOURCE, flow.getFlow().getSrc()).put(SOURCE_PORT, flow.getFlow().getSrcPort())
            .put(DESTINATION, flow.getFlow().getDest()).put(DESTINATION_PORT, flow.getFlow().getDestPort())
            .put(PROTOCOL, flow.getFlow().getProtocol())
            .put(TX_BYTES, flow.getTxBytes()).put(RX_BYTES, flow.getRxBytes())
            .put(TX_PACKETS, flow.getTxPackets()).put(RX_PACKETS, flow.getRxPackets())
            .put(END_MS, flow.getEndTimeMs()).build();
        logger.logRecordBuilder().setEventName("verge.flow").setTimestamp(flow.getStartTimeMs(), TimeUnit.MILLISECONDS)
            .setBody(flow.getFlow().getSrc() + ":" + flow.getFlow().getSrcPort() + " -> " + flow.getFlow().getDest() + ":"
                + flow.getFlow().getDestPort() + " " + attributes.get(ACTION))
            .setAllAttributes(attributes).emit();
      }
      for (DnsRequest dns : batch.getDnsRequestsList()) {
        logger.logRecordBuilder().setEventName("verge.dns").setTimestamp(dns.getRequestTimeMs(), TimeUnit.MILLISECONDS)
            .setBody(dns.getHostName()).setAllAttributes(scope.build().toBuilder().put(DNS_NAME, dns.getHostName())
                .put(DNS_ANSWERS, dns.getAddrsList()).put(ACL_ID, dns.getAclId()).build())
            .emit();
      }
    }
  }

  /** Sends what is pending, in batches; what the collector does not take stays pending. */
  @Override
  public void flush() throws java.io.IOException {
    while (true) {
      List<LogRecordData> batch = new ArrayList<>(BATCH);
      synchronized (pending) {
        while (batch.size() < BATCH && !pending.isEmpty()) {
          batch.add(pending.poll());
        }
      }
      if (batch.isEmpty()) {
        return;
      }
      CompletableResultCode result = exporter.export(batch).join(10, TimeUnit.SECONDS);
      if (!result.isSuccess()) {
        synchronized (pending) {
          for (int i = batch.size() - 1; i >= 0; i--) {
            pending.addFirst(batch.get(i)); // in their order, before what came meanwhile
          }
          trim();
        }
        throw new java.io.IOException("the collector did not take " + batch.size() + " flow records"
            + (result.getFailureThrowable() == null ? "" : ": " + result.getFailureThrowable().getMessage()));
      }
    }
  }

  /** Records waiting for the collector. */
  public int pending() {
    synchronized (pending) {
      return pending.size();
    }
  }

  /** Records dropped because more than maxPending waited. */
  public long dropped() {
    synchronized (pending) {
      return dropped;
    }
  }

  private void trim() {
    long before = dropped;
    while (pending.size() > maxPending) {
      pending.poll();
      dropped++;
    }
    if (dropped > before) {
      LOG.warn("{} flow records dropped ({} in all): more than {} wait for the collector", dropped - before, dropped,
          maxPending);
    }
  }

  private void flushQuietly() {
    try {
      flush();
    } catch (java.io.IOException | RuntimeException e) {
      LOG.warn("flow logs not sent, kept for the next try: {}", e.getMessage());
    }
  }

  @Override
  public void close() throws java.io.IOException {
    sender.shutdownNow();
    try {
      flush();
    } finally {
      provider.shutdown().join(5, TimeUnit.SECONDS);
      exporter.shutdown().join(5, TimeUnit.SECONDS);
    }
  }

  /** The SDK's records, made immutable and kept for the sender. */
  private final class Collect implements LogRecordProcessor {
    @Override
    public void onEmit(Context context, ReadWriteLogRecord record) {
      LogRecordData data = record.toLogRecordData();
      synchronized (pending) {
        pending.add(data);
        trim();
      }
    }
  }
}
