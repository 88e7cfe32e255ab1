-- 1.1 accepts IANA zone names only (lms.is_valid_timezone, timezone.c). A 1.0 user whose zone
-- was a POSIX string ('GMT+99', 'AAA-24') would fail the users CHECK on their next update: such a
-- zone becomes the IANA name it spells in another case ('europe/paris' -> 'Europe/Paris'),
-- otherwise UTC. Rows with a real zone are not touched.
UPDATE lms.users u
SET timezone = coalesce((SELECT min(n.name) FROM pg_catalog.pg_timezone_names n
                         WHERE pg_catalog.lower(n.name) = pg_catalog.lower(u.timezone)), 'UTC')
WHERE NOT lms.is_valid_timezone(u.timezone);
