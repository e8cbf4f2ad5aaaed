package dev.verge.hostos;

import java.util.List;

/** Routes in any table. */
public interface Routes {
  void addRoute(RouteRequest route);

  /**
   * Adds the route or, if its table already has a route to the same destination with the same
   * metric, replaces that one, in one step (NLM_F_REPLACE): no moment without a route. Subscribers
   * hear a NEW route only, as from the kernel; it takes the place of the one it replaced
   * ({@link Route#sameSlotAs}).
   */
  void replaceRoute(RouteRequest route);

  /** Deletes the route; a gateway, device or metric left out matches any, the protocol is not compared. */
  void deleteRoute(RouteRequest route);

  /** The IPv4 and IPv6 routes of one table. */
  List<Route> routes(int table);
}
