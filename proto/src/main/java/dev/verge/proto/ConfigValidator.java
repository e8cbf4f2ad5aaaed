package dev.verge.proto;

import static dev.verge.proto.ConfigViolation.DUPLICATE;
import static dev.verge.proto.ConfigViolation.INVALID_VALUE;
import static dev.verge.proto.ConfigViolation.MISSING_VALUE;
import static dev.verge.proto.ConfigViolation.OVERLAPPING_SUBNET;
import static dev.verge.proto.ConfigViolation.TOO_LARGE;
import static dev.verge.proto.ConfigViolation.UNKNOWN_REFERENCE;

import dev.verge.proto.common.v1.UuidAndVersion;
import dev.verge.proto.config.v1.Ace;
import dev.verge.proto.config.v1.AceAction;
import dev.verge.proto.config.v1.AceMatch;
import dev.verge.proto.config.v1.Adapter;
import dev.verge.proto.config.v1.AppInstanceConfig;
import dev.verge.proto.config.v1.BondAdapter;
import dev.verge.proto.config.v1.DeviceConfig;
import dev.verge.proto.config.v1.IpSpec;
import dev.verge.proto.config.v1.NetworkAdapter;
import dev.verge.proto.config.v1.NetworkConfig;
import dev.verge.proto.config.v1.NetworkInstanceConfig;
import dev.verge.proto.config.v1.PhysicalIo;
import dev.verge.proto.config.v1.StaticRoute;
import dev.verge.proto.config.v1.SystemAdapter;
import dev.verge.proto.config.v1.VlanAdapter;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * Semantic checks of a device config, each problem with the field path of the offending value:
 * identities, label references along the PhysicalIO → VLAN/bond → port → NI → VIF layering,
 * addresses and prefixes, subnets overlapping between local/VPN NIs, ACE consistency, and size.
 * The controller runs it at apply time; a device runs it again on what it receives.
 */
public final class ConfigValidator {
  /** Default ceiling on a config's serialized size. */
  public static final int DEFAULT_MAX_BYTES = 1 << 20;
  /**
   * Ceiling on an app's cloud-init user data, in bytes of UTF-8. EVE's API names none; 32 KiB is
   * the ceiling EVE's metadata server puts on what an app posts to it, and plenty for cloud-config.
   */
  public static final int MAX_USER_DATA_BYTES = 32 * 1024;
  /** Port labels every device has, besides its ports' own names and shared labels. */
  public static final Set<String> IMPLICIT_PORT_LABELS = Set.of("all", "uplink", "freeuplink");
  private static final java.util.regex.Pattern HOST_NAME =
      java.util.regex.Pattern.compile("(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\\.?");
  private static final Set<String> ACE_MATCH_TYPES = Set.of("ip", "host", "eidset", "protocol", "lport", "fport", "adapter");

  private final int maxBytes;

  public ConfigValidator(int maxBytes) {
    this.maxBytes = maxBytes;
  }

  public ConfigValidator() {
    this(DEFAULT_MAX_BYTES);
  }

  public List<ConfigViolation> validate(DeviceConfig config) {
    return new Run(config).check();
  }

  /** One validation pass; collects violations in document order. */
  private final class Run {
    private final DeviceConfig config;
    private final List<ConfigViolation> out = new ArrayList<>();
    private final Set<String> lowerLayerLabels = new HashSet<>();
    private final Set<String> physicalLabels = new HashSet<>();
    private final Set<String> passthroughNames = new HashSet<>();
    private final Set<String> portLabels = new HashSet<>(IMPLICIT_PORT_LABELS);
    private final Set<String> networkUuids = new HashSet<>();
    private final Map<String, NetworkInstanceConfig> instances = new HashMap<>();
    private final Set<String> configItemKeys = new HashSet<>();
    private final Set<String> interfaceNames = new HashSet<>();

    Run(DeviceConfig config) {
      this.config = config;
    }

    List<ConfigViolation> check() {
      int size = config.getSerializedSize();
      if (size > maxBytes) {
        add("", TOO_LARGE, "config is " + size + " bytes; the limit is " + maxBytes);
        return out;
      }
      if (!config.getId().getUuid().isEmpty()) {
        uuid(config.getId().getUuid(), "id.uuid");
      }
      for (int i = 0; i < config.getConfigItemsCount(); i++) {
        if (config.getConfigItems(i).getKey().isEmpty()) {
          add("config_items[" + i + "].key", MISSING_VALUE, "a config item needs a key");
        } else if (!configItemKeys.add(config.getConfigItems(i).getKey())) {
          add("config_items[" + i + "].key", DUPLICATE, "config item '" + config.getConfigItems(i).getKey() + "' is set twice");
        }
      }
      checkPhysicalIo();
      checkBonds();
      checkVlans();
      checkNetworks();
      checkSystemAdapters();
      checkNetworkInstances();
      checkApps();
      return out;
    }

