package dev.verge.hostos.nft;

import java.util.Arrays;

/** nft's data types of set keys, map data and match operands. */
public enum DataType {
  IPV4_ADDR("ipv4_addr", "IPv4 address"),
  IPV6_ADDR("ipv6_addr", "IPv6 address"),
  INET_SERVICE("inet_service", "internet network service"),
  IFNAME("ifname", "network interface name"),
  ETHER_ADDR("ether_addr", "Ethernet address"),
  ETHER_TYPE("ether_type", "Ethernet protocol"),
  MARK("mark", "packet mark"),
  INET_PROTO("inet_proto", "Internet protocol"),
  ICMP_TYPE("icmp_type", "ICMP type"),
  ICMPV6_TYPE("icmpv6_type", "ICMPv6 type"),
  CT_STATE("ct_state", "conntrack state"),
  CT_STATUS("ct_status", "conntrack status"),
  NFPROTO("nf_proto", "netfilter protocol"),
  TCP_FLAG("tcp_flag", "TCP flag"),
  INTEGER("integer", "integer"),
  VERDICT("verdict", "netfilter verdict");

  private final String nftName;
  private final String description;

  DataType(String nftName, String description) {
    this.nftName = nftName;
    this.description = description;
  }

  public String nftName() {
    return nftName;
  }

  /** How nft names the type in its error messages. */
  public String description() {
    return description;
  }

  public static DataType of(String nftName) {
    return Arrays.stream(values())
        .filter(t -> t.nftName.equals(nftName))
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException("unknown nftables data type " + nftName));
  }
}
