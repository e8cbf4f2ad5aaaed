package dev.verge.hostos.nft;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** Something read from the packet or its connection: the left side of a match. */
public sealed interface Field extends Expr {
  /** The type of what the field yields; a set it is looked up in must have the same key type. */
  List<DataType> dataTypes();

  /** {@code meta <key>}. */
  record Meta(MetaKey key) implements Field {
    @Override
    public List<DataType> dataTypes() {
      return List.of(key.dataType);
    }
  }

  /** A header field, e.g. {@code ip saddr} or {@code tcp dport}. */
  record Payload(PayloadField field) implements Field {
    @Override
    public List<DataType> dataTypes() {
      return List.of(field.dataType);
    }
  }

  /** {@code ct <key>}: the packet's connection. */
  record Ct(CtKey key) implements Field {
    @Override
    public List<DataType> dataTypes() {
      return List.of(key.dataType);
    }
  }

  /** {@code tcp option <name> <field>}: a field of a TCP option, e.g. the MSS of a SYN. */
  record TcpOption(String name, String field) implements Field {
    public TcpOption {
      if (!"maxseg".equals(name) || !"size".equals(field)) {
        throw new IllegalArgumentException("unsupported tcp option " + name + " " + field + " (the model has maxseg size)");
      }
    }

    @Override
    public List<DataType> dataTypes() {
      return List.of(DataType.INTEGER);
    }
  }

  /**
   * {@code rt <key>}: what the route of the packet says; {@code rt mtu} is the TCP MSS the route's
   * MTU allows (the MTU less the IP and TCP headers), as the kernel's NFT_RT_TCPMSS.
   */
  record Rt(String key) implements Field {
    public Rt {
      if (!"mtu".equals(key)) {
        throw new IllegalArgumentException("unsupported rt key " + key + " (the model has mtu)");
      }
    }

    @Override
    public List<DataType> dataTypes() {
      return List.of(DataType.INTEGER);
    }
  }

  /** {@code <field> and <mask>}, e.g. the bits of a mark. */
  record Masked(Field field, long mask) implements Field {
    @Override
    public List<DataType> dataTypes() {
      return field.dataTypes();
    }
  }

  /** {@code a . b}: several fields looked up together in a set of concatenated keys. */
  record Concat(List<Field> fields) implements Field {
    public Concat {
      fields = List.copyOf(fields);
    }

    @Override
    public List<DataType> dataTypes() {
      return fields.stream().flatMap(f -> f.dataTypes().stream()).toList();
    }
  }

  Field IIFNAME = new Meta(MetaKey.IIFNAME);
  Field OIFNAME = new Meta(MetaKey.OIFNAME);
  Field L4PROTO = new Meta(MetaKey.L4PROTO);
  Field MARK = new Meta(MetaKey.MARK);
  Field NFPROTO = new Meta(MetaKey.NFPROTO);
  /** The frame's EtherType as the kernel keeps it: of the payload, also when a VLAN tag was stripped off. */
  Field META_PROTOCOL = new Meta(MetaKey.PROTOCOL);
  Field IP_SADDR = new Payload(PayloadField.IP_SADDR);
  Field IP_DADDR = new Payload(PayloadField.IP_DADDR);
  Field IP_PROTOCOL = new Payload(PayloadField.IP_PROTOCOL);
  Field IP6_SADDR = new Payload(PayloadField.IP6_SADDR);
  Field IP6_DADDR = new Payload(PayloadField.IP6_DADDR);
  Field TCP_SPORT = new Payload(PayloadField.TCP_SPORT);
  Field TCP_FLAGS = new Payload(PayloadField.TCP_FLAGS);
  Field TCP_OPTION_MAXSEG_SIZE = new TcpOption("maxseg", "size");
  Field RT_MTU = new Rt("mtu");
  Field TCP_DPORT = new Payload(PayloadField.TCP_DPORT);
  Field UDP_SPORT = new Payload(PayloadField.UDP_SPORT);
  Field UDP_DPORT = new Payload(PayloadField.UDP_DPORT);
  Field TH_SPORT = new Payload(PayloadField.TH_SPORT);
  Field TH_DPORT = new Payload(PayloadField.TH_DPORT);
  Field ICMP_TYPE = new Payload(PayloadField.ICMP_TYPE);
  Field ICMPV6_TYPE = new Payload(PayloadField.ICMPV6_TYPE);
  Field ETHER_SADDR = new Payload(PayloadField.ETHER_SADDR);
  Field ETHER_DADDR = new Payload(PayloadField.ETHER_DADDR);
  Field ETHER_TYPE = new Payload(PayloadField.ETHER_TYPE);
  Field CT_STATE = new Ct(CtKey.STATE);
  Field CT_STATUS = new Ct(CtKey.STATUS);
  Field CT_MARK = new Ct(CtKey.MARK);