    private void checkPhysicalIo() {
      for (int i = 0; i < config.getDeviceIoCount(); i++) {
        PhysicalIo io = config.getDeviceIo(i);
        String path = "device_io[" + i + "]";
        uniqueLabel(io.getLogicalLabel(), path + ".logical_label");
        physicalLabels.add(io.getLogicalLabel());
        passthroughNames.add(io.getLogicalLabel());
        if (!io.getPhyLabel().isEmpty()) {
          passthroughNames.add(io.getPhyLabel());
        }
        if (!io.getAssignGroup().isEmpty()) {
          passthroughNames.add(io.getAssignGroup());
        }
        if (io.hasVfList()) {
          if (io.getType() != PhysicalIo.Type.TYPE_ETH_PF) {
            add(path + ".vf_list", INVALID_VALUE, "only a TYPE_ETH_PF port has VFs");
          }
          int count = io.getVfList().getVfCount();
          if (count > 256) {
            add(path + ".vf_list.vf_count", INVALID_VALUE, "at most 256 VFs, not " + count);
          }
          for (int v = 0; v < io.getVfList().getVfsCount(); v++) {
            String vfPath = path + ".vf_list.vfs[" + v + "]";
            var vf = io.getVfList().getVfs(v);
            if (vf.getIndex() >= count) {
              add(vfPath + ".index", INVALID_VALUE, "VF index " + vf.getIndex() + " is not below vf_count " + count);
            }
            vlanId(vf.getVlanId(), vfPath + ".vlan_id", true);
            mac(vf.getMac(), vfPath + ".mac");
          }
        }
      }
    }

    private void checkBonds() {
      for (int i = 0; i < config.getBondsCount(); i++) {
        BondAdapter bond = config.getBonds(i);
        String path = "bonds[" + i + "]";
        uniqueLabel(bond.getLogicalLabel(), path + ".logical_label");
        interfaceName(bond.getInterfaceName(), path + ".interface_name");
        if (bond.getLowerLayerNamesCount() == 0) {
          add(path + ".lower_layer_names", MISSING_VALUE, "a bond needs at least one member port");
        }
        for (int m = 0; m < bond.getLowerLayerNamesCount(); m++) {
          reference(physicalLabels, bond.getLowerLayerNames(m), path + ".lower_layer_names[" + m + "]", "physical port");
        }
        if (bond.getMode() == BondAdapter.Mode.MODE_UNSPECIFIED) {
          add(path + ".mode", MISSING_VALUE, "bond mode is required");
        }
        if (bond.getLacpRate() != BondAdapter.LacpRate.LACP_RATE_UNSPECIFIED && bond.getMode() != BondAdapter.Mode.MODE_802_3AD) {
          add(path + ".lacp_rate", INVALID_VALUE, "LACP rate applies only to MODE_802_3AD");
        }
        if (bond.hasArp()) {
          if (bond.getArp().getIntervalMs() == 0) {
            add(path + ".arp.interval_ms", MISSING_VALUE, "ARP monitoring needs an interval");
          }
          if (bond.getArp().getIpTargetsCount() == 0 || bond.getArp().getIpTargetsCount() > 16) {
            add(path + ".arp.ip_targets", INVALID_VALUE, "ARP monitoring takes 1..16 targets (the kernel's limit), not "
                + bond.getArp().getIpTargetsCount());
          }
        }
        for (int t = 0; t < bond.getArp().getIpTargetsCount(); t++) {
          String targetPath = path + ".arp.ip_targets[" + t + "]";
          ip(bond.getArp().getIpTargets(t), targetPath).ifPresent(a -> unicast(a, targetPath));
        }
        if (bond.hasMii()) {
          var mii = bond.getMii();
          if (mii.getIntervalMs() == 0 && (mii.getUpdelayMs() != 0 || mii.getDowndelayMs() != 0)) {
            add(path + ".mii.interval_ms", MISSING_VALUE, "up/down delays need an MII interval");
          } else if (mii.getIntervalMs() != 0) {
            if (Integer.toUnsignedLong(mii.getUpdelayMs()) % Integer.toUnsignedLong(mii.getIntervalMs()) != 0) {
              add(path + ".mii.updelay_ms", INVALID_VALUE, "updelay is a multiple of the MII interval (" + mii.getIntervalMs() + " ms)");
            }
            if (Integer.toUnsignedLong(mii.getDowndelayMs()) % Integer.toUnsignedLong(mii.getIntervalMs()) != 0) {
              add(path + ".mii.downdelay_ms", INVALID_VALUE, "downdelay is a multiple of the MII interval (" + mii.getIntervalMs() + " ms)");
            }
          }
        }
      }
    }

