package dev.verge.hostos;

import java.util.List;

/** Routes in any table. */
public interface Routes {
  void addRoute(RouteRequest route);

  void deleteRoute(RouteRequest route);

  /** The IPv4 and IPv6 routes of one table. */
  List<Route> routes(int table);
}
