package dev.verge.hostos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class IpPrefixTest {
  @Test
  void theNetworkOfAPrefixClearsTheHostBits() {
    assertThat(IpPrefix.parse("192.0.2.77/24").network()).isEqualTo(IpPrefix.parse("192.0.2.0/24"));
    assertThat(IpPrefix.parse("2001:db8::1/32").network()).isEqualTo(IpPrefix.parse("2001:db8::/32"));
  }

  @Test
  void aPrefixContainsExactlyTheAddressesThatShareItsLeadingBits() {
    IpPrefix prefix = IpPrefix.parse("192.0.2.0/25");
    assertThat(prefix.contains(IpPrefix.literal("192.0.2.127"))).isTrue();
    assertThat(prefix.contains(IpPrefix.literal("192.0.2.128"))).isFalse();
    assertThat(IpPrefix.parse("0.0.0.0/0").contains(IpPrefix.literal("203.0.113.1"))).isTrue();
    assertThat(prefix.contains(IpPrefix.literal("::1"))).isFalse();
  }

  @Test
  void hostNamesAndBadLengthsAreRefusedWithoutAskingDns() {
    assertThatThrownBy(() -> IpPrefix.parse("example.com/24")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> IpPrefix.parse("192.0.2.1/33")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void textThatInetAddressWouldReinterpretIsRefused() {
    // InetAddress reads "10.1" as 10.0.0.1 and looks "999.1.1.1" up in DNS
    for (String bad : new String[] {"10.1", "10.1/16", "999.1.1.1", "999.1.1.1/8", "1.2.3.4/33",
        "010.1.1.1", "fe80::1%eth0/64", "2001:db8::/129", "1.2.3.4/", "cafe.beef"}) {
      assertThatThrownBy(() -> IpPrefix.parse(bad)).as(bad)
          .isInstanceOf(IllegalArgumentException.class).hasMessage("not an IP prefix: " + bad);
    }
    assertThatThrownBy(() -> IpPrefix.literal("10.1")).hasMessage("not an IP address: 10.1");
    assertThatThrownBy(() -> IpPrefix.literal("192.0.2.1/24")).hasMessage("not an IP address: 192.0.2.1/24");
  }

  @Test
  void ipv6FormsParseToTheirSixteenBytesAndKeepTheirFamily() {
    assertThat(IpPrefix.parse("2001:db8::1/64").toString()).isEqualTo("2001:db8:0:0:0:0:0:1/64");
    assertThat(IpPrefix.parse("::/0").length()).isZero();
    assertThat(IpPrefix.parse("::1").length()).isEqualTo(128);
    IpPrefix mapped = IpPrefix.parse("::ffff:192.0.2.1/128");
    assertThat(mapped.isIpv4()).isFalse();
    assertThat(mapped.network()).isEqualTo(mapped);
    assertThat(IpPrefix.parse("::ffff:192.0.2.1/96").network().toString()).isEqualTo("0:0:0:0:0:ffff:0:0/96");
    assertThat(IpPrefix.parse("192.0.2.1").length()).isEqualTo(32);
  }

  @Test
  void errnosAreKnownByNumberAndUnknownOnesKeepTheirNumber() {
    assertThat(Errno.of(-95)).isEqualTo(Errno.EOPNOTSUPP);
    assertThat(Errno.of(200).name()).isEqualTo("E200");
  }
}