    /**
     * A kernel interface name, when given, as the kernel accepts it (dev_valid_name): at most 15
     * bytes, not "." or "..", no '/', ':' or white space.
     */
    private void interfaceName(String name, String path) {
      if (name.isEmpty()) {
        return;
      }
      if (!interfaceNames.add(name)) {
        add(path, DUPLICATE, "interface name '" + name + "' is used twice");
        return;
      }
      int bytes = name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
      if (bytes > 15) {
        add(path, INVALID_VALUE, "interface name '" + name + "' is " + bytes + " bytes; the kernel allows at most 15");
      } else if (name.equals(".") || name.equals("..") || name.chars().anyMatch(c -> c == '/' || c == ':' || Character.isWhitespace(c))) {
        add(path, INVALID_VALUE, "interface name '" + name + "' is not one the kernel accepts (no '/', ':', white space, '.' or '..')");
      }
    }

    private void checkVlans() {
      Set<String> physicalOrBond = new HashSet<>(physicalLabels);
      config.getBondsList().forEach(b -> physicalOrBond.add(b.getLogicalLabel()));
      for (int i = 0; i < config.getVlansCount(); i++) {
        VlanAdapter vlan = config.getVlans(i);
        String path = "vlans[" + i + "]";
        uniqueLabel(vlan.getLogicalLabel(), path + ".logical_label");
        interfaceName(vlan.getInterfaceName(), path + ".interface_name");
        reference(physicalOrBond, vlan.getLowerLayerName(), path + ".lower_layer_name", "physical port or bond");
        vlanId(vlan.getVlanId(), path + ".vlan_id", false);
      }
    }

    private void checkNetworks() {
      for (int i = 0; i < config.getNetworksCount(); i++) {
        NetworkConfig network = config.getNetworks(i);
        String path = "networks[" + i + "]";
        objectId(network.getId(), path, networkUuids);
        ipSpec(network.getIp(), path + ".ip", false);
        mtu(network.getMtu(), path + ".mtu");
      }
    }

    private void checkSystemAdapters() {
      for (int i = 0; i < config.getSystemAdaptersCount(); i++) {
        SystemAdapter port = config.getSystemAdapters(i);
        String path = "system_adapters[" + i + "]";
        if (port.getName().isEmpty()) {
          add(path + ".name", MISSING_VALUE, "a port needs a name (its label)");
        } else if (!portLabels.add(port.getName()) && !IMPLICIT_PORT_LABELS.contains(port.getName())) {
          add(path + ".name", DUPLICATE, "port name '" + port.getName() + "' is used twice");
        } else if (IMPLICIT_PORT_LABELS.contains(port.getName())) {
          add(path + ".name", INVALID_VALUE, "'" + port.getName() + "' is a reserved shared label");
        }
        String lower = port.getLowerLayerName().isEmpty() ? port.getName() : port.getLowerLayerName();
        reference(lowerLayerLabels, lower, path + (port.getLowerLayerName().isEmpty() ? ".name" : ".lower_layer_name"),
            "physical port, VLAN or bond");
        if (!port.getNetworkUuid().isEmpty()) {
          reference(networkUuids, port.getNetworkUuid(), path + ".network_uuid", "network");
        }
        if (!port.getAddr().isEmpty()) {
          ip(port.getAddr(), path + ".addr").ifPresent(a -> unicast(a, path + ".addr"));
        }
        if (port.getCost() > 255) {
          add(path + ".cost", INVALID_VALUE, "cost is 0..255, not " + port.getCost());
        }
        for (String shared : port.getSharedLabelsList()) {
          portLabels.add(shared);
        }
      }
    }

