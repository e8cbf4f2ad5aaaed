package dev.verge.zedrouter;

import dev.verge.hostos.IpPrefix;
import dev.verge.proto.flowlog.v1.DnsRequest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The apps' DNS requests, from the log of their NI's dnsmasq ({@code log-queries=extra}, which
 * numbers each query and tags its answers with the same number and client): a query and the
 * addresses answered for it become one {@link DnsRequest} of the client's VIF. Answers that are no
 * address (NXDOMAIN, NODATA, errors, CNAME steps) leave the request without addresses. Runs on the
 * agent's loop; bounded.
 */
final class DnsQueryLog {
  /** Queries waiting for their answers, per dnsmasq; beyond it the oldest is taken as answered. */
  static final int MAX_OPEN_QUERIES = 4096;

  // "5 10.1.0.128/40835 query[A] example.com from 10.1.0.128"
  // "5 10.1.0.128/40835 reply example.com is 93.184.216.34" (or cached, config, a hosts file path)
  private static final Pattern LINE = Pattern.compile(
      "^dnsmasq\\[\\d+\\]: (\\d+) ([0-9.]+)/\\d+ (\\S+) (\\S+) (?:from \\S+|is (\\S+))$");

  /** A request read from the log. */
  record Request(String clientIp, DnsRequest request) {}

  private record Open(String clientIp, DnsRequest.Builder request) {}

  private final Map<String, Open> open = new LinkedHashMap<>();

  /**
   * One line of a dnsmasq's output; returns the requests it completes (a query's answers are
   * complete when the same dnsmasq logs another query).
   *
   * @param bridge whose dnsmasq wrote it (serial numbers are per dnsmasq)
   */
  List<Request> onLine(String bridge, String line, long nowMs) {
    Matcher m = LINE.matcher(line.trim());
    if (!m.matches()) {
      return List.of();
    }
    String key = bridge + "#" + m.group(1);
    String kind = m.group(3);
    List<Request> done = new ArrayList<>();
    if (kind.startsWith("query[")) {
      // a new query: those before it from this dnsmasq have had their answers
      for (String k : List.copyOf(open.keySet())) {
        if (k.startsWith(bridge + "#") && !k.equals(key)) {
          done.add(close(k));
        }
      }
      if (open.size() >= MAX_OPEN_QUERIES) {
        done.add(close(open.keySet().iterator().next()));
      }
      open.putIfAbsent(key, new Open(m.group(2), DnsRequest.newBuilder().setHostName(m.group(4))
          .setRequestTimeMs(nowMs)));
      return done;
    }
    Open query = open.get(key);
    String answer = m.group(5);
    if (query != null && answer != null && isAddress(answer) && !query.request().getAddrsList().contains(answer)) {
      query.request().addAddrs(answer);
    }
    return done;
  }

  /** Every request still open (at a flush: its answers have long come). */
  List<Request> drain() {
    List<Request> done = new ArrayList<>();
    for (String k : List.copyOf(open.keySet())) {
      done.add(close(k));
    }
    return done;
  }

  private Request close(String key) {
    Open query = open.remove(key);
    return new Request(query.clientIp(), query.request().build());
  }

  private static boolean isAddress(String text) {
    try {
      IpPrefix.literal(text);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }
}
