package dev.verge.zedrouter;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class MetadataHandlerTest {
  static final String APP = "6ba7b810-9dad-41d1-80b4-00c04fd430c8";
  final Metadata metadata = new Metadata(Map.of(
      "bn1", new Metadata.Ni(Optional.of("192.0.2.10"), Map.of(
          "10.1.0.128", new Metadata.App(APP, "web", "#cloud-config\nruncmd: [echo web]\n"),
          "10.1.0.129", new Metadata.App("plain", "cache"))),
      "bn2", new Metadata.Ni(Optional.empty(), Map.of("10.2.0.128", new Metadata.App("other", "db", "#cloud-config\nruncmd: [echo db]\n")))));
  final MetadataHandler bn1 = new MetadataHandler("bn1", () -> metadata);

  static String body(FullHttpResponse response) {
    return response.content().toString(StandardCharsets.UTF_8);
  }

  @Test
  void networkJsonNamesTheCallerAndTheDevicesExternalAddress() throws Exception {
    FullHttpResponse response = bn1.answer(HttpMethod.GET, "/eve/v1/network.json", "10.1.0.128", 40000);
    assertThat(response.status()).isEqualTo(HttpResponseStatus.OK);
    assertThat(body(response)).isEqualTo("{\"caller-ip\":\"10.1.0.128:40000\",\"external-ipv4\":\"192.0.2.10\","
        + "\"hostname\":\"" + APP + "\",\"name\":\"web\"}\n");
    assertThat(body(bn1.answer(HttpMethod.GET, "/eve/v1/external_ipv4", "10.1.0.128", 1))).isEqualTo("192.0.2.10");
    assertThat(body(bn1.answer(HttpMethod.GET, "/eve/v1/hostname", "10.1.0.128", 1))).isEqualTo(APP);
  }

  @Test
  void anotherNisAppAnUnknownPathAndAWriteAreRefused() throws Exception {
    FullHttpResponse other = bn1.answer(HttpMethod.GET, "/eve/v1/hostname", "10.2.0.128", 1);
    assertThat(other.status()).isEqualTo(HttpResponseStatus.FORBIDDEN);
    assertThat(body(other)).doesNotContain("other");
    assertThat(bn1.answer(HttpMethod.GET, "/eve/v1/nothing", "10.1.0.128", 1).status())
        .isEqualTo(HttpResponseStatus.NOT_FOUND);
    assertThat(bn1.answer(HttpMethod.POST, "/eve/v1/hostname", "10.1.0.128", 1).status())
        .isEqualTo(HttpResponseStatus.METHOD_NOT_ALLOWED);
  }

  @Test
  void anAirGappedNiHasNoExternalAddress() throws Exception {
    MetadataHandler bn2 = new MetadataHandler("bn2", () -> metadata);
    assertThat(bn2.answer(HttpMethod.GET, "/eve/v1/external_ipv4", "10.2.0.128", 1).status())
        .isEqualTo(HttpResponseStatus.NO_CONTENT);
  }

  @Test
  void eachAppGetsItsOwnUserDataAtTheOpenstackPathAndAnAppWithoutGets404() throws Exception {
    FullHttpResponse web = bn1.answer(HttpMethod.GET, "/openstack/latest/user_data", "10.1.0.128", 1);
    assertThat(web.status()).isEqualTo(HttpResponseStatus.OK);
    assertThat(body(web)).isEqualTo("#cloud-config\nruncmd: [echo web]\n");
    assertThat(body(bn1.answer(HttpMethod.GET, "/openstack/2012-08-10/user_data", "10.1.0.128", 1)))
        .isEqualTo("#cloud-config\nruncmd: [echo web]\n");

    assertThat(bn1.answer(HttpMethod.GET, "/openstack/latest/user_data", "10.1.0.129", 1).status())
        .isEqualTo(HttpResponseStatus.NOT_FOUND);
    FullHttpResponse fromOtherNi = bn1.answer(HttpMethod.GET, "/openstack/latest/user_data", "10.2.0.128", 1);
    assertThat(fromOtherNi.status()).isEqualTo(HttpResponseStatus.FORBIDDEN);
    assertThat(body(fromOtherNi)).doesNotContain("echo");
    assertThat(body(bn1.answer(HttpMethod.GET, "/openstack/latest/meta_data.json", "10.1.0.128", 1)))
        .isEqualTo("{\"uuid\":\"" + APP + "\",\"hostname\":\"web\",\"name\":\"web\",\"launch_index\":0}\n");
    assertThat(bn1.answer(HttpMethod.GET, "/openstack/latest/vendor_data.json", "10.1.0.128", 1).status())
        .isEqualTo(HttpResponseStatus.NOT_FOUND);
  }
}