    private void checkNetworkInstances() {
      List<Integer> routed = new ArrayList<>();
      for (int i = 0; i < config.getNetworkInstancesCount(); i++) {
        NetworkInstanceConfig ni = config.getNetworkInstances(i);
        String path = "network_instances[" + i + "]";
        objectId(ni.getId(), path, null);
        if (!ni.getId().getUuid().isEmpty() && instances.putIfAbsent(ni.getId().getUuid(), ni) != null) {
          add(path + ".id.uuid", DUPLICATE, "network instance " + ni.getId().getUuid() + " is defined twice");
        }
        printable(ni.getDisplayName(), path + ".display_name");
        if (ni.getType() == NetworkInstanceConfig.Type.TYPE_UNSPECIFIED) {
          add(path + ".type", MISSING_VALUE, "network instance type is required (TYPE_LOCAL, TYPE_SWITCH or TYPE_VPN)");
        }
        if (!ni.getPort().getName().isEmpty()) {
          reference(portLabels, ni.getPort().getName(), path + ".port.name", "port label");
        }
        boolean isRouted = ni.getType() == NetworkInstanceConfig.Type.TYPE_LOCAL || ni.getType() == NetworkInstanceConfig.Type.TYPE_VPN;
        ipSpec(ni.getIp(), path + ".ip", isRouted);
        if (isRouted && IpText.prefix(ni.getIp().getSubnet()).isPresent()) {
          routed.add(i);
        }
        for (int d = 0; d < ni.getDnsCount(); d++) {
          hostName(ni.getDns(d).getHostName(), path + ".dns[" + d + "].host_name");
          for (int a = 0; a < ni.getDns(d).getAddressesCount(); a++) {
            ip(ni.getDns(d).getAddresses(a), path + ".dns[" + d + "].addresses[" + a + "]");
          }
        }
        for (int r = 0; r < ni.getStaticRoutesCount(); r++) {
          StaticRoute route = ni.getStaticRoutes(r);
          String routePath = path + ".static_routes[" + r + "]";
          Optional<IpText.Prefix> destination = prefix(route.getDestination(), routePath + ".destination");
          if (!route.getGateway().isEmpty()) {
            Optional<InetAddress> gateway = ip(route.getGateway(), routePath + ".gateway");
            gateway.ifPresent(g -> unicast(g, routePath + ".gateway"));
            if (gateway.isPresent() && destination.isPresent() && gateway.get().getAddress().length * 8 != destination.get().bits()) {
              add(routePath + ".gateway", INVALID_VALUE, "gateway " + route.getGateway() + " is not of the family of " + route.getDestination());
            }
          }
          if (route.getProbe().hasCustomProbe()) {
            var probe = route.getProbe().getCustomProbe();
            String probePath = routePath + ".probe.custom_probe";
            if (probe.getMethod() == dev.verge.proto.config.v1.CustomProbe.Method.METHOD_UNSPECIFIED) {
              add(probePath + ".method", MISSING_VALUE, "a custom probe needs a method (METHOD_ICMP or METHOD_TCP)");
            }
            hostOrAddress(probe.getHost(), probePath + ".host");
            if (probe.getMethod() == dev.verge.proto.config.v1.CustomProbe.Method.METHOD_TCP && (probe.getPort() < 1 || probe.getPort() > 65535)) {
              add(probePath + ".port", INVALID_VALUE, "a TCP probe needs a port 1..65535, not " + Integer.toUnsignedString(probe.getPort()));
            }
          }
          if (!route.getPort().isEmpty()) {
            reference(portLabels, route.getPort(), routePath + ".port", "port label");
          }
        }
        if (ni.getType() == NetworkInstanceConfig.Type.TYPE_VPN) {
          checkVpn(ni, path + ".vpn");
        } else if (ni.hasVpn()) {
          add(path + ".vpn", INVALID_VALUE, "VPN settings apply only to TYPE_VPN");
        }
        Set<String> accessPorts = new HashSet<>();
        for (int v = 0; v < ni.getVlanAccessPortsCount(); v++) {
          String vPath = path + ".vlan_access_ports[" + v + "]";
          if (!accessPorts.add(ni.getVlanAccessPorts(v).getAccessPort())) {
            add(vPath + ".access_port", DUPLICATE, "port '" + ni.getVlanAccessPorts(v).getAccessPort() + "' has two access VLANs");
          }
          vlanId(ni.getVlanAccessPorts(v).getVlanId(), vPath + ".vlan_id", false);
          reference(portLabels, ni.getVlanAccessPorts(v).getAccessPort(), vPath + ".access_port", "port label");
        }
        mtu(ni.getMtu(), path + ".mtu");
        if (ni.getMtu() != 0 && ni.getMtu() < 1280 && IpText.prefix(ni.getIp().getSubnet()).map(p -> p.bits() == 128).orElse(false)) {
          add(path + ".mtu", INVALID_VALUE, "an IPv6 network needs an MTU of at least 1280, not " + ni.getMtu());
        }
      }
      overlappingSubnets(routed);
    }

    /**
     * Overlapping subnets of routed NIs, in O(n log n): sorted by first address, each range is
     * compared only with the furthest-reaching one before it (any overlap shows there). Each prefix
     * is parsed once. The later of two overlapping NIs (in document order) is reported.
     */
    private void overlappingSubnets(List<Integer> routed) {
      record Range(int index, IpText.Prefix prefix) {}
      List<Range> ranges = new ArrayList<>(routed.size());
      for (int i : routed) {
        ranges.add(new Range(i, IpText.prefix(config.getNetworkInstances(i).getIp().getSubnet()).orElseThrow()));
      }
      ranges.sort(java.util.Comparator.comparingInt((Range r) -> r.prefix().bits())
          .thenComparing(r -> r.prefix().first()).thenComparingInt(Range::index));
      java.util.TreeMap<Integer, ConfigViolation> found = new java.util.TreeMap<>();
      Range reach = null;
      for (Range range : ranges) {
        if (reach != null && reach.prefix().overlaps(range.prefix())) {
          Range later = reach.index() > range.index() ? reach : range;
          Range earlier = later == reach ? range : reach;
          found.putIfAbsent(later.index(), new ConfigViolation("network_instances[" + later.index() + "].ip.subnet", OVERLAPPING_SUBNET,
              "subnet " + config.getNetworkInstances(later.index()).getIp().getSubnet() + " overlaps "
                  + config.getNetworkInstances(earlier.index()).getIp().getSubnet() + " of network_instances[" + earlier.index() + "]"));
        }
        if (reach == null || reach.prefix().bits() != range.prefix().bits() || range.prefix().last().compareTo(reach.prefix().last()) > 0) {
          reach = range;
        }
      }
      out.addAll(found.values());
    }

