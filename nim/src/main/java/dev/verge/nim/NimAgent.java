package dev.verge.nim;

import dev.verge.agent.Agent;
import dev.verge.agent.AgentContext;
import dev.verge.agent.Input;
import dev.verge.agent.ReconcileOutcome;
import dev.verge.hostos.DhcpEvent;
import dev.verge.hostos.DhcpLease;
import dev.verge.hostos.DhcpOptions;
import dev.verge.hostos.Errno;
import dev.verge.hostos.Host;
import dev.verge.hostos.HostException;
import dev.verge.hostos.IpPrefix;
import dev.verge.hostos.Link;
import dev.verge.hostos.LinkSpec;
import dev.verge.hostos.NetEvent;
import dev.verge.hostos.NetEvents;
import dev.verge.hostos.NetworkStack;
import dev.verge.hostos.RouteRequest;
import dev.verge.hostos.RouteType;
import dev.verge.hostos.Rule;
import dev.verge.nim.PortItems.BondLink;
import dev.verge.nim.PortItems.BondMember;
import dev.verge.nim.PortItems.DhcpClient;
import dev.verge.nim.PortItems.EthernetLink;
import dev.verge.nim.PortItems.Nic;
import dev.verge.nim.PortItems.PortAddress;
import dev.verge.nim.PortItems.PortRoute;
import dev.verge.nim.PortItems.SourceRule;
import dev.verge.nim.PortItems.SysctlSetting;
import dev.verge.nim.PortItems.VlanLink;
import dev.verge.proto.common.v1.ErrorInfo;
import dev.verge.proto.config.v1.ConfigItem;
import dev.verge.proto.config.v1.DeviceConfig;
import dev.verge.proto.config.v1.PhysicalIo;
import dev.verge.proto.info.v1.ConfigListStatus;
import dev.verge.proto.info.v1.DeviceNetworkStatus;
import dev.verge.proto.info.v1.PortConfigStatus;
import dev.verge.proto.info.v1.PortStatus;
import dev.verge.pubsub.Durability;
import dev.verge.pubsub.Publication;
import dev.verge.pubsub.Subscription;
import dev.verge.pubsub.SubscriptionHandler;
import dev.verge.reconciler.Configurator;
import dev.verge.reconciler.GraphR;
import dev.verge.reconciler.Item;
import dev.verge.reconciler.ItemRef;
import dev.verge.reconciler.OpContext;
import dev.verge.reconciler.RecreatedConfigurator;
import dev.verge.topics.NimTopics;
import dev.verge.topics.ZedagentTopics;
import dev.verge.topics.v1.DeviceNetwork;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.BiPredicate;
import java.util.function.Function;
import java.util.function.ToIntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * nim: the device's way to its controller. Reads the port configs (the controller's, from
 * zedagent's topics; the override file; a local override; the last resort), runs the one that
 * works (links, VLANs, bonds, addresses, DHCP clients, per-port routing tables and rules, default
 * routes by cost) and publishes which port reaches the controller, so zedagent re-dials at once
 * when it changes.
 */
public final class NimAgent implements Agent {
  private static final Logger log = LoggerFactory.getLogger(NimAgent.class);
  public static final String NAME = NimTopics.AGENT;
  /** The bus key of nim's reports. */
  public static final String GLOBAL = "global";
  /** Makes the last resort part of the list even when other configs exist (EVE's name). */
  public static final String FALLBACK_ANY_ETH = "network.fallback.any.eth";

  private final NimSettings settings;
  private final Function<AgentContext, ControllerProbe> probeFactory;

  private AgentContext context;
  private Input<PhysicalIo> physicalIo;
  private Input<dev.verge.proto.config.v1.VlanAdapter> vlans;
  private Input<dev.verge.proto.config.v1.BondAdapter> bonds;
  private Input<dev.verge.proto.config.v1.SystemAdapter> systemAdapters;
  private Input<dev.verge.proto.config.v1.NetworkConfig> networks;
  private Input<ConfigItem> configItems;
  private Subscription<DeviceConfig> localOverride;
  private Publication<DeviceNetwork> deviceNetwork;
  private Publication<DeviceNetworkStatus> networkStatus;
  private Publication<ConfigListStatus> configListStatus;
  private Publication<dev.verge.proto.metrics.v1.MetricsMessage> metrics;
  private java.util.concurrent.Future<?> metricsTimer;
  private NetEvents.Subscription netEvents;
  private ControllerProbe probe;
  private Verifier verifier;

