package dev.verge.controller.store;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Properties;

/**
 * Where a PostgreSQL store lives, from {@code postgresql://[user[:password]@]host[:port]/database[?param=value...]}
 * (libpq's URI form; params go to the JDBC driver as they are). The password never appears in
 * {@link #toString()}.
 */
public record StoreLocation(String host, int port, String database, String user, String password, String params) {
  public static final String SCHEME = "postgresql";

  public StoreLocation {
    if (host.isEmpty()) {
      throw new IllegalArgumentException("the store URI needs a host");
    }
    if (database.isEmpty()) {
      throw new IllegalArgumentException("the store URI needs a database: postgresql://host:port/DATABASE");
    }
  }

  /** Parses a {@code postgresql://} URI; throws IllegalArgumentException saying what is wrong. */
  public static StoreLocation parse(String uri) {
    URI parsed;
    try {
      parsed = new URI(uri);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("not a store URI: " + e.getMessage());
    }
    if (!SCHEME.equals(parsed.getScheme())) {
      throw new IllegalArgumentException("the store URI must start with postgresql://, not '" + uri.replaceAll(":[^:@/]*@", ":***@") + "'");
    }
    String user = "";
    String password = "";
    if (parsed.getRawUserInfo() != null) {
      String[] parts = parsed.getRawUserInfo().split(":", 2);
      user = decode(parts[0]);
      password = parts.length > 1 ? decode(parts[1]) : "";
    }
    String path = parsed.getPath() == null ? "" : parsed.getPath();
    String database = path.startsWith("/") ? path.substring(1) : path;
    return new StoreLocation(parsed.getHost() == null ? "" : parsed.getHost(), parsed.getPort() < 0 ? 5432 : parsed.getPort(),
        database, user, password, parsed.getRawQuery() == null ? "" : parsed.getRawQuery());
  }

  private static String decode(String text) {
    return URLDecoder.decode(text, StandardCharsets.UTF_8);
  }

  public String jdbcUrl() {
    return "jdbc:postgresql://" + host + ":" + port + "/" + database + (params.isEmpty() ? "" : "?" + params);
  }

  /** User and password for the driver (kept out of the URL so logs never carry them). */
  public Properties properties() {
    Properties properties = new Properties();
    if (!user.isEmpty()) {
      properties.setProperty("user", user);
    }
    if (!password.isEmpty()) {
      properties.setProperty("password", password);
    }
    return properties;
  }

  @Override
  public String toString() {
    return SCHEME + "://" + (user.isEmpty() ? "" : user + "@") + host + ":" + port + "/" + database;
  }
}
