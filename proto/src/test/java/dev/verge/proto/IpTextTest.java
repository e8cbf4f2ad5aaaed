package dev.verge.proto;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class IpTextTest {
  private static String text(String literal) {
    return IpText.address(literal).map(InetAddress::getHostAddress).orElse("rejected");
  }

  @Test
  void ipv4IsExactlyFourDecimalOctetsWithoutLeadingZeros() {
    assertThat(text("192.0.2.1")).isEqualTo("192.0.2.1");
    assertThat(text("0.0.0.0")).isEqualTo("0.0.0.0");
    assertThat(text("255.255.255.255")).isEqualTo("255.255.255.255");
    assertThat(IpText.address("192.0.2.1").orElseThrow()).isInstanceOf(Inet4Address.class);
    // what InetAddress would reinterpret or look up in DNS
    for (String bad : new String[] {"10.1", "10.1.2", "10", "999.1.1.1", "1.2.3.256", "010.1.1.1",
        "1.2.3.4.5", "1..2.3", "1.2.3.", " 1.2.3.4", "1.2.3.4 ", "0x7f.0.0.1", "+1.2.3.4", "",
        "example.com", "cafe.beef", "localhost", "1.2.3.4/24"}) {
      assertThat(text(bad)).as(bad).isEqualTo("rejected");
    }
  }

  @Test
  void ipv6TakesTheRfc4291FormsAndNothingElse() {
    assertThat(text("2001:db8::1")).isEqualTo("2001:db8:0:0:0:0:0:1");
    assertThat(text("::")).isEqualTo("0:0:0:0:0:0:0:0");
    assertThat(text("::1")).isEqualTo("0:0:0:0:0:0:0:1");
    assertThat(text("fe80::")).isEqualTo("fe80:0:0:0:0:0:0:0");
    assertThat(text("1:2:3:4:5:6:7:8")).isEqualTo("1:2:3:4:5:6:7:8");
    assertThat(text("2001:DB8:0:0:0:0:0:AbCd")).isEqualTo("2001:db8:0:0:0:0:0:abcd");
    assertThat(text("::192.0.2.1")).isEqualTo("0:0:0:0:0:0:c000:201");
    assertThat(text("64:ff9b::192.0.2.1")).isEqualTo("64:ff9b:0:0:0:0:c000:201");
    assertThat(text("1:2:3:4:5:6:192.0.2.1")).isEqualTo("1:2:3:4:5:6:c000:201");
    // an IPv4-mapped address stays IPv6 (InetAddress would make it 192.0.2.1)
    assertThat(IpText.address("::ffff:192.0.2.1").orElseThrow()).isInstanceOf(Inet6Address.class);
    assertThat(IpText.address("::ffff:192.0.2.1").orElseThrow().getAddress()).hasSize(16);
    for (String bad : new String[] {":::", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", ":1",
        "1:", "12345::", "g::1", "fe80::1%eth0", "1::2:3:4:5:6:7:8", "::1.2.3", "1.2.3.4::",
        "::ffff:999.0.2.1", "1:2:3:4:5:6:7:1.2.3.4", "[::1]"}) {
      assertThat(text(bad)).as(bad).isEqualTo("rejected");
    }
  }

  @Test
  void aPrefixNeedsAStrictAddressAndALengthItsFamilyAllows() {
    assertThat(IpText.prefix("10.1.0.0/16")).map(IpText.Prefix::length).contains(16);
    assertThat(IpText.prefix("2001:db8::/32")).map(IpText.Prefix::length).contains(32);
    assertThat(IpText.prefix("0.0.0.0/0")).isPresent();
    assertThat(IpText.prefix("::/128")).isPresent();
    for (String bad : new String[] {"10.1/16", "1.2.3.4/33", "2001:db8::/129", "1.2.3.4/", "1.2.3.4/-1",
        "1.2.3.4/024", "1.2.3.4/ 24", "1.2.3.4", "1.2.3.4/24/1", "999.1.1.1/8"}) {
      assertThat(IpText.prefix(bad)).as(bad).isEmpty();
    }
  }

  @Test
  void aBareAddressIsAHostPrefixOnlyWhenAskedFor() {
    assertThat(IpText.addressAndLength("192.0.2.1", true)).map(IpText.AddressAndLength::length).contains(32);
    assertThat(IpText.addressAndLength("2001:db8::1", true)).map(IpText.AddressAndLength::length).contains(128);
    assertThat(IpText.addressAndLength("192.0.2.1", false)).isEmpty();
    assertThat(IpText.addressAndLength("192.0.2.77/24", false).orElseThrow().address().getHostAddress())
        .isEqualTo("192.0.2.77");
  }
}