  private final Map<String, DhcpLease> leases = new TreeMap<>();
  private final Map<String, String> dhcpErrors = new TreeMap<>();
  private SortedMap<ItemRef, String> failedItems = new TreeMap<>();
  private Optional<PortConfig> overrideFile = Optional.empty();
  private Optional<PortConfig> manualFile = Optional.empty();
  private String fileStamps = "";
  private java.util.concurrent.Future<?> fileScan;
  private PortConfig controllerConfig;
  private long controllerConfigSeenMs;
  private SortedMap<String, String> settingErrors = new TreeMap<>();
  /** The controller config's entry from before a restart, until the first controller config is read. */
  private Optional<PortConfigStatus> restoredControllerPriority = Optional.empty();
  /** What is on disk, so an unchanged list is not written again. */
  private ConfigListStatus persistedList = ConfigListStatus.getDefaultInstance();
  /** The controller's port contents seen, by fingerprint (as offered to the list), for persistence. */
  private final Map<String, DeviceConfig> controllerContents = new HashMap<>();
  /** Set on the loop when the agent stops: late kernel and DHCP events are dropped. */
  private boolean stopped;

  public NimAgent(NimSettings settings, Function<AgentContext, ControllerProbe> probeFactory) {
    this.settings = settings;
    this.probeFactory = probeFactory;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public void start(AgentContext context) {
    this.context = context;
    physicalIo = context.input(ZedagentTopics.PHYSICAL_IO);
    vlans = context.input(ZedagentTopics.VLANS);
    bonds = context.input(ZedagentTopics.BONDS);
    systemAdapters = context.input(ZedagentTopics.SYSTEM_ADAPTERS);
    networks = context.input(ZedagentTopics.NETWORKS);
    configItems = context.input(ZedagentTopics.CONFIG_ITEMS);
    // Published only while zedagent serves the local API: read, never waited for.
    localOverride = context.watch(ZedagentTopics.LOCAL_PORT_OVERRIDE, new SubscriptionHandler<>() {
      @Override
      public void onCreate(String key, DeviceConfig value) {
        context.requestReconcile("local override set");
      }

      @Override
      public void onModify(String key, DeviceConfig oldValue, DeviceConfig newValue) {
        context.requestReconcile("local override changed");
      }

      @Override
      public void onDelete(String key, DeviceConfig lastValue) {
        context.requestReconcile("local override cleared");
      }
    });
    deviceNetwork = context.output(NimTopics.DEVICE_NETWORK, Durability.VOLATILE);
    networkStatus = context.output(NimTopics.DEVICE_NETWORK_STATUS, Durability.VOLATILE);
    configListStatus = context.output(NimTopics.CONFIG_LIST_STATUS, Durability.VOLATILE);
    metrics = context.output(NimTopics.METRICS, Durability.VOLATILE);
    overrideFile = settings.readOverrideFile();
    manualFile = settings.readManualFile();
    fileStamps = fileStamps();
    // A console operator's file may be written while nim runs: looked at every few seconds.
    fileScan = context.loop().every(FILE_SCAN, this::rescanFiles);
    metricsTimer = context.loop().every(METRICS_INTERVAL, this::publishMetrics);
    probe = probeFactory.apply(context);
    verifier = new Verifier(context.loop(), probe, new KernelPorts(), NimTimers.DEFAULT, this::verifierChanged);
    restoreConfigList();
    configureItems(context.host());
    // Carrier and address changes move controller traffic at once: straight from the kernel's events.
    netEvents = context.host().network().subscribe(event -> context.loop().execute(() -> onNetEvent(event)));
    context.watchLinks(l -> LastResort.isEthernet(l) || isOurs(l.name()));
  }

  /** How often the port config files under the state directory are looked at for changes. */
  static final java.time.Duration FILE_SCAN = java.time.Duration.ofSeconds(5);

  private String fileStamps() {
    return NimSettings.fileStamp(settings.overrideFile()) + "|" + NimSettings.fileStamp(settings.manualFile());
  }

  private void rescanFiles() {
    String now = fileStamps();
    if (stopped || now.equals(fileStamps)) {
      return;
    }
    fileStamps = now;
    overrideFile = settings.readOverrideFile();
    manualFile = settings.readManualFile();
    context.requestReconcile("port config files changed");
  }

  private boolean isOurs(String ifName) {
    return verifier != null && verifier.currentConfig().flatMap(c -> c.byIfName(ifName)).isPresent();
  }

  // ---------------------------------------------------------------- the configs

  /** Rebuilds the config list from the inputs; the verifier acts only on what changed. */
  private void refreshConfigs() {
    SortedMap<String, String> errors = new TreeMap<>();
    Map<String, String> items = new HashMap<>();
    configItems.all().values().forEach(i -> items.put(i.getKey(), i.getValue()));
    verifier.setTimers(NimTimers.from(items, errors));
    if (!errors.equals(settingErrors)) {
      errors.values().forEach(e -> log.warn("nim: {}", e));
    }
    settingErrors = errors;

    List<PortConfig> configs = new ArrayList<>();
    if (!systemAdapters.all().isEmpty()) {
      PortConfig read = PortConfigReader.read(PortConfig.CONTROLLER, 0, physicalIo.all().values(), vlans.all().values(),
          bonds.all().values(), systemAdapters.all().values(), networks.all());
      boolean keptPrevious = read.managementPorts().isEmpty() && !read.errors().isEmpty() && controllerConfig != null
          && !controllerConfig.managementPorts().isEmpty();
      if (keptPrevious) {
        // Nothing usable is left of the new config: keep running the last good one, report why.
        read = controllerConfig.withPorts(controllerConfig.ports(), read.errors());
      } else if (controllerConfig == null && restoredControllerPriority.isPresent()
          && restoredControllerPriority.get().getFingerprint().equals(read.fingerprint())) {
        // The same config as before the restart keeps its rank: it did not just arrive.
        controllerConfigSeenMs = restoredControllerPriority.get().getTimePriorityMs();
      } else if (controllerConfig == null || !controllerConfig.sameContent(read)) {
        // Stamped on arrival: a newly arrived controller config outranks the others (as EVE).
        controllerConfigSeenMs = context.loop().now().toEpochMilli();
      }
      restoredControllerPriority = Optional.empty();
      controllerConfig = new PortConfig(PortConfig.CONTROLLER, controllerConfigSeenMs, read.ports(), read.errors());
      PortConfig offered = applyLocalOverride(controllerConfig);
      if (!keptPrevious) {
        // What it was read from: kept so that, once it is an older content behind a newer one, it
        // can be persisted and survive a restart as the fallback.
        controllerContents.putIfAbsent(offered.fingerprint(), DeviceConfig.newBuilder()
            .addAllDeviceIo(physicalIo.all().values()).addAllVlans(vlans.all().values())
            .addAllBonds(bonds.all().values()).addAllSystemAdapters(systemAdapters.all().values())
            .addAllNetworks(networks.all().values()).build());
      }
      configs.add(offered);
    } else {
      controllerConfig = null;
    }
    manualFile.ifPresent(c -> configs.add(applyLocalOverride(c)));
    overrideFile.ifPresent(c -> configs.add(applyLocalOverride(c)));
    if (configs.isEmpty() || "enabled".equalsIgnoreCase(items.getOrDefault(FALLBACK_ANY_ETH, ""))) {
      configs.add(LastResort.of(context.kernel().links(), assignedToApps()));
    }
    verifier.setConfigs(configs);
  }

  private Set<String> assignedToApps() {
    Set<String> assigned = new java.util.HashSet<>();
    physicalIo.all().values().stream()
        .filter(io -> io.getUsage() == PhysicalIo.Usage.USAGE_DEDICATED)
        .forEach(io -> assigned.add(PortConfigReader.ifName(io)));
    return assigned;
  }

  /** The local override, applied to the ports that allow local modifications. */
  private PortConfig applyLocalOverride(PortConfig base) {
    Optional<DeviceConfig> local = localOverride.snapshot().values().stream().findFirst();
    return local.map(l -> LocalOverride.apply(base, l)).orElse(base);
  }

  // ---------------------------------------------------------------- the intended state

  @Override
  public GraphR intendedState() {
    refreshConfigs();
    Map<String, Integer> indexes = new HashMap<>();
    context.kernel().links().forEach(l -> indexes.put(l.name(), l.index()));
    return IntendedPorts.build(verifier.currentConfig(), leases, indexes, verifier.controllerPort());
  }

  @Override
  public Collection<Nic> externalItems() {
    return context.kernel().links().stream()
        .filter(l -> l.kind().isEmpty() || l.kind().equals("veth"))
        .filter(l -> !l.name().equals("lo"))
        .map(l -> new Nic(l.name()))
        .toList();
  }

  @Override
  public void reconciled(ReconcileOutcome outcome) {
    failedItems = outcome.failedItems();
    verifier.reconciled();
    publish();
  }

  private void verifierChanged() {
    context.requestReconcile("nim: " + verifier.reason());
    publish();
  }

  private void onNetEvent(NetEvent event) {
    if (stopped) {
      return;
    }
    String ifName;
    if (event instanceof NetEvent.LinkEvent e) {
      ifName = e.link().name();
    } else if (event instanceof NetEvent.AddressEvent e) {
      ifName = context.kernel().links().stream()
          .filter(l -> l.index() == e.address().linkIndex()).map(Link::name).findFirst().orElse("");
    } else if (event instanceof NetEvent.Resynced) {
      ifName = "*";
    } else {
      ifName = "";
    }
    if (ifName.isEmpty()) {
      return;
    }
    if (ifName.equals("*")) {
      verifier.currentConfig().ifPresent(c -> c.ports().forEach(p -> verifier.portChanged(p.ifName())));
    } else {
      verifier.portChanged(ifName);
    }
    publish();
  }

  private void onDhcp(DhcpEvent event) {
    if (stopped) {
      return;
    }
    if (event instanceof DhcpEvent.Bound e) {
      leases.put(e.link(), e.lease());
      dhcpErrors.remove(e.link());
    } else if (event instanceof DhcpEvent.Renewed e) {
      leases.put(e.link(), e.lease());
    } else if (event instanceof DhcpEvent.Lost e) {
      leases.remove(e.link());
      dhcpErrors.put(e.link(), "DHCP lease lost: " + e.reason());
    } else if (event instanceof DhcpEvent.Failed e) {
      dhcpErrors.put(e.link(), "DHCP client failed: " + e.reason().getMessage() + (e.willRetry() ? " (retrying)" : ""));
    }
    log.info("nim: DHCP on {}: {}", event.link(), event.getClass().getSimpleName());
    context.requestReconcile("DHCP " + event.getClass().getSimpleName() + " on " + event.link());
    verifier.portChanged(event.link());
    publish();
  }

  /** Port readiness from the kernel as it is now. */
  private final class KernelPorts implements Verifier.Ports {
    @Override
    public Optional<String> notReady(Port port) {
      Optional<Link> link = context.kernel().link(port.ifName());
      if (link.isEmpty()) {
        return Optional.of(failedItemError(port).orElse("interface " + port.ifName() + " does not exist"));
      }
      if (!link.get().up()) {
        return Optional.of("interface " + port.ifName() + " is down");
      }
      if (!link.get().carrier()) {
        return Optional.of("no carrier on " + port.ifName());
      }
      Optional<IpPrefix> address = IntendedPorts.address(port, leases);
      if (address.isEmpty()) {
        return Optional.of(Optional.ofNullable(dhcpErrors.get(port.ifName()))
            .orElse("no IP address on " + port.ifName() + " (waiting for a DHCP lease)"));
      }
      boolean installed = context.kernel().addresses(port.ifName()).stream().anyMatch(a -> a.prefix().equals(address.get()));
      return installed ? Optional.empty() : Optional.of("address " + address.get() + " not yet on " + port.ifName());
    }

    @Override
    public Optional<InetAddress> source(Port port) {
      return IntendedPorts.address(port, leases).map(IpPrefix::address);
    }
  }

  private Optional<String> failedItemError(Port port) {
    return Optional.ofNullable(failedItems.get(IntendedPorts.linkItem(port)));
  }

  // ---------------------------------------------------------------- status

  private void publish() {
    if (deviceNetwork == null || stopped) {
      return;
    }
    Optional<PortConfig> config = verifier.currentConfig();
    DeviceNetwork.Builder network = DeviceNetwork.newBuilder()
        .setPortConfig(config.map(PortConfig::key).orElse(""))
        .setControllerPort(verifier.controllerPort().orElse(""))
        .setControllerPortChanges(verifier.controllerPortChanges());
    DeviceNetworkStatus.Builder status = DeviceNetworkStatus.newBuilder()
        .setDpcKey(config.map(PortConfig::key).orElse(""))
        .setCurrentUplink(verifier.controllerPort().orElse(""));
    long now = context.loop().now().toEpochMilli();
    config.ifPresent(c -> {
      for (Port port : c.ports()) {
        PortView view = portView(port);
        network.addPorts(view.bus(now));
        status.addPorts(view.info(now));
      }
      c.errors().forEach((label, error) -> {
        if (c.port(label).isPresent()) {
          return; // reported on the running port itself (portView)
        }
        ErrorInfo info = ErrorInfo.newBuilder().setDescription(error).setTimestampMs(now).setReason("BAD_PORT_CONFIG").build();
        network.addPorts(dev.verge.topics.v1.Port.newBuilder().setLabel(label).setError(info));
        status.addPorts(PortStatus.newBuilder().setLabel(label).setError(info));
      });
    });
    deviceNetwork.publish(GLOBAL, network.build());
    networkStatus.publish(GLOBAL, status.build());
    ConfigListStatus.Builder list = ConfigListStatus.newBuilder().setCurrentIndex(verifier.currentIndex());
    for (Verifier.Entry entry : verifier.entries()) {
      list.addConfigs(PortConfigStatus.newBuilder()
          .setKey(entry.config().key())
          .setTimePriorityMs(entry.config().timePriorityMs())
          .setLastFailedMs(entry.lastFailedMs())
          .setLastSucceededMs(entry.lastSucceededMs())
          .setLastError(entry.lastError())
          .setFingerprint(entry.config().fingerprint())
          .addAllPorts(entry.config().ports().stream().filter(Port::hasIp).map(Port::label).toList()));
    }
    ConfigListStatus built = list.build();
    configListStatus.publish(GLOBAL, built.toBuilder().setReason(verifier.reason()).build());
    persistConfigList(built); // the history only: a new reason alone is no reason to write
  }

  /** How often the ports' counters are published (zedagent sends the latest on its own schedule). */
  static final java.time.Duration METRICS_INTERVAL = java.time.Duration.ofSeconds(10);

  /**
   * Per port of the config in use: the kernel's 64-bit link counters, and the controller probes
   * out of it (successes, failures, last round trip).
   */
  void publishMetrics() {
    Optional<PortConfig> config = verifier.currentConfig();
    if (stopped || config.isEmpty()) {
      return;
    }
    Map<String, dev.verge.hostos.LinkStats> stats = context.host().network().stats();
    var message = dev.verge.proto.metrics.v1.MetricsMessage.newBuilder()
        .setAtTimeMs(context.loop().now().toEpochMilli());
    var probes = dev.verge.proto.metrics.v1.ProbeMetrics.newBuilder()
        .setCurrentPort(verifier.controllerPort().orElse(""))
        .setDestination("controller");
    for (Port port : config.get().ports()) {
      dev.verge.hostos.LinkStats s = stats.get(port.ifName());
      if (s != null && port.hasIp()) {
        message.addInterfaces(dev.verge.proto.metrics.v1.InterfaceMetrics.newBuilder()
            .setIfName(port.ifName()).setLabel(port.label())
            .setRxBytes(s.rxBytes()).setTxBytes(s.txBytes())
            .setRxPackets(s.rxPackets()).setTxPackets(s.txPackets())
            .setRxErrors(s.rxErrors()).setTxErrors(s.txErrors())
            .setRxDrops(s.rxDropped()).setTxDrops(s.txDropped()));
      }
      if (port.isManagement()) {
        Verifier.ProbeStats p = verifier.probeStats(port.label());
        Verifier.PortResult r = verifier.portResult(port.label());
        probes.addPorts(dev.verge.proto.metrics.v1.PortProbeMetrics.newBuilder()
            .setPort(port.label())
            .setGatewayUp(s != null && keptReady(port))
            .setRemoteHostUp(r.lastSucceededMs() > r.lastFailedMs())
            .setSuccessCount(p.successes()).setFailureCount(p.failures())
            .setLastRttUs(p.lastRoundTrip().toNanos() / 1000));
      }
    }
    message.setControllerProbes(probes);
    metrics.publish(NAME, message.build());
  }

  private boolean keptReady(Port port) {
    return new KernelPorts().notReady(port).isEmpty();
  }

  /** Reads the list's history from before a restart (a damaged file is logged and ignored). */
  private void restoreConfigList() {
    java.nio.file.Path file = settings.configListFile();
    if (!java.nio.file.Files.isRegularFile(file)) {
      return;
    }
    try {
      persistedList = ConfigListStatus.parseFrom(java.nio.file.Files.readAllBytes(file));
    } catch (java.io.IOException e) {
      log.warn("nim: ignoring the persisted config list {}: {}", file, e.toString());
      return;
    }
    verifier.restore(persistedList.getConfigsList().stream()
        .map(c -> new Verifier.History(c.getKey(), c.getFingerprint(), c.getLastFailedMs(), c.getLastSucceededMs(),
            c.getLastError()))
        .toList());
    restoredControllerPriority = persistedList.getConfigsList().stream()
        .filter(c -> c.getKey().equals(PortConfig.CONTROLLER)).findFirst();
    // The controller's older contents (its newest comes back from the bus): from their files.
    List<Verifier.Entry> fallbacks = new ArrayList<>();
    persistedList.getConfigsList().stream()
        .filter(c -> c.getKey().equals(PortConfig.CONTROLLER)).skip(1)
        .forEach(c -> readControllerContent(c.getFingerprint()).ifPresent(content -> {
          PortConfig older = PortConfigReader.read(PortConfig.CONTROLLER, c.getTimePriorityMs(), content);
          controllerContents.put(older.fingerprint(), content);
          fallbacks.add(new Verifier.Entry(older, c.getLastFailedMs(), c.getLastSucceededMs(), c.getLastError()));
        }));
    verifier.restoreFallbacks(fallbacks);
  }

  private Optional<DeviceConfig> readControllerContent(String fingerprint) {
    java.nio.file.Path file = settings.controllerContentFile(fingerprint);
    try {
      return Optional.of(DeviceConfig.parseFrom(java.nio.file.Files.readAllBytes(file)));
    } catch (java.io.IOException e) {
      log.warn("nim: the controller's older port config {} is lost ({}): no fallback to it", fingerprint, e.toString());
      return Optional.empty();
    }
  }

  /**
   * Writes the content of every controller config in the list that has no file yet, and removes
   * the files of contents the list no longer holds (before the list itself is written).
   */
  private void persistControllerContents(ConfigListStatus list) throws java.io.IOException {
    java.util.Set<String> inList = new java.util.HashSet<>();
    for (PortConfigStatus c : list.getConfigsList()) {
      if (c.getKey().equals(PortConfig.CONTROLLER)) {
        inList.add(c.getFingerprint());
        java.nio.file.Path file = settings.controllerContentFile(c.getFingerprint());
        DeviceConfig content = controllerContents.get(c.getFingerprint());
        if (content != null && !java.nio.file.Files.exists(file)) {
          java.nio.file.Files.createDirectories(file.getParent());
          dev.verge.proto.AtomicFiles.write(file, content.toByteArray());
        }
      }
    }
    controllerContents.keySet().retainAll(inList);
    java.nio.file.Path dir = settings.controllerContentFile("x").getParent();
    if (java.nio.file.Files.isDirectory(dir)) {
      try (var files = java.nio.file.Files.list(dir)) {
        for (java.nio.file.Path f : files.toList()) {
          String name = f.getFileName().toString();
          if (name.endsWith(".pb") && !inList.contains(name.substring(0, name.length() - 3))) {
            java.nio.file.Files.deleteIfExists(f);
          }
        }
      }
    }
  }

  /** Keeps the list's history for the next start; written only when it changed, atomically. */
  private void persistConfigList(ConfigListStatus list) {
    if (list.getConfigsCount() == 0 || list.equals(persistedList)) {
      return;
    }
    try {
      persistControllerContents(list);
      dev.verge.proto.AtomicFiles.write(settings.configListFile(), list.toByteArray());
      persistedList = list;
    } catch (java.io.IOException e) {
      log.warn("nim: cannot persist the config list to {}: {}", settings.configListFile(), e.toString());
    }
  }

  /** One port as it is now: config, kernel, lease, test results. */
  private record PortView(Port port, Optional<Link> link, List<String> addresses, List<String> gateways,
      List<String> dns, List<String> ntp, int table, String error, Verifier.PortResult result,
      String bondActiveMember) {
    dev.verge.topics.v1.Port bus(long now) {
      dev.verge.topics.v1.Port.Builder b = dev.verge.topics.v1.Port.newBuilder()
          .setLabel(port.label())
          .setIfName(port.ifName())
          .setKind(port.kind().word())
          .setUsage(switch (port.usage()) {
            case MANAGEMENT -> dev.verge.topics.v1.Port.Usage.USAGE_MANAGEMENT;
            case APP_SHARED -> dev.verge.topics.v1.Port.Usage.USAGE_APP_SHARED;
            case L2_ONLY -> dev.verge.topics.v1.Port.Usage.USAGE_L2_ONLY;
          })
          .setCost(port.cost())
          .setUp(link.map(Link::up).orElse(false))
          .setCarrier(link.map(Link::carrier).orElse(false))
          .addAllAddresses(addresses)
          .addAllGateways(gateways)
          .addAllDnsServers(dns)
          .addAllNtpServers(ntp)
          .setMtu(link.map(Link::mtu).orElse(0))
          .setMac(link.map(l -> l.mac().toString()).orElse(""))
          .setRoutingTable(table);
      // zedagent's own controller session goes through the same proxy as nim's tests.
      port.proxy().ifPresent(proxy -> b.setProxy(proxy.url()).addAllProxyExceptions(proxy.exceptions()));
      if (!error.isEmpty()) {
        b.setError(ErrorInfo.newBuilder().setDescription(error).setTimestampMs(now));
      }
      return b.build();
    }

    PortStatus info(long now) {
      PortStatus.Builder b = PortStatus.newBuilder()
          .setIfName(port.ifName())
          .setLabel(port.label())
          .setIsMgmt(port.isManagement())
          .setDhcpType(port.addressing() instanceof Port.Addressing.Dhcp ? "client"
              : port.addressing() instanceof Port.Addressing.Static ? "static" : "none")
          .addAllIpAddrs(addresses)
          .addAllDefaultRouters(gateways)
          .addAllDnsServers(dns)
          .addAllNtpServers(ntp)
          .setUp(link.map(l -> l.up() && l.carrier()).orElse(false))
          .setCost(port.cost())
          .setMtu(link.map(Link::mtu).orElse(0))
          .setMac(link.map(l -> l.mac().toString()).orElse(""))
          .setLastFailedMs(result.lastFailedMs())
          .setLastSucceededMs(result.lastSucceededMs());
      port.proxy().ifPresent(proxy -> b.setProxy(proxy.url()).addAllProxyExceptions(proxy.exceptions()));
      port.wireless().ifPresent(w -> b.setWireless(dev.verge.proto.info.v1.WirelessStatus.newBuilder()
          .setType(w.kind().word()).addAllNetworks(w.networks())
          .setRadio("no radio is driven on this device: config and status only")));
      port.bond().ifPresent(bond -> b.setBond(dev.verge.proto.info.v1.BondStatus.newBuilder()
          .setMode(bond.spec().mode().name()).setActiveMember(bondActiveMember).addAllMembers(bond.members())));
      if (!error.isEmpty()) {
        b.setError(ErrorInfo.newBuilder().setDescription(error).setTimestampMs(now));
      }
      return b.build();
    }
  }

  private PortView portView(Port port) {
    Optional<Link> link = context.kernel().link(port.ifName());
    // Link-local addresses are on every link and say nothing about the port: not reported.
    List<String> addresses = context.kernel().addresses(port.ifName()).stream()
        .filter(a -> !a.prefix().address().isLinkLocalAddress())
        .map(a -> a.prefix().toString()).toList();
    List<String> gateways = IntendedPorts.gateway(port, leases).map(g -> List.of(g.getHostAddress())).orElse(List.of());
    List<String> dns = new ArrayList<>();
    port.dnsServers().forEach(d -> dns.add(d.getHostAddress()));
    Optional.ofNullable(leases.get(port.ifName())).ifPresent(l -> l.dnsServers().forEach(d -> {
      if (!dns.contains(d.getHostAddress())) {
        dns.add(d.getHostAddress());
      }
    }));
    int table = link.map(l -> PortItems.TABLE_BASE + l.index()).orElse(0);
    // The most telling error first: the config's own (what the operator must fix), what the host
    // refused, then DHCP, then the last failed test.
    String error = verifier.currentConfig().flatMap(c -> Optional.ofNullable(c.errors().get(port.label())))
        .or(() -> failedItemError(port))
        .or(() -> Optional.ofNullable(dhcpErrors.get(port.ifName())))
        .or(() -> {
          Verifier.PortResult r = verifier.portResult(port.label());
          return r.lastFailedMs() > r.lastSucceededMs() ? Optional.of(r.lastError()) : Optional.empty();
        })
        .orElse("");
    return new PortView(port, link, addresses, gateways, dns, IntendedPorts.ntpServers(port, leases),
        port.hasIp() ? table : 0, error, verifier.portResult(port.label()), bondActiveMember(port, link));
  }

  /** The member a bond port sends through now, as the kernel says; empty while the bond is not there. */
  private String bondActiveMember(Port port, Optional<Link> link) {
    if (port.bond().isEmpty() || link.isEmpty() || !link.get().kind().equals("bond")) {
      return "";
    }
    try {
      return context.host().network().bondActiveMember(port.ifName()).orElse("");
    } catch (dev.verge.hostos.HostException gone) {
      return ""; // deleted since the link was read
    }
  }

  // ---------------------------------------------------------------- configurators

  private void configureItems(Host host) {
    NetworkStack net = host.network();
    context.configure(EthernetLink.TYPE, new Configurator() {
      @Override
      public void create(OpContext ctx, Item item) {
        var link = (EthernetLink) item;
        if (link.mtu() > 0) {
          net.setMtu(link.name(), link.mtu());
        }
        net.setUp(link.name(), true);
      }

      @Override
      public void modify(OpContext ctx, Item oldItem, Item newItem) {
        create(ctx, newItem);
      }

      @Override
      public void delete(OpContext ctx, Item item) {
        // The NIC is not nim's: it stays as it is (a port taken out of use is not cut).
      }
    });
    context.configure(
        VlanLink.TYPE,
        new CreatedLinkConfigurator(
            net,
            item -> ((VlanLink) item).spec(),
            item -> ((VlanLink) item).mtu(),
            (oldItem, newItem) -> {
              var a = (VlanLink) oldItem;
              var b = (VlanLink) newItem;
              return !a.parent().equals(b.parent()) || a.vlanId() != b.vlanId();
            }));
    context.configure(
        BondLink.TYPE,
        new CreatedLinkConfigurator(
            net,
            item -> ((BondLink) item).spec(),
            item -> ((BondLink) item).mtu(),
            (oldItem, newItem) -> !((BondLink) oldItem).spec().equals(((BondLink) newItem).spec())));
    context.configure(BondMember.TYPE, new Configurator() {
      @Override
      public void create(OpContext ctx, Item item) {
        var member = (BondMember) item;
        net.setUp(member.name(), false); // the kernel enslaves only a link that is down
        net.setMaster(member.name(), member.bond());
        net.setUp(member.name(), true);
      }

      @Override
      public void modify(OpContext ctx, Item oldItem, Item newItem) {
        create(ctx, newItem);
      }

      @Override
      public void delete(OpContext ctx, Item item) {
        ignoreMissing(() -> net.clearMaster(item.name()));
      }
    });
    context.configure(PortAddress.TYPE, new RecreatedConfigurator() {
      @Override
      public void create(OpContext ctx, Item item) {
        var a = (PortAddress) item;
        net.addAddress(a.link(), a.prefix());
      }

      @Override
      public void delete(OpContext ctx, Item item) {
        var a = (PortAddress) item;
        ignoreMissing(() -> net.deleteAddress(a.link(), a.prefix()));
      }
    });
    context.configure(DhcpClient.TYPE, new Configurator() {
      @Override
      public void create(OpContext ctx, Item item) {
        host.dhcp().start(item.name(), DhcpOptions.DEFAULT, context.loop(), NimAgent.this::onDhcp);
      }

      @Override
      public void modify(OpContext ctx, Item oldItem, Item newItem) {}

      @Override
      public void delete(OpContext ctx, Item item) {
        leases.remove(item.name());
        dhcpErrors.remove(item.name());
        ignoreMissing(() -> host.dhcp().stop(item.name()));
      }
    });
    context.configure(PortRoute.TYPE, new RecreatedConfigurator() {
      @Override
      public void create(OpContext ctx, Item item) {
        net.replaceRoute(request((PortRoute) item));
      }

      @Override
      public void delete(OpContext ctx, Item item) {
        ignoreMissing(() -> net.deleteRoute(request((PortRoute) item)));
      }
    });
    context.configure(SourceRule.TYPE, new RecreatedConfigurator() {
      @Override
      public void create(OpContext ctx, Item item) {
        net.addRule(rule((SourceRule) item));
      }

      @Override
      public void delete(OpContext ctx, Item item) {
        ignoreMissing(() -> net.deleteRule(rule((SourceRule) item)));
      }
    });
    context.configure(PortItems.ControllerRule.TYPE, new RecreatedConfigurator() {
      @Override
      public void create(OpContext ctx, Item item) {
        net.addRule(controllerRule((PortItems.ControllerRule) item));
      }

      @Override
      public void delete(OpContext ctx, Item item) {
        ignoreMissing(() -> net.deleteRule(controllerRule((PortItems.ControllerRule) item)));
      }
    });
    context.configure(PortItems.ResolverConfig.TYPE,
        new WrittenFile(settings.resolvConf(), item -> ((PortItems.ResolverConfig) item).render()));
    context.configure(PortItems.TimeSources.TYPE,
        new WrittenFile(settings.timeSources(), item -> ((PortItems.TimeSources) item).render()));
    context.configure(SysctlSetting.TYPE, new Configurator() {
      @Override
      public void create(OpContext ctx, Item item) {
        var s = (SysctlSetting) item;
        host.sysctl().set(s.name(), s.value());
      }

      @Override
      public void modify(OpContext ctx, Item oldItem, Item newItem) {
        create(ctx, newItem);
      }

      @Override
      public void delete(OpContext ctx, Item item) {}
    });
  }

  static RouteRequest request(PortRoute route) {
    return new RouteRequest(route.destination(), route.gateway(), Optional.of(route.link()), route.table(),
        route.metric(), RouteType.UNICAST, route.source(), Optional.empty(), PortItems.ROUTE_PROTOCOL);
  }

  static Rule rule(SourceRule rule) {
    return new Rule(!rule.from().isIpv4(), PortItems.SOURCE_RULE_PRIORITY, Optional.of(rule.from()), Optional.empty(),
        Optional.empty(), 0, rule.table());
  }

  static Rule controllerRule(PortItems.ControllerRule rule) {
    return Rule.all(false, rule.table(), PortItems.CONTROLLER_RULE_PRIORITY).withInputInterface("lo");
  }

  /** Deleting what is already gone (the NIC went, the kernel took the address with it) is done. */
  private static void ignoreMissing(Runnable delete) {
    try {
      delete.run();
    } catch (HostException e) {
      if (!Set.of(Errno.ENODEV, Errno.ENOENT, Errno.ESRCH, Errno.EADDRNOTAVAIL).contains(e.errno())) {
        throw e;
      }
    }
  }

  /** The verifier (for tests and the bench). */
  public Verifier verifier() {
    return verifier;
  }

  @Override
  public void stop() {
    stopped = true;
    if (fileScan != null) {
      fileScan.cancel(false);
    }
    if (metricsTimer != null) {
      metricsTimer.cancel(false);
    }
    if (netEvents != null) {
      netEvents.close();
    }
    if (verifier != null) {
      verifier.close();
    }
    if (probe instanceof AutoCloseable closeable) {
      try {
        closeable.close();
      } catch (Exception e) {
        log.warn("nim: closing the prober failed", e);
      }
    }
  }

  /** A file nim keeps for the device (resolver, time sources): written whole, removed with its item. */
  private static final class WrittenFile implements Configurator {
    private final java.nio.file.Path path;
    private final Function<Item, String> text;

    WrittenFile(java.nio.file.Path path, Function<Item, String> text) {
      this.path = path;
      this.text = text;
    }

    @Override
    public void create(OpContext ctx, Item item) throws Exception {
      dev.verge.proto.AtomicFiles.write(path, text.apply(item).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    @Override
    public void modify(OpContext ctx, Item oldItem, Item newItem) throws Exception {
      create(ctx, newItem);
    }

    @Override
    public void delete(OpContext ctx, Item item) throws Exception {
      java.nio.file.Files.deleteIfExists(path);
    }
  }

  /** A link nim creates (VLAN, bond): created from its spec, then MTU and up; deleted when dropped. */
  private static final class CreatedLinkConfigurator implements Configurator {
    private final NetworkStack net;
    private final Function<Item, LinkSpec> spec;
    private final ToIntFunction<Item> mtu;
    private final BiPredicate<Item, Item> needsRecreate;

    CreatedLinkConfigurator(
        NetworkStack net,
        Function<Item, LinkSpec> spec,
        ToIntFunction<Item> mtu,
        BiPredicate<Item, Item> needsRecreate) {
      this.net = net;
      this.spec = spec;
      this.mtu = mtu;
      this.needsRecreate = needsRecreate;
    }

    @Override
    public void create(OpContext ctx, Item item) {
      net.createLink(item.name(), spec.apply(item));
      modify(ctx, item, item);
    }

    @Override
    public void modify(OpContext ctx, Item oldItem, Item newItem) {
      if (mtu.applyAsInt(newItem) > 0) {
        net.setMtu(newItem.name(), mtu.applyAsInt(newItem));
      }
      net.setUp(newItem.name(), true);
    }

    @Override
    public void delete(OpContext ctx, Item item) {
      ignoreMissing(() -> net.deleteLink(item.name()));
    }

    @Override
    public boolean needsRecreate(Item oldItem, Item newItem) {
      return needsRecreate.test(oldItem, newItem);
    }
  }
}
