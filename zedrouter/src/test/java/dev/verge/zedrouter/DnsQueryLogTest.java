package dev.verge.zedrouter;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** dnsmasq 2.90's log-queries=extra lines (as captured from a real one) into DNS requests. */
class DnsQueryLogTest {
  final DnsQueryLog log = new DnsQueryLog();
  final List<String> requests = new ArrayList<>();

  private void line(String bridge, String text) {
    log.onLine(bridge, text, 1000).forEach(r -> requests.add(describe(r)));
  }

  private static String describe(DnsQueryLog.Request r) {
    return r.clientIp() + " " + r.request().getHostName() + " " + r.request().getAddrsList();
  }

  @Test
  void aQueryAndItsAnswersBecomeOneRequestOfTheClientWhenTheNextQueryComes() {
    line("bn1", "dnsmasq[12387]: 1 10.1.0.128/51971 query[A] example.com from 10.1.0.128");
    line("bn1", "dnsmasq[12387]: 1 10.1.0.128/51971 forwarded example.com to 192.0.2.1");
    line("bn1", "dnsmasq[12387]: 1 10.1.0.128/51971 reply example.com is 93.184.216.34");
    line("bn1", "dnsmasq[12387]: 1 10.1.0.128/51971 reply example.com is 93.184.216.35");
    assertThat(requests).isEmpty();
    line("bn1", "dnsmasq[12387]: 2 10.1.0.129/56977 query[A] printer from 10.1.0.129");
    line("bn1", "dnsmasq[12387]: 2 10.1.0.129/56977 /run/dnsmasq-bn1/hosts/printer printer is 10.1.0.5");
    line("bn1", "dnsmasq[12387]: 3 10.1.0.129/40835 query[A] nosuch.test from 10.1.0.129");
    line("bn1", "dnsmasq[12387]: 3 10.1.0.129/40835 reply nosuch.test is NXDOMAIN");
    assertThat(requests).containsExactly("10.1.0.128 example.com [93.184.216.34, 93.184.216.35]",
        "10.1.0.129 printer [10.1.0.5]");
    assertThat(log.drain()).extracting(DnsQueryLogTest::describe).containsExactly("10.1.0.129 nosuch.test []");
    assertThat(log.drain()).isEmpty();
  }

  @Test
  void serialNumbersArePerDnsmasqAndOtherLinesAreIgnored() {
    line("bn1", "dnsmasq[1]: 1 10.1.0.128/5000 query[A] a.example from 10.1.0.128");
    line("bn2", "dnsmasq[2]: 1 10.2.0.128/5000 query[A] b.example from 10.2.0.128");
    line("bn2", "dnsmasq[2]: 1 10.2.0.128/5000 reply b.example is 198.51.100.2");
    line("bn1", "dnsmasq[1]: 1 10.1.0.128/5000 reply a.example is 198.51.100.1");
    line("bn1", "dnsmasq-dhcp[1]: DHCPACK(bn1) 10.1.0.128 02:16:3e:00:00:01 web");
    line("bn1", "dnsmasq[1]: started, version 2.90 cachesize 150");
    assertThat(requests).isEmpty();
    assertThat(log.drain()).extracting(DnsQueryLogTest::describe)
        .containsExactly("10.1.0.128 a.example [198.51.100.1]", "10.2.0.128 b.example [198.51.100.2]");
  }
}
