-- The controller store on PostgreSQL (see PostgresStore). Protobuf messages are kept in their
-- binary form; the columns the controller queries on are plain columns.

CREATE TABLE onboarding (
  serial text PRIMARY KEY
);

CREATE TABLE devices (
  uuid text PRIMARY KEY,
  serial text NOT NULL UNIQUE,
  cert_fingerprint text NOT NULL UNIQUE,
  onboarded_at_ms bigint NOT NULL,
  applied_hash text NOT NULL DEFAULT '',
  applied_at_ms bigint NOT NULL DEFAULT 0,
  rejected_hash text NOT NULL DEFAULT '',
  rejection_errors bytea,
  -- the highest version ever stored: a new one goes above it, even after pruning
  highest_version bigint NOT NULL DEFAULT 0,
  -- the latest config_timestamp_ms issued: the next one is stamped above it
  latest_stamp bigint NOT NULL DEFAULT 0,
  last_info_at_ms bigint NOT NULL DEFAULT 0,
  uplink text NOT NULL DEFAULT ''
);

CREATE TABLE config_versions (
  device text NOT NULL REFERENCES devices (uuid),
  version bigint NOT NULL CHECK (version > 0),
  config_hash text NOT NULL,
  unstamped_hash text NOT NULL,
  stored_at_ms bigint NOT NULL,
  config bytea NOT NULL,
  PRIMARY KEY (device, version)
);

-- A stored version is never rewritten (only pruned): the database refuses an UPDATE outright.
CREATE FUNCTION config_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'config version % of device % is never rewritten', OLD.version, OLD.device;
END;
$$;
CREATE TRIGGER config_versions_immutable BEFORE UPDATE ON config_versions
  FOR EACH ROW EXECUTE FUNCTION config_versions_immutable();

CREATE TABLE info (
  device text NOT NULL REFERENCES devices (uuid),
  key text NOT NULL,
  at_time_ms bigint NOT NULL,
  message bytea NOT NULL,
  PRIMARY KEY (device, key)
);

-- Which replica holds each device's config stream; a row of a replica that is gone (its
-- listening session left pg_stat_activity) counts for nothing.
CREATE TABLE streams (
  device text PRIMARY KEY REFERENCES devices (uuid),
  replica text NOT NULL,
  opened_at_ms bigint NOT NULL
);