    private void checkVpn(NetworkInstanceConfig ni, String path) {
      if (!ni.hasVpn()) {
        add(path, MISSING_VALUE, "a TYPE_VPN network instance needs VPN settings");
        return;
      }
      var vpn = ni.getVpn();
      if (vpn.getPeer().isEmpty()) {
        add(path + ".peer", MISSING_VALUE, "the VPN peer is required");
      } else {
        hostOrAddress(vpn.getPeer(), path + ".peer");
      }
      for (int p = 0; p < vpn.getIkeProposalsCount(); p++) {
        proposal(vpn.getIkeProposals(p), path + ".ike_proposals[" + p + "]");
      }
      for (int p = 0; p < vpn.getEspProposalsCount(); p++) {
        proposal(vpn.getEspProposals(p), path + ".esp_proposals[" + p + "]");
      }
      printable(vpn.getLocalId(), path + ".local_id");
      printable(vpn.getRemoteId(), path + ".remote_id");
      if (vpn.getRemoteSubnetsCount() == 0) {
        add(path + ".remote_subnets", MISSING_VALUE, "at least one remote subnet is required");
      }
      for (int s = 0; s < vpn.getLocalSubnetsCount(); s++) {
        prefix(vpn.getLocalSubnets(s), path + ".local_subnets[" + s + "]");
      }
      for (int s = 0; s < vpn.getRemoteSubnetsCount(); s++) {
        prefix(vpn.getRemoteSubnets(s), path + ".remote_subnets[" + s + "]");
      }
      if (!vpn.getLocalCertificate().isEmpty()) {
        // certificate authentication: no key to reference (the device checks the PEM itself)
        if (!vpn.getPskRef().isEmpty()) {
          add(path + ".psk_ref", INVALID_VALUE, "give either a pre-shared key or a certificate, not both");
        }
      } else if (vpn.getPskRef().isEmpty()) {
        add(path + ".psk_ref", MISSING_VALUE, "name the config item that holds the pre-shared key");
      } else {
        reference(configItemKeys, vpn.getPskRef(), path + ".psk_ref", "config item");
      }
    }

    private void checkApps() {
      Set<String> appUuids = new HashSet<>();
      for (int i = 0; i < config.getAppsCount(); i++) {
        AppInstanceConfig app = config.getApps(i);
        String path = "apps[" + i + "]";
        objectId(app.getId(), path, appUuids);
        printable(app.getDisplayName(), path + ".display_name");
        for (int v = 0; v < app.getInterfacesCount(); v++) {
          checkVif(app.getInterfaces(v), path + ".interfaces[" + v + "]");
        }
        for (int a = 0; a < app.getAdaptersCount(); a++) {
          Adapter adapter = app.getAdapters(a);
          reference(passthroughNames, adapter.getName(), path + ".adapters[" + a + "].name", "device I/O (label or assign group)");
        }
        if (app.hasBoot()) {
          checkBoot(app.getBoot(), path + ".boot");
        }
        int userDataBytes = app.getUserDataBytes().size();
        if (userDataBytes > MAX_USER_DATA_BYTES) {
          add(path + ".user_data", TOO_LARGE, "user data is " + userDataBytes + " bytes; the limit is "
              + MAX_USER_DATA_BYTES + " (32 KiB)");
        }
      }
    }

    /**
     * A boot source names exactly one image, by path (absolute, or relative to the device's image
     * store) or by content hash.
     */
    private void checkBoot(dev.verge.proto.config.v1.BootSource boot, String path) {
      switch (boot.getSourceCase()) {
        case DISK -> {
          var disk = boot.getDisk();
          boolean byPath = !disk.getPath().isEmpty();
          boolean byHash = !disk.getSha256().isEmpty();
          if (byPath == byHash) {
            add(path + ".disk", byPath ? INVALID_VALUE : MISSING_VALUE,
                "a disk image is named by exactly one of path and sha256");
          }
          if (byPath) {
            absolutePath(disk.getPath(), path + ".disk.path");
          }
          if (byHash && !disk.getSha256().matches("[0-9a-f]{64}")) {
            add(path + ".disk.sha256", INVALID_VALUE, "a sha256 is 64 lower-case hex digits, not " + disk.getSha256());
          }
        }
        case KERNEL -> {
          var kernel = boot.getKernel();
          if (kernel.getKernel().isEmpty()) {
            add(path + ".kernel.kernel", MISSING_VALUE, "a kernel boot needs the kernel's path");
          } else {
            absolutePath(kernel.getKernel(), path + ".kernel.kernel");
          }
          if (!kernel.getInitrd().isEmpty()) {
            absolutePath(kernel.getInitrd(), path + ".kernel.initrd");
          }
          printable(kernel.getCmdline(), path + ".kernel.cmdline");
        }
        case SOURCE_NOT_SET -> add(path, MISSING_VALUE, "a boot source is a disk or a kernel");
      }
    }

