package dev.verge.pubsub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.StringValue;
import org.junit.jupiter.api.Test;

class KeysAndTopicsTest {

  @Test
  void keysMustBeNonEmptyFlatAndAtMost255Utf8Bytes() {
    assertThat(Keys.validate("eth0")).isEqualTo("eth0");
    assertThat(Keys.validate("é".repeat(127))).hasSize(127); // 254 bytes
    assertThatThrownBy(() -> Keys.validate("é".repeat(128))).hasMessageContaining("255");
    assertThatThrownBy(() -> Keys.validate("")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Keys.validate(null)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Keys.validate("a/b")).hasMessageContaining("'/'");
  }

  @Test
  void aTopicIsNamedAfterItsAgentAndMessageType() {
    var topic = Topic.of("nim", StringValue.getDefaultInstance());
    assertThat(topic.name()).isEqualTo("nim/StringValue");
    assertThat(topic.messageType()).isEqualTo("google.protobuf.StringValue");
    assertThatThrownBy(() -> Topic.of("a/b", StringValue.getDefaultInstance()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Topic<>("nim", "", StringValue.getDefaultInstance()))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
