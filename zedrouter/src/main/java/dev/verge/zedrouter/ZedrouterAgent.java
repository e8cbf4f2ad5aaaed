package dev.verge.zedrouter;

import dev.verge.agent.Agent;
import dev.verge.agent.AgentContext;
import dev.verge.agent.Input;
import dev.verge.agent.ReconcileOutcome;
import dev.verge.hostos.IpPrefix;
import dev.verge.hostos.Link;
import dev.verge.proto.common.v1.EntityType;
import dev.verge.proto.common.v1.ErrorInfo;
import dev.verge.proto.common.v1.UuidAndVersion;
import dev.verge.proto.config.v1.AppInstanceConfig;
import dev.verge.proto.config.v1.NetworkInstanceConfig;
import dev.verge.proto.info.v1.AppNetworkStatus;
import dev.verge.proto.info.v1.AppVifStatus;
import dev.verge.proto.info.v1.IpAssignment;
import dev.verge.proto.info.v1.IpRoute;
import dev.verge.proto.info.v1.NetworkInstanceStatus;
import dev.verge.proto.info.v1.VifInfo;
import dev.verge.pubsub.Durability;
import dev.verge.pubsub.Publication;
import dev.verge.reconciler.GraphR;
import dev.verge.reconciler.ItemRef;
import dev.verge.topics.NimTopics;
import dev.verge.topics.ZedagentTopics;
import dev.verge.topics.ZedrouterTopics;
import dev.verge.topics.v1.AppVifPlan;
import dev.verge.topics.v1.DeviceNetwork;
import dev.verge.topics.v1.NiUplink;
import dev.verge.topics.v1.PlannedVif;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * zedrouter: the apps' networks. Reads NI and app configs (zedagent) and the device's ports (nim),
 * validates them, runs the NIs it accepts (keeping the last good one when a change is refused),
 * plans each app's VIFs, and publishes NI status, app network status, VIF plans for domainmgr and
 * each NI's uplink.
 */
public final class ZedrouterAgent implements Agent {
  public static final String NAME = ZedrouterTopics.AGENT;
  private static final Logger log = LoggerFactory.getLogger(ZedrouterAgent.class);

  private final String nodeId;
  private final Allocators allocators;

  private AgentContext context;
  private Input<NetworkInstanceConfig> niConfigs;
  private Input<AppInstanceConfig> appConfigs;
  private Input<DeviceNetwork> deviceNetwork;
  private Publication<NetworkInstanceStatus> niStatus;
  private Publication<AppNetworkStatus> appStatus;
  private Publication<AppVifPlan> vifPlans;
  private Publication<NiUplink> niUplinks;

  /** NIs that run, by UUID: the last accepted spec of each, uplink re-chosen on every build. */
  private final Map<String, NiSpec> running = new TreeMap<>();
  private final Map<String, List<NiError>> niErrors = new TreeMap<>();
  private final Map<String, AppPlanner.AppPlan> appPlans = new TreeMap<>();
  private final Map<String, List<NiError>> appErrors = new TreeMap<>();
  private NiGraph.Built built;
  private volatile Set<String> externalLinks = Set.of();
  /** What the metadata servers answer; replaced whole on every build. */
  private final java.util.concurrent.atomic.AtomicReference<Metadata> metadata =
      new java.util.concurrent.atomic.AtomicReference<>(Metadata.EMPTY);
  private MetadataServers metadataServers;
  /** EVE uploads flow logs every 2 minutes; a batch a minute keeps them fresher at little cost. */
  public static final java.time.Duration FLOW_LOG_INTERVAL = java.time.Duration.ofSeconds(60);
  private final java.time.Duration flowLogInterval;
  private FlowLog flowLog;
  private final DnsQueryLog dnsLog = new DnsQueryLog();
  private dev.verge.hostos.NetEvents.Subscription flowEvents;
  /** The apps' VIFs by address, for the flow log (the loop's only). */
  private Map<String, VifPlan> vifsByIp = Map.of();
  /** How often the NIs' and VIFs' counters are read and published. */
  public static final java.time.Duration METRICS_INTERVAL = java.time.Duration.ofSeconds(10);
  private Publication<dev.verge.proto.metrics.v1.MetricsMessage> metrics;
  private List<VifPlan> plannedVifs = List.of();
  /** How often the tunnels' counters are read (their state follows charon's events at once). */
  public static final java.time.Duration VPN_REFRESH_INTERVAL = java.time.Duration.ofSeconds(2);
  private VpnTunnels vpnTunnels;
  private ReconcileOutcome lastOutcome;
  private final UplinkProber.Timers probeTimers;
  private final java.util.function.Function<dev.verge.hostos.Host, UplinkProbe> probeFactory;
  private UplinkProber prober;
  private UplinkProbe uplinkProbe;
  /** Each NI's uplink at the last reconcile: a change flushes the NI's flows (their NAT is the old port's). */
  private final Map<String, String> reconciledUplinks = new HashMap<>();
  /** The agent's own repeating timers: cancelled at stop, before the runtime closes the outputs they publish on. */
  private final List<java.util.concurrent.Future<?>> timers = new java.util.ArrayList<>();