    /** An image path: absolute, or relative to the device's image store; never climbing out with "..". */
    private void absolutePath(String value, String path) {
      if (java.util.Arrays.asList(value.split("/")).contains("..") || value.indexOf('\0') >= 0) {
        add(path, INVALID_VALUE, "a path without '..' (absolute, or relative to the image store) is needed, not " + value);
      }
    }

    private void checkVif(NetworkAdapter vif, String path) {
      NetworkInstanceConfig ni = instances.get(vif.getNetworkId());
      if (vif.getNetworkId().isEmpty()) {
        add(path + ".network_id", MISSING_VALUE, "a VIF needs a network instance");
      } else if (ni == null) {
        add(path + ".network_id", UNKNOWN_REFERENCE, "no network instance " + vif.getNetworkId());
      }
      if (!vif.getAddr().isEmpty()) {
        Optional<InetAddress> address = ip(vif.getAddr(), path + ".addr");
        Optional<IpText.Prefix> subnet = ni == null ? Optional.empty() : IpText.prefix(ni.getIp().getSubnet());
        if (address.isPresent() && subnet.isPresent() && !subnet.get().contains(address.get())) {
          add(path + ".addr", INVALID_VALUE, vif.getAddr() + " is outside the network instance subnet " + ni.getIp().getSubnet());
        } else if (address.isPresent() && subnet.isPresent()) {
          java.math.BigInteger value = new java.math.BigInteger(1, address.get().getAddress());
          boolean v4 = subnet.get().bits() == 32;
          if (value.equals(subnet.get().first()) || (v4 && value.equals(subnet.get().last()))) {
            add(path + ".addr", INVALID_VALUE, vif.getAddr() + " is the " + (value.equals(subnet.get().first()) ? "network" : "broadcast")
                + " address of " + ni.getIp().getSubnet());
          } else if (vif.getAddr().equals(ni.getIp().getGateway())) {
            add(path + ".addr", INVALID_VALUE, vif.getAddr() + " is the network instance's gateway");
          }
        }
      }
      mac(vif.getMac(), path + ".mac");
      vlanId(vif.getAccessVlanId(), path + ".access_vlan_id", true);
      for (int a = 0; a < vif.getAclsCount(); a++) {
        checkAce(vif.getAcls(a), path + ".acls[" + a + "]");
      }
    }

    private void checkAce(Ace ace, String path) {
      if (ace.getId() > 0xFFFFFF) {
        add(path + ".id", INVALID_VALUE, "ACE id is 24-bit (1..16777215)");
      }
      boolean hasProtocol = false;
      boolean hasLport = false;
      for (int m = 0; m < ace.getMatchesCount(); m++) {
        AceMatch match = ace.getMatches(m);
        String mPath = path + ".matches[" + m + "]";
        switch (match.getType()) {
          case "ip" -> {
            if (IpText.prefix(match.getValue()).isEmpty() && IpText.address(match.getValue()).isEmpty()) {
              add(mPath + ".value", INVALID_VALUE, "'" + match.getValue() + "' is not an IP address or prefix");
            }
          }
          case "protocol" -> {
            hasProtocol = true;
            if (!match.getValue().matches("tcp|udp|icmp|icmpv6|0|[1-9]\\d{0,2}") || (match.getValue().matches("\\d+")
                && Integer.parseInt(match.getValue()) > 255)) {
              add(mPath + ".value", INVALID_VALUE, "protocol is tcp, udp, icmp, icmpv6 or a number 0..255, not '" + match.getValue() + "'");
            }
          }
          case "lport", "fport" -> {
            hasLport |= match.getType().equals("lport");
            port(match.getValue(), mPath + ".value");
          }
          case "adapter" -> reference(portLabels, match.getValue(), mPath + ".value", "port label");
          default -> {
            if (!ACE_MATCH_TYPES.contains(match.getType())) {
              add(mPath + ".type", INVALID_VALUE, "match type '" + match.getType() + "' is not one of " + ACE_MATCH_TYPES.stream().sorted().toList());
            }
          }
        }
      }
      for (int a = 0; a < ace.getActionsCount(); a++) {
        AceAction action = ace.getActions(a);
        String aPath = path + ".actions[" + a + "]";
        if (action.getLimit()) {
          if (action.getLimitRate() == 0) {
            add(aPath + ".limit_rate", MISSING_VALUE, "a rate limit needs a rate above 0");
          }
          if (!Set.of("s", "m", "h").contains(action.getLimitUnit())) {
            add(aPath + ".limit_unit", INVALID_VALUE, "limit unit is s, m or h, not '" + action.getLimitUnit() + "'");
          }
        }
        if (action.getPortmap()) {
          if (!hasProtocol || !hasLport) {
            add(aPath + ".portmap", INVALID_VALUE, "a port map needs 'protocol' and 'lport' matches in the same ACE");
          }
          if (action.getAppPort() < 1 || action.getAppPort() > 65535) {
            add(aPath + ".app_port", INVALID_VALUE, "app_port is 1..65535");
          }
        }
      }
    }