  static Field concat(Field... fields) {
    return new Concat(List.of(fields));
  }

  static Field masked(Field field, long mask) {
    return new Masked(field, mask);
  }

  enum MetaKey {
    IIFNAME(DataType.IFNAME),
    OIFNAME(DataType.IFNAME),
    L4PROTO(DataType.INET_PROTO),
    MARK(DataType.MARK),
    NFPROTO(DataType.NFPROTO),
    PROTOCOL(DataType.ETHER_TYPE);

    private final DataType dataType;

    MetaKey(DataType dataType) {
      this.dataType = dataType;
    }

    public String nftName() {
      return name().toLowerCase(Locale.ROOT);
    }

    public static MetaKey of(String nftName) {
      return Arrays.stream(values()).filter(k -> k.nftName().equals(nftName)).findFirst()
          .orElseThrow(() -> new IllegalArgumentException("unsupported meta key " + nftName));
    }
  }

  enum CtKey {
    STATE(DataType.CT_STATE),
    STATUS(DataType.CT_STATUS),
    MARK(DataType.MARK);

    private final DataType dataType;

    CtKey(DataType dataType) {
      this.dataType = dataType;
    }

    public String nftName() {
      return name().toLowerCase(Locale.ROOT);
    }

    public static CtKey of(String nftName) {
      return Arrays.stream(values()).filter(k -> k.nftName().equals(nftName)).findFirst()
          .orElseThrow(() -> new IllegalArgumentException("unsupported ct key " + nftName));
    }
  }

  /** The header fields the model covers; {@code th} is the transport header of TCP or UDP. */
  enum PayloadField {
    IP_SADDR("ip", "saddr", DataType.IPV4_ADDR),
    IP_DADDR("ip", "daddr", DataType.IPV4_ADDR),
    IP_PROTOCOL("ip", "protocol", DataType.INET_PROTO),
    IP6_SADDR("ip6", "saddr", DataType.IPV6_ADDR),
    IP6_DADDR("ip6", "daddr", DataType.IPV6_ADDR),
    TCP_SPORT("tcp", "sport", DataType.INET_SERVICE),
    TCP_DPORT("tcp", "dport", DataType.INET_SERVICE),
    TCP_FLAGS("tcp", "flags", DataType.TCP_FLAG),
    UDP_SPORT("udp", "sport", DataType.INET_SERVICE),
    UDP_DPORT("udp", "dport", DataType.INET_SERVICE),
    TH_SPORT("th", "sport", DataType.INET_SERVICE),
    TH_DPORT("th", "dport", DataType.INET_SERVICE),
    ICMP_TYPE("icmp", "type", DataType.ICMP_TYPE),
    ICMPV6_TYPE("icmpv6", "type", DataType.ICMPV6_TYPE),
    ETHER_SADDR("ether", "saddr", DataType.ETHER_ADDR),
    ETHER_DADDR("ether", "daddr", DataType.ETHER_ADDR),
    ETHER_TYPE("ether", "type", DataType.ETHER_TYPE);

    private final String protocol;
    private final String field;
    private final DataType dataType;

    PayloadField(String protocol, String field, DataType dataType) {
      this.protocol = protocol;
      this.field = field;
      this.dataType = dataType;
    }

    public String protocol() {
      return protocol;
    }

    public String field() {
      return field;
    }

    public static PayloadField of(String protocol, String field) {
      return Arrays.stream(values())
          .filter(p -> p.protocol.equals(protocol) && p.field.equals(field))
          .findFirst()
          .orElseThrow(() -> new IllegalArgumentException("unsupported payload " + protocol + " " + field));
    }
  }
}
