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
  void errnosAreKnownByNumberAndUnknownOnesKeepTheirNumber() {
    assertThat(Errno.of(-95)).isEqualTo(Errno.EOPNOTSUPP);
    assertThat(Errno.of(200).name()).isEqualTo("E200");
  }
}