    private void ipSpec(IpSpec spec, String path, boolean subnetRequired) {
      Optional<IpText.Prefix> subnet = Optional.empty();
      if (!spec.getSubnet().isEmpty()) {
        subnet = prefix(spec.getSubnet(), path + ".subnet");
        Optional<IpText.AddressAndLength> written = IpText.addressAndLength(spec.getSubnet(), false);
        if (subnet.isPresent() && written.isPresent()
            && !new java.math.BigInteger(1, written.get().address().getAddress()).equals(subnet.get().first())) {
          add(path + ".subnet", INVALID_VALUE, "'" + spec.getSubnet() + "' has host bits set; the network is "
              + subnetText(subnet.get()));
        } else if (subnet.isPresent() && subnetRequired && subnet.get().length() > subnet.get().bits() - 2) {
          add(path + ".subnet", INVALID_VALUE, "'" + spec.getSubnet() + "' leaves no address for the gateway and a host (at most /"
              + (subnet.get().bits() - 2) + ")");
        }
      } else if (subnetRequired) {
        add(path + ".subnet", MISSING_VALUE, "a local or VPN network instance needs a subnet");
      }
      if (!spec.getGateway().isEmpty()) {
        Optional<InetAddress> gateway = ip(spec.getGateway(), path + ".gateway");
        gateway.ifPresent(g -> unicast(g, path + ".gateway"));
        if (gateway.isPresent() && subnet.isPresent() && !subnet.get().contains(gateway.get())) {
          add(path + ".gateway", INVALID_VALUE, spec.getGateway() + " is outside subnet " + spec.getSubnet());
        }
      }
      for (int d = 0; d < spec.getDnsCount(); d++) {
        ip(spec.getDns(d), path + ".dns[" + d + "]");
      }
      if (!spec.getDomain().isEmpty()) {
        hostName(spec.getDomain(), path + ".domain");
      }
      for (int n = 0; n < spec.getNtpCount(); n++) {
        hostOrAddress(spec.getNtp(n), path + ".ntp[" + n + "]");
      }
      if (spec.hasDhcpRange()) {
        Optional<InetAddress> start = ip(spec.getDhcpRange().getStart(), path + ".dhcp_range.start");
        Optional<InetAddress> end = ip(spec.getDhcpRange().getEnd(), path + ".dhcp_range.end");
        if (start.isPresent() && subnet.isPresent() && !subnet.get().contains(start.get())) {
          add(path + ".dhcp_range.start", INVALID_VALUE, "range start is outside subnet " + spec.getSubnet());
        } else if (end.isPresent() && subnet.isPresent() && !subnet.get().contains(end.get())) {
          add(path + ".dhcp_range.end", INVALID_VALUE, "range end is outside subnet " + spec.getSubnet());
        } else if (start.isPresent() && end.isPresent()
            && new java.math.BigInteger(1, start.get().getAddress()).compareTo(new java.math.BigInteger(1, end.get().getAddress())) > 0) {
          add(path + ".dhcp_range.end", INVALID_VALUE, "range end is before its start");
        }
      }
    }

    private void objectId(UuidAndVersion id, String path, Set<String> seen) {
      if (id.getUuid().isEmpty()) {
        add(path + ".id.uuid", MISSING_VALUE, "every object needs a UUID");
      } else if (uuid(id.getUuid(), path + ".id.uuid") && seen != null && !seen.add(id.getUuid())) {
        add(path + ".id.uuid", DUPLICATE, id.getUuid() + " is used twice");
      }
    }

    private boolean uuid(String text, String path) {
      try {
        if (UUID.fromString(text).toString().equals(text.toLowerCase())) {
          return true;
        }
      } catch (IllegalArgumentException e) {
        // fall through: reported below
      }
      add(path, INVALID_VALUE, "'" + text + "' is not a UUID");
      return false;
    }

    private void uniqueLabel(String label, String path) {
      if (label.isEmpty()) {
        add(path, MISSING_VALUE, "a logical label is required");
      } else if (!lowerLayerLabels.add(label)) {
        add(path, DUPLICATE, "logical label '" + label + "' is used twice");
      }
    }

