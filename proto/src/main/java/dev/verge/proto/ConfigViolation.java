package dev.verge.proto;

/**
 * One problem found in a device config document.
 *
 * @param fieldPath where: a proto field path such as {@code network_instances[1].ip.subnet} (proto
 *     field names, 0-based indexes), or {@code <input>:LINE:COLUMN} when the text itself is
 *     malformed, or the empty string for the whole document
 * @param reason machine-readable UPPER_SNAKE_CASE reason, e.g. {@code UNKNOWN_FIELD}
 * @param description what is wrong, for people
 */
public record ConfigViolation(String fieldPath, String reason, String description) {

  public static final String MALFORMED_INPUT = "MALFORMED_INPUT";
  public static final String UNKNOWN_FIELD = "UNKNOWN_FIELD";
  public static final String WRONG_TYPE = "WRONG_TYPE";
  public static final String INVALID_VALUE = "INVALID_VALUE";
  public static final String MISSING_VALUE = "MISSING_VALUE";
  public static final String DUPLICATE = "DUPLICATE";
  public static final String UNKNOWN_REFERENCE = "UNKNOWN_REFERENCE";
  public static final String OVERLAPPING_SUBNET = "OVERLAPPING_SUBNET";
  public static final String TOO_LARGE = "TOO_LARGE";

  @Override
  public String toString() {
    return (fieldPath.isEmpty() ? "<document>" : fieldPath) + ": " + description + " (" + reason + ")";
  }
}
