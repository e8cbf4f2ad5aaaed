package dev.verge.controller.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** `serve --store postgresql://...`: libpq's URI form, the password kept out of URLs and logs. */
class StoreLocationTest {
  @Test
  void aFullUriGivesTheJdbcUrlAndCredentialsSeparately() {
    StoreLocation location = StoreLocation.parse("postgresql://verge:s%40cret@db.example:6543/fleet?sslmode=require");
    assertThat(location.jdbcUrl()).isEqualTo("jdbc:postgresql://db.example:6543/fleet?sslmode=require");
    assertThat(location.properties()).containsEntry("user", "verge").containsEntry("password", "s@cret");
    assertThat(location.toString()).isEqualTo("postgresql://verge@db.example:6543/fleet").doesNotContain("cret");
  }

  @Test
  void thePortDefaultsTo5432AndTheUserMayBeLeftToTheDriver() {
    StoreLocation location = StoreLocation.parse("postgresql://127.0.0.1/verge");
    assertThat(location.port()).isEqualTo(5432);
    assertThat(location.properties()).isEmpty();
  }

  @Test
  void aWrongSchemeOrAMissingDatabaseIsRefusedWithWhatIsWrong() {
    assertThatThrownBy(() -> StoreLocation.parse("mysql://u:pw@h/db"))
        .hasMessageContaining("must start with postgresql://").hasMessageNotContaining("pw");
    assertThatThrownBy(() -> StoreLocation.parse("postgresql://h:5432/"))
        .hasMessageContaining("needs a database");
  }
}
