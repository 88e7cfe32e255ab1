-- The enrollments' last-active hours and every summary, counted from the rows of a 1.0 install
-- (the triggers keep them from now on).
UPDATE lms.enrollments SET last_active_hour = lms.hour_of(last_activity_at) WHERE last_activity_at IS NOT NULL;
SELECT lms.recount_analytics();
