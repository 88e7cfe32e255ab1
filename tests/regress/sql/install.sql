-- The extension installs (with its pgcrypto dependency), drops and installs again cleanly.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS lms CASCADE;
CREATE EXTENSION lms CASCADE;
RESET client_min_messages;
SELECT extname, extversion FROM pg_extension WHERE extname IN ('lms', 'pgcrypto') ORDER BY 1;
DROP EXTENSION lms;
CREATE EXTENSION lms;
-- the clock follows lms.clock_override
SET lms.clock_override = '2026-01-02 03:04:05+00';
SELECT lms.clock(), lms.iso(lms.clock());
RESET lms.clock_override;
SELECT lms.clock() = now() AS real_clock;
SELECT lms.is_valid_timezone('Europe/Paris'), lms.is_valid_timezone('Mars/Olympus'), lms.is_valid_timezone('');
