package dev.verge.hostos;

/** Route types, numbered as the kernel numbers them (rtm_type). */
public enum RouteType {
  UNSPEC, UNICAST, LOCAL, BROADCAST, ANYCAST, MULTICAST, BLACKHOLE, UNREACHABLE, PROHIBIT, THROW, NAT;

  public int code() {
    return ordinal();
  }

  public static RouteType of(int code) {
    RouteType[] all = values();
    return code >= 0 && code < all.length ? all[code] : UNSPEC;
  }
}
