-- PostgreSQL bootstrap for the compose stack (deploy/docker-compose.yml).
--
-- Run once by the postgres image's entrypoint, as the superuser (crm_admin),
-- on an EMPTY data volume only. To re-run it: docker compose ... down -v.
--
-- Layout: one database per service, each owned by a login role of the same
-- name (the service connects as that role and creates its own tables, the
-- outbox included), plus one `debezium` role used by the six connectors.
--
-- Passwords are DEV-ONLY literals; they must match the CRM_DATABASE_URL values
-- and CRM_DEBEZIUM_DB_PASSWORD in docker-compose.yml.

-- ---------------------------------------------------------------------------
-- Roles
-- ---------------------------------------------------------------------------
CREATE ROLE customer_master  LOGIN PASSWORD 'customer_master_dev';
CREATE ROLE behavior_scoring LOGIN PASSWORD 'behavior_scoring_dev';
CREATE ROLE lead_router      LOGIN PASSWORD 'lead_router_dev';
CREATE ROLE contract         LOGIN PASSWORD 'contract_dev';
CREATE ROLE notify           LOGIN PASSWORD 'notify_dev';
CREATE ROLE search_sync      LOGIN PASSWORD 'search_sync_dev';

-- Debezium needs REPLICATION (to create and stream from a logical slot) and
-- nothing more: it is not a superuser and owns no table. The publications it
-- reads are created below by the superuser, so the connectors run with
-- publication.autocreate.mode=disabled.
CREATE ROLE debezium LOGIN REPLICATION PASSWORD 'debezium_dev';

-- ---------------------------------------------------------------------------
-- Databases (CREATE DATABASE cannot run inside a DO block / transaction).
-- ---------------------------------------------------------------------------
CREATE DATABASE customer_master  OWNER customer_master;
CREATE DATABASE behavior_scoring OWNER behavior_scoring;
CREATE DATABASE lead_router      OWNER lead_router;
CREATE DATABASE contract         OWNER contract;
CREATE DATABASE notify           OWNER notify;
CREATE DATABASE search_sync      OWNER search_sync;

-- ---------------------------------------------------------------------------
-- Per database: read access for debezium + the publication its connector
-- streams from.
--
-- Why `FOR TABLES IN SCHEMA public` and not `FOR TABLE public.outbox`:
-- the outbox table does not exist yet at this point (each service creates it
-- at startup), and a FOR TABLE publication needs the table. A schema
-- publication (PostgreSQL 15+) also covers tables created later. The
-- connector's table.include.list=public.outbox filters everything else out.
--
-- Why `publish = 'insert'`: the outbox is append-only and Debezium's outbox
-- router only routes inserts. Publishing only inserts also means the other
-- tables in the schema never need a REPLICA IDENTITY (PostgreSQL rejects
-- UPDATE/DELETE on a table without one that is in a publication publishing
-- updates/deletes).
-- ---------------------------------------------------------------------------

\connect customer_master
GRANT USAGE ON SCHEMA public TO debezium;
ALTER DEFAULT PRIVILEGES FOR ROLE customer_master IN SCHEMA public GRANT SELECT ON TABLES TO debezium;
CREATE PUBLICATION crm_outbox FOR TABLES IN SCHEMA public WITH (publish = 'insert');

\connect behavior_scoring
GRANT USAGE ON SCHEMA public TO debezium;
ALTER DEFAULT PRIVILEGES FOR ROLE behavior_scoring IN SCHEMA public GRANT SELECT ON TABLES TO debezium;
CREATE PUBLICATION crm_outbox FOR TABLES IN SCHEMA public WITH (publish = 'insert');

\connect lead_router
GRANT USAGE ON SCHEMA public TO debezium;
ALTER DEFAULT PRIVILEGES FOR ROLE lead_router IN SCHEMA public GRANT SELECT ON TABLES TO debezium;
CREATE PUBLICATION crm_outbox FOR TABLES IN SCHEMA public WITH (publish = 'insert');

\connect contract
GRANT USAGE ON SCHEMA public TO debezium;
ALTER DEFAULT PRIVILEGES FOR ROLE contract IN SCHEMA public GRANT SELECT ON TABLES TO debezium;
CREATE PUBLICATION crm_outbox FOR TABLES IN SCHEMA public WITH (publish = 'insert');

\connect notify
GRANT USAGE ON SCHEMA public TO debezium;
ALTER DEFAULT PRIVILEGES FOR ROLE notify IN SCHEMA public GRANT SELECT ON TABLES TO debezium;
CREATE PUBLICATION crm_outbox FOR TABLES IN SCHEMA public WITH (publish = 'insert');

\connect search_sync
GRANT USAGE ON SCHEMA public TO debezium;
ALTER DEFAULT PRIVILEGES FOR ROLE search_sync IN SCHEMA public GRANT SELECT ON TABLES TO debezium;
CREATE PUBLICATION crm_outbox FOR TABLES IN SCHEMA public WITH (publish = 'insert');
