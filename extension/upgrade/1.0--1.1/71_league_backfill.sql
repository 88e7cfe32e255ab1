-- An update in the middle of a week: the points the learners earned this week under 1.0 (no
-- league then) form this week's league, so a learner's league week counts the whole week.
SELECT lms.league_rebuild();
