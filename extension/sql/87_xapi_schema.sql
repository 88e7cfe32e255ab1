-- The xAPI Learning Record Store: its tables and types (docs/xapi.md). This file is also the
-- upgrade step extension/upgrade/1.0--1.1/43_xapi.sql (a link to it): everything here is new
-- in 1.1 and cannot be run twice, so a fresh install and an update run the same text.
-- Statements are stored whole (jsonb, as the LRS returns them) with link tables per agent and
-- per activity, the way Yet Analytics' lrsql does, so the filters of GET /statements are index
-- range scans in stored order, never a scan of JSON.

-- An activity provider: Basic auth key and the SHA-256 of a 256-bit random secret (never the
-- secret itself). `authority` is the Agent stamped on every statement it sends;
-- `completes_lessons` lets its completed/passed statements complete lms lessons.
CREATE TABLE lms.xapi_clients (
  id bigserial PRIMARY KEY,
  name text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 100),
  api_key text NOT NULL UNIQUE CHECK (api_key ~ '^[a-f0-9]{24}$'),
  secret_hash bytea NOT NULL CHECK (length(secret_hash) = 32),
  authority jsonb NOT NULL,
  completes_lessons boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT lms.clock(),
  revoked_at timestamptz
);

-- One row per statement; seq is the stored order and the paging cursor.
CREATE TABLE lms.xapi_statements (
  seq bigserial PRIMARY KEY,
  id uuid NOT NULL UNIQUE,
  statement jsonb NOT NULL,            -- as returned by format=exact (id, stored, authority, version set)
  verb_id text NOT NULL,
  registration uuid,
  stored timestamptz NOT NULL,
  voids uuid,                          -- a voiding statement: the id of its target
  voided boolean NOT NULL DEFAULT false,
  client_id bigint REFERENCES lms.xapi_clients ON DELETE SET NULL,
  target_verb text                     -- object is a StatementRef: the target's verb (filters see it)
);
CREATE INDEX xapi_statements_by_verb ON lms.xapi_statements (verb_id, seq);
CREATE INDEX xapi_statements_by_registration ON lms.xapi_statements (registration, seq)
  WHERE registration IS NOT NULL;
CREATE INDEX xapi_statements_by_stored ON lms.xapi_statements (stored);
CREATE INDEX xapi_statements_by_target_verb ON lms.xapi_statements (target_verb, seq)
  WHERE target_verb IS NOT NULL;

-- Agents of a statement by their identifier (lms.xapi_ifi): `direct` when it is the actor or
-- the object (the `agent` filter), every other place only for related_agents. A statement
-- whose object is a StatementRef also gets its target's rows (and target_verb), so a filter
-- that matches a statement also returns the statements that target it (xAPI 1.0.3
-- Communication 2.1.3), even when the target is voided.
-- The link rows have no foreign key to their statement: they are only ever written by the
-- statement that stores their statement (lms.xapi_store, extension/xapi_emit.c), statements
-- are never deleted, and the key's check cost more than the row itself (about 0.1 ms per
-- link row; three or more per statement). sql/xapi.sql checks that no link row is orphaned.
CREATE TABLE lms.xapi_statement_agents (
  agent text NOT NULL,
  seq bigint NOT NULL,
  direct boolean NOT NULL,
  PRIMARY KEY (agent, seq)
);
CREATE INDEX xapi_statement_agents_direct ON lms.xapi_statement_agents (agent, seq) WHERE direct;
CREATE INDEX xapi_statement_agents_by_seq ON lms.xapi_statement_agents (seq);

-- Activities of a statement: `direct` for the object, context and sub-statement activities
-- only for related_activities.
CREATE TABLE lms.xapi_statement_activities (
  activity text NOT NULL,
  seq bigint NOT NULL,
  direct boolean NOT NULL,
  PRIMARY KEY (activity, seq)
);
CREATE INDEX xapi_statement_activities_direct ON lms.xapi_statement_activities (activity, seq) WHERE direct;
CREATE INDEX xapi_statement_activities_by_seq ON lms.xapi_statement_activities (seq);

-- Attachment contents by their SHA-256 (statements refer to them through attachments[].sha2).
CREATE TABLE lms.xapi_attachments (
  sha2 text PRIMARY KEY CHECK (sha2 ~ '^[0-9a-f]{64}$'),
  content_type text NOT NULL,
  content bytea NOT NULL
);

-- The canonical definition of each activity seen in a statement (GET /activities).
CREATE TABLE lms.xapi_activities (
  id text PRIMARY KEY,
  definition jsonb NOT NULL DEFAULT '{}',
  updated_at timestamptz NOT NULL DEFAULT lms.clock()
);

-- State, Activity Profile and Agent Profile documents. kind 's' state (activity + agent +
-- registration + stateId), 'a' activity profile (activity + profileId), 'g' agent profile
-- (agent + profileId). etag is the SHA-1 of the content, as the spec asks.
CREATE TABLE lms.xapi_documents (
  id bigserial PRIMARY KEY,
  kind "char" NOT NULL CHECK (kind IN ('s', 'a', 'g')),
  activity_id text,
  agent text,
  registration uuid,
  doc_id text NOT NULL,
  content_type text NOT NULL,
  content bytea NOT NULL,
  etag text NOT NULL,
  updated timestamptz NOT NULL,
  CONSTRAINT xapi_documents_key UNIQUE NULLS NOT DISTINCT (kind, activity_id, agent, registration, doc_id)
);

-- What every xAPI API function returns: headers is a JSON object of header name -> value.
CREATE TYPE lms.xapi_response AS (status int, headers jsonb, body bytea);

-- A request after the shared steps: the real method and parameters (the Alternate Request
-- Syntax unwrapped), the xAPI version asked for and the activity provider behind it.
CREATE TYPE lms.xapi_request AS (method text, query jsonb, headers jsonb, body bytea, ver text,
                                 client_id bigint, authority jsonb, completes_lessons boolean,
                                 problem lms.xapi_response);

-- The filters of a statement query, from the parameters or from a `more` cursor.
CREATE TYPE lms.xapi_filter AS (agent text, verb text, activity text, registration uuid,
                                related_activities boolean, related_agents boolean,
                                since timestamptz, until timestamptz, lim int, format text,
                                attachments boolean, ascending boolean, after bigint);

-- The key of a document request: kind, activity, agent, registration, document id, and the
-- name of the id parameter, or the reason for a 400.
CREATE TYPE lms.xapi_doc_key AS (kind "char", activity_id text, agent text, registration uuid, doc_id text, id_param text);