  /**
   * @param nodeId what makes this device's bridge MACs its own (EVE hashes the device UUID)
   * @param stateDir where the allocators persist
   */
  public ZedrouterAgent(String nodeId, Path stateDir) {
    this(nodeId, stateDir, FLOW_LOG_INTERVAL);
  }

  /** @param flowLogInterval how often the flow log publishes what it gathered */
  public ZedrouterAgent(String nodeId, Path stateDir, java.time.Duration flowLogInterval) {
    this(nodeId, stateDir, flowLogInterval, UplinkProber.Timers.DEFAULT, ZedrouterAgent::defaultProbe);
  }

  /**
   * @param probeTimers how NIs with several candidate ports probe them
   * @param probeFactory the probe for the agent's host (tests script one)
   */
  public ZedrouterAgent(String nodeId, Path stateDir, java.time.Duration flowLogInterval,
      UplinkProber.Timers probeTimers, java.util.function.Function<dev.verge.hostos.Host, UplinkProbe> probeFactory) {
    this.probeTimers = probeTimers;
    this.probeFactory = probeFactory;
    this.nodeId = nodeId;
    this.allocators = new Allocators(stateDir.resolve("zedrouter"));
    this.flowLogInterval = flowLogInterval;
  }

  /**
   * Gateway pings through the host's pinger (the sim models which gateways answer); the remote TCP
   * probe on Linux only: the sim has no sockets, so there it passes every port nim reports usable.
   */
  static UplinkProbe defaultProbe(dev.verge.hostos.Host host) {
    return host instanceof dev.verge.hostos.sim.SimHost
        ? new PingUplinkProbe(host, UplinkProbe.localChecksOnly(), Runnable::run)
        : new PingUplinkProbe(host, new TcpUplinkProbe(host), PingUplinkProbe.pingThreads());
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void start(AgentContext context) {
    this.context = context;
    niConfigs = context.input(ZedagentTopics.NETWORK_INSTANCES);
    appConfigs = context.input(ZedagentTopics.APPS);
    deviceNetwork = context.input(NimTopics.DEVICE_NETWORK);
    niStatus = context.output(ZedrouterTopics.NETWORK_INSTANCE_STATUS, Durability.VOLATILE);
    appStatus = context.output(ZedrouterTopics.APP_NETWORK_STATUS, Durability.VOLATILE);
    vifPlans = context.output(ZedrouterTopics.APP_VIF_PLAN, Durability.VOLATILE);
    niUplinks = context.output(ZedrouterTopics.NI_UPLINK, Durability.VOLATILE);
    metadataServers = context.host() instanceof dev.verge.hostos.sim.SimHost
        ? MetadataServers.recordedOnly(context.host(), metadata)
        : MetadataServers.listening(context.host(), metadata);
    boolean sim = context.host() instanceof dev.verge.hostos.sim.SimHost;
    vpnTunnels = sim ? new SimVpnTunnels()
        : new ViciVpnTunnels(context.host().daemons(), context.loop(), this::vpnChanged);
    Configurators.register(context, metadataServers, vpnTunnels, this::onDnsmasqOutput);
    timers.add(context.loop().every(VPN_REFRESH_INTERVAL, vpnTunnels::refresh));
    flowLog = new FlowLog(context.output(ZedrouterTopics.FLOW_LOGS, Durability.VOLATILE));
    flowEvents = context.host().conntrack().subscribe(event -> context.loop().execute(
        () -> flowLog.onEvent(event, vifsByIp, context.loop().now().toEpochMilli())));
    timers.add(context.loop().every(flowLogInterval, () -> {
      logDns(dnsLog.drain());
      flowLog.flush();
    }));
    metrics = context.output(ZedrouterTopics.METRICS, Durability.VOLATILE);
    timers.add(context.loop().every(METRICS_INTERVAL, this::publishMetrics));
    prober = new UplinkProber(probeTimers);
    uplinkProbe = probeFactory.apply(context.host());
    timers.add(context.loop().every(probeTimers.interval(), this::probeUplinks));
    // ports come and go under nim, taps under domainmgr: their presence changes what can be built
    context.watchLinks(link -> externalLinks.contains(link.name()));
    // the NI bridges (bn<N>) an earlier run left
    context.ownLinks(link -> link.name().matches("bn\\d+"));
  }

  @Override
  public GraphR intendedState() {
    DeviceNetwork ports = deviceNetwork.get("global").orElse(DeviceNetwork.getDefaultInstance());
    Map<String, NetworkInstanceConfig> configs = niConfigs.all();
    Map<String, NiValidator.Verdict> verdicts = NiValidator.validate(configs, ports, running.keySet());

    niErrors.clear();
    Map<String, AppPlanner.NetworkAdapterRefusal> refused = new HashMap<>();
    running.keySet().removeIf(uuid -> !verdicts.containsKey(uuid)); // deleted or deactivated
    verdicts.forEach((uuid, verdict) -> {
      if (verdict.accepted().isPresent()) {
        NiValidator.Accepted accepted = verdict.accepted().get();
        running.put(uuid, probed(accepted.toSpec(allocators.bridgeNumber(uuid)), configs.get(uuid)));
      } else {
        niErrors.put(uuid, verdict.errors());
        refused.put(uuid, new AppPlanner.NetworkAdapterRefusal(verdict.errors().get(0).description()));
        NiSpec lastGood = running.get(uuid);
        if (lastGood != null) {
          log.warn("network instance {} refused, last good config kept: {}", uuid, verdict.errors());
          running.put(uuid, probed(lastGood.withUplink(UplinkSelector.choose(lastGood.uplink().label(), ports,
              lastGood.isRouted())), configs.get(uuid)));
          refused.remove(uuid);
        } else {
          log.warn("network instance {} refused: {}", uuid, verdict.errors());
        }
      }
    });

    prober.retain(running.keySet());

    Map<String, AppPlanner.AppPlan> plans = AppPlanner.plan(appConfigs.all(), running, refused, allocators);
    appErrors.clear();
    appPlans.keySet().removeIf(uuid -> !plans.containsKey(uuid));
    plans.forEach((uuid, plan) -> {
      if (plan.ok()) {
        appPlans.put(uuid, plan);
      } else {
        appErrors.put(uuid, plan.errors());
        AppPlanner.AppPlan lastGood = appPlans.get(uuid);
        if (lastGood != null) {
          // keep the last good VIFs, but only on NIs that still run
          appPlans.put(uuid, new AppPlanner.AppPlan(uuid, lastGood.appName(), lastGood.vifs().stream()
              .filter(v -> running.containsKey(v.niUuid()) && running.get(v.niUuid()).bridge().equals(v.bridge()))
              .toList(), List.of()));
        }
      }
    });

    Map<String, Set<String>> vifKeys = new HashMap<>();
    appPlans.values().forEach(p -> p.vifs().forEach(v ->
        vifKeys.computeIfAbsent(v.niUuid(), n -> new TreeSet<>()).add(v.appUuid() + "/" + v.adapterNumber())));
    allocators.retain(running.keySet(), appConfigs.all().keySet(), vifKeys);

    List<VifPlan> vifs = appPlans.values().stream().flatMap(p -> p.vifs().stream()).toList();
    built = NiGraph.build(nodeId, List.copyOf(running.values()), vifs);
    metadata.set(metadataFor(vifs));
    Map<String, VifPlan> byIp = new HashMap<>();
    // the flow and DNS logs know only the VIFs of NIs that log (EVE's per-NI switch)
    vifs.stream().filter(v -> !configs.getOrDefault(v.niUuid(), NetworkInstanceConfig.getDefaultInstance())
        .getDisableFlowlog()).forEach(v -> v.ip().ifPresent(ip -> byIp.put(ip.getHostAddress(), v)));
    vifsByIp = Map.copyOf(byIp);
    plannedVifs = vifs;
    externalLinks = built.externalLinks();
    return built.graph();
  }

  /** A local or VPN NI's uplink as its probes see it (a switch NI bridges its one port, nothing to choose). */
  private NiSpec probed(NiSpec spec, NetworkInstanceConfig config) {
    if (!spec.isRouted()) {
      return spec;
    }
    UplinkChoice choice = prober.choose(spec.uuid(), spec.uplink(), UplinkProber.ProbePlan.of(config), true,
        context.loop().now());
    if (!choice.port().equals(spec.uplink().port()) || !choice.reason().equals(spec.uplink().reason())) {
      NiSpec before = running.get(spec.uuid());
      if (before == null || !before.uplink().port().equals(choice.port())) {
        log.info("network instance {}: uplink {}: {}", spec.uuid(), choice.port().map(p -> p.getLabel()).orElse("none"),
            choice.reason());
      }
    }
    return spec.withUplink(choice);
  }

  /** Sends every due probe; answers come back on the loop. */
  private void probeUplinks() {
    for (UplinkProber.Probe probe : prober.due()) {
      uplinkProbe.probe(probe.target(), result -> context.loop().execute(() -> {
        boolean changed = prober.record(probe.ni(), probe.target().label(), probe.target().method(), result,
            context.loop().now());
        if (!result.ok()) {
          log.debug("network instance {}: {} probe of {} failed: {}", probe.ni(), probe.target().method(),
              probe.target().label(), result.error());
        }
        if (changed || prober.wantsChange(probe.ni(), true, context.loop().now())) {
          context.requestReconcile(probe.target().method() + " probe of " + probe.target().label()
              + (result.ok() ? " answered" : " failed"));
        }
      }));
    }
  }

  /** After an NI changed its uplink: its flows were masqueraded to the old port's address; start them afresh. */
  private void flushFlowsOfChangedUplinks() {
    for (NiSpec ni : running.values()) {
      String now = ni.uplink().ifName().orElse("");
      String before = reconciledUplinks.put(ni.uuid(), now);
      if (before != null && !before.isEmpty() && !before.equals(now) && ni.ip().isPresent()) {
        log.info("network instance {}: uplink {} -> {}, flushing its flows", ni.uuid(), before, now.isEmpty() ? "none" : now);
        context.host().conntrack().delete(dev.verge.hostos.FlowFilter.fromSource(ni.ip().get().subnet()));
      }
    }
    reconciledUplinks.keySet().retainAll(running.keySet());
  }

  private void onDnsmasqOutput(String bridge, String line) {
    logDns(dnsLog.onLine(bridge, line, context.loop().now().toEpochMilli()));
  }

  /** Each request goes to its app's VIF batch, unless its NI turned the flow log off. */
  private void logDns(List<DnsQueryLog.Request> requests) {
    for (DnsQueryLog.Request request : requests) {
      VifPlan vif = vifsByIp.get(request.clientIp());
      NetworkInstanceConfig ni = vif == null ? null : niConfigs.all().get(vif.niUuid());
      if (vif != null && ni != null && !ni.getDisableFlowlog()) {
        flowLog.dnsRequest(vif, request.request());
      }
    }
  }

  /** The probe state of an NI's ports (for tests and status). */
  public Map<String, UplinkProber.PortHealth> uplinkHealth(String ni) {
    return prober.health(ni);
  }

  @Override
  public List<Items.ExternalLink> externalItems() {
    // every link but zedrouter's own bridges: the runtime asks before the first intent is built
    return context.kernel().links().stream().map(Link::name).filter(n -> !n.matches("bn\\d+"))
        .map(Items.ExternalLink::new).toList();
  }

  @Override
  public void reconciled(ReconcileOutcome outcome) {
    if (built == null) {
      return; // the intent was never built (every build threw): nothing to report yet
    }
    lastOutcome = outcome;
    long now = context.loop().now().toEpochMilli();
    flushFlowsOfChangedUplinks();
    Map<String, NetworkInstanceConfig> configs = niConfigs.all();
    Set<String> reported = new TreeSet<>();
    for (Map.Entry<String, NetworkInstanceConfig> entry : configs.entrySet()) {
      String uuid = entry.getKey();
      reported.add(uuid);
      niStatus.publish(uuid, niStatus(uuid, entry.getValue(), outcome, now));
      NiSpec spec = running.get(uuid);
      if (spec != null) {
        niUplinks.publish(uuid, NiUplink.newBuilder().setNetworkInstance(uuid)
            .setPortLabel(spec.uplink().port().map(p -> p.getLabel()).orElse(""))
            .setIfName(spec.uplink().ifName().orElse(""))
            .setReason(spec.uplink().reason()).build());
      }
    }
    unpublishOthers(niStatus, reported);
    unpublishOthers(niUplinks, running.keySet());

    Set<String> apps = new TreeSet<>();
    appConfigs.all().forEach((uuid, app) -> {
      apps.add(uuid);
      AppPlanner.AppPlan plan = appPlans.get(uuid);
      List<VifPlan> vifs = plan == null ? List.of() : plan.vifs();
      AppNetworkStatus.Builder status = AppNetworkStatus.newBuilder().setId(app.getId())
          .setDisplayName(app.getDisplayName());
      vifs.forEach(v -> status.addVifs(AppVifStatus.newBuilder().setName(v.adapterName()).setVifName(v.vifName())
          .setNetworkUuid(v.niUuid()).setMac(v.mac().toString())
          .addAllIpAddrs(v.ip().map(ip -> List.of(ip.getHostAddress())).orElse(List.of()))
          .setAccessVlanId(v.vlan().filter(vlan -> vlan instanceof SwitchVlan.Access)
              .map(vlan -> ((SwitchVlan.Access) vlan).vid()).orElse(0))));
      appErrors.getOrDefault(uuid, List.of()).forEach(e -> status.addErrors(e.toErrorInfo(EntityType.ENTITY_TYPE_APP, uuid, now)));
      appStatus.publish(uuid, status.build());
      if (plan != null) {
        AppVifPlan.Builder vifPlan = AppVifPlan.newBuilder().setAppUuid(uuid);
        vifs.forEach(v -> vifPlan.addVifs(PlannedVif.newBuilder().setVifName(v.vifName()).setNetworkInstance(v.niUuid())
            .setKind(PlannedVif.Kind.KIND_TAP).setMac(v.mac().toString())
            .setIpAddress(v.ip().map(java.net.InetAddress::getHostAddress).orElse(""))
            .setBridge(v.bridge()).setMtu(v.mtu())));
        vifPlans.publish(uuid, vifPlan.build());
      }
    });
    unpublishOthers(appStatus, apps);
    unpublishOthers(vifPlans, appPlans.keySet());
  }

  /** A tunnel's state changed (loop): its NI's status is published again at once. */
  private void vpnChanged(String uuid) {
    NetworkInstanceConfig config = niConfigs.all().get(uuid);
    if (config != null && lastOutcome != null && built != null) {
      niStatus.publish(uuid, niStatus(uuid, config, lastOutcome, context.loop().now().toEpochMilli()));
    }
  }

  private NetworkInstanceStatus niStatus(String uuid, NetworkInstanceConfig config, ReconcileOutcome outcome, long now) {
    NetworkInstanceStatus.Builder status = NetworkInstanceStatus.newBuilder()
        .setId(config.getId().toBuilder().build())
        .setDisplayName(config.getDisplayName())
        .setType(switch (config.getType()) {
          case TYPE_LOCAL -> "local";
          case TYPE_SWITCH -> "switch";
          case TYPE_VPN -> "vpn";
          default -> "unspecified";
        });
    List<ErrorInfo> errors = new ArrayList<>();
    niErrors.getOrDefault(uuid, List.of())
        .forEach(e -> errors.add(e.toErrorInfo(EntityType.ENTITY_TYPE_NETWORK_INSTANCE, uuid, now)));
    NiSpec spec = running.get(uuid);
    boolean online = false;
    if (spec != null) {
      List<ItemRef> refs = built.itemsByNi().getOrDefault(uuid, List.of());
      online = !refs.isEmpty();
      for (ItemRef ref : refs) {
        String failure = outcome.failedItems().get(ref);
        if (failure != null) {
          errors.add(new NiError("KERNEL_REFUSED", "", ref + ": " + failure)
              .toErrorInfo(EntityType.ENTITY_TYPE_NETWORK_INSTANCE, uuid, now));
        }
        // created, not still being created in the background (dnsmasq coming up)
        online &= failure == null && outcome.current().item(ref)
            .map(e -> e.stateOrCreated().isCreated()).orElse(false);
      }
      status.setActivated(true)
          .addAllPorts(spec.uplink().candidates().stream().map(p -> p.getLabel()).toList())
          .setSelectedPort(spec.uplink().port().map(p -> p.getLabel()).orElse(""))
          .setSelectedPortReason(spec.uplink().reason())
          .setBridgeName(spec.bridge())
          .setMtu(spec.mtu());
      spec.ip().ifPresent(ip -> {
        status.setBridgeIp(ip.gateway().getHostAddress());
        status.addRoutes(IpRoute.newBuilder().setDestination(ip.subnet().toString()).setPort(spec.bridge()));
        spec.uplink().port().ifPresent(port -> port.getGatewaysList().stream().findFirst().ifPresent(gw ->
            status.addRoutes(IpRoute.newBuilder().setDestination("0.0.0.0/0").setGateway(gw).setPort(port.getLabel()))));
      });
      vpnTunnels.state(uuid).ifPresent(vpn -> status.setVpn(vpn.toProto()).setVpnState(vpn.state().name()));
      if (spec.kind() == NiSpec.Kind.VPN && vpnTunnels.state(uuid).isEmpty()) {
        status.setVpnState(NiGraph.uplinkAddress(spec).isPresent() ? "CONNECTING" : "NO_UPLINK_ADDRESS");
      }
      appPlans.values().stream().flatMap(p -> p.vifs().stream()).filter(v -> v.niUuid().equals(uuid)).forEach(v -> {
        status.addVifs(VifInfo.newBuilder().setVifName(v.vifName()).setMac(v.mac().toString()).setAppUuid(v.appUuid()));
        v.ip().ifPresent(ip -> status.addIpAssignments(IpAssignment.newBuilder().setMac(v.mac().toString())
            .addIpAddrs(ip.getHostAddress())));
      });
    }
    status.addAllErrors(errors);
    status.setState(!errors.isEmpty() ? NetworkInstanceStatus.State.STATE_ERROR
        : online ? NetworkInstanceStatus.State.STATE_ONLINE : NetworkInstanceStatus.State.STATE_INIT);
    return status.build();
  }

  private static <T extends com.google.protobuf.Message> void unpublishOthers(Publication<T> publication, Set<String> keep) {
    for (String key : List.copyOf(publication.snapshot().keySet())) {
      if (!keep.contains(key)) {
        publication.unpublish(key);
      }
    }
  }

  /** Per local NI: its uplink's IPv4 and its apps (with their user data) by VIF address. */
  private Metadata metadataFor(List<VifPlan> vifs) {
    Map<String, Metadata.Ni> byBridge = new HashMap<>();
    Map<String, AppInstanceConfig> configs = appConfigs.all();
    for (NiSpec ni : running.values()) {
      if (!ni.isRouted()) {
        continue;
      }
      Optional<String> external = ni.uplink().port().flatMap(port -> port.getAddressesList().stream()
          .map(IpPrefix::parse).filter(IpPrefix::isIpv4).map(p -> p.address().getHostAddress()).findFirst());
      Map<String, Metadata.App> apps = new HashMap<>();
      vifs.stream().filter(v -> v.niUuid().equals(ni.uuid())).forEach(v -> v.ip().ifPresent(ip -> {
        AppPlanner.AppPlan plan = appPlans.get(v.appUuid());
        String userData = Optional.ofNullable(configs.get(v.appUuid())).map(AppInstanceConfig::getUserData).orElse("");
        apps.put(ip.getHostAddress(), new Metadata.App(v.appUuid(), plan == null ? "" : plan.appName(), userData));
      }));
      byBridge.put(ni.bridge(), new Metadata.Ni(external, Map.copyOf(apps)));
    }
    return new Metadata(Map.copyOf(byBridge));
  }

  private void publishMetrics() {
    metrics.publish(NAME, ZedrouterMetrics.read(context.host(), running.values(), plannedVifs, prober::health,
        context.loop().now().toEpochMilli()));
  }

  @Override
  public void stop() {
    timers.forEach(timer -> timer.cancel(false));
    timers.clear();
    if (flowEvents != null) {
      flowEvents.close();
    }
    if (metadataServers != null) {
      metadataServers.close();
    }
    if (uplinkProbe instanceof AutoCloseable closeable) {
      try {
        closeable.close();
      } catch (Exception e) {
        log.warn("zedrouter: closing the uplink probe failed", e);
      }
    }
    if (vpnTunnels != null) {
      vpnTunnels.close();
    }
  }

  /** The VPN tunnels' states by NI UUID (for tests and the bench; loop only). */
  Map<String, VpnState> vpnStates() {
    return vpnTunnels.states();
  }

  /** The NIs running now (for tests and the bench). */
  public Map<String, NiSpec> running() {
    return Map.copyOf(running);
  }
}
