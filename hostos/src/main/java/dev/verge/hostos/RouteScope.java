package dev.verge.hostos;

/**
 * How far a route's destination is (rtm_scope), numbered as the kernel numbers them. IPv6 routes
 * are always {@link #UNIVERSE}: the kernel neither keeps nor reports a scope for them.
 */
public enum RouteScope {
  /** Reached through a gateway or anywhere. */
  UNIVERSE(0),
  SITE(200),
  /** Directly on the link: no gateway (connected routes, routes through a device). */
  LINK(253),
  /** On this host (local addresses). */
  HOST(254),
  /** No destination (only used to ask for any scope when deleting). */
  NOWHERE(255);

  private final int code;

  RouteScope(int code) {
    this.code = code;
  }

  public int code() {
    return code;
  }

  /** The scope of a code; codes without a name here (user-defined scopes) read as UNIVERSE. */
  public static RouteScope of(int code) {
    for (RouteScope scope : values()) {
      if (scope.code == code) {
        return scope;
      }
    }
    return UNIVERSE;
  }
}