    private void reference(Set<String> known, String name, String path, String what) {
      if (name.isEmpty()) {
        add(path, MISSING_VALUE, "a " + what + " is required");
      } else if (!known.contains(name)) {
        add(path, UNKNOWN_REFERENCE, "no " + what + " '" + name + "'");
      }
    }

    private Optional<InetAddress> ip(String text, String path) {
      Optional<InetAddress> address = IpText.address(text);
      if (address.isEmpty()) {
        add(path, INVALID_VALUE, "'" + text + "' is not an IP address");
      }
      return address;
    }

    private Optional<IpText.Prefix> prefix(String text, String path) {
      Optional<IpText.Prefix> prefix = IpText.prefix(text);
      if (prefix.isEmpty()) {
        add(path, INVALID_VALUE, "'" + text + "' is not an IP prefix (address/length)");
      }
      return prefix;
    }

    private void port(String text, String path) {
      if (!text.matches("\\d{1,5}") || Integer.parseInt(text) < 1 || Integer.parseInt(text) > 65535) {
        add(path, INVALID_VALUE, "'" + text + "' is not a port (1..65535)");
      }
    }

    private void vlanId(int id, String path, boolean zeroAllowed) {
      if ((id == 0 && !zeroAllowed) || id < 0 || id > 4094) {
        add(path, INVALID_VALUE, "VLAN id is " + (zeroAllowed ? "0 (none) or " : "") + "1..4094, not " + Integer.toUnsignedString(id));
      }
    }

    private void mtu(int mtu, String path) {
      if (mtu != 0 && (mtu < 68 || mtu > 65535)) {
        add(path, INVALID_VALUE, "MTU is 0 (default) or 68..65535, not " + Integer.toUnsignedString(mtu));
      }
    }

    private void mac(String text, String path) {
      if (text.isEmpty()) {
        return;
      }
      if (!text.matches("([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}")) {
        add(path, INVALID_VALUE, "'" + text + "' is not a MAC address (aa:bb:cc:dd:ee:ff)");
      } else if ((Integer.parseInt(text.substring(0, 2), 16) & 1) != 0) {
        add(path, INVALID_VALUE, "'" + text + "' is a multicast MAC address; an interface needs a unicast one");
      } else if (text.equals("00:00:00:00:00:00")) {
        add(path, INVALID_VALUE, "00:00:00:00:00:00 is not an interface address");
      }
    }

    /** An address a host or a gateway can have: not multicast, unspecified, loopback or broadcast. */
    private void unicast(InetAddress address, String path) {
      boolean broadcast = address.getAddress().length == 4 && java.util.Arrays.equals(address.getAddress(), new byte[] {-1, -1, -1, -1});
      if (address.isMulticastAddress() || address.isAnyLocalAddress() || address.isLoopbackAddress() || broadcast) {
        add(path, INVALID_VALUE, address.getHostAddress() + " is not a unicast address");
      }
    }

    /** A DNS name (RFC 1123 labels), so nothing else reaches a dnsmasq or strongSwan config line. */
    private void hostName(String text, String path) {
      if (text.isEmpty()) {
        add(path, MISSING_VALUE, "a host name is required");
      } else if (text.length() > 253 || !HOST_NAME.matcher(text).matches()) {
        add(path, INVALID_VALUE, "'" + shortened(text) + "' is not a host name (letters, digits, '-' and '.', at most 253)");
      }
    }

    private void hostOrAddress(String text, String path) {
      if (IpText.address(text).isEmpty()) {
        hostName(text, path);
      }
    }

    private void proposal(String text, String path) {
      if (!text.matches("[a-z0-9_-]{1,128}")) {
        add(path, INVALID_VALUE, "'" + shortened(text) + "' is not a proposal (lower-case letters, digits, '-' and '_')");
      }
    }

    /** Free text that ends up in logs and config files: no control characters. */
    private void printable(String text, String path) {
      if (text.chars().anyMatch(Character::isISOControl)) {
        add(path, INVALID_VALUE, "control characters are not allowed here");
      }
    }

    private String subnetText(IpText.Prefix prefix) {
      byte[] raw = prefix.first().toByteArray();
      byte[] bytes = new byte[prefix.bits() / 8];
      System.arraycopy(raw, Math.max(0, raw.length - bytes.length), bytes, Math.max(0, bytes.length - raw.length),
          Math.min(raw.length, bytes.length));
      try {
        return InetAddress.getByAddress(bytes).getHostAddress() + "/" + prefix.length();
      } catch (java.net.UnknownHostException e) {
        throw new IllegalStateException(e);
      }
    }

    private String shortened(String text) {
      return text.length() > 40 ? text.substring(0, 40) + "..." : text;
    }

    private void add(String path, String reason, String description) {
      out.add(new ConfigViolation(path, reason, description));
    }
  }
}
