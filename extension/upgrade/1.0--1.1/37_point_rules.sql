-- Point rules and custom events change three 1.0 tables (the new tables come in step 36):
-- a lesson without its own points follows its kind's rule (NULL; lessons made under 1.0 keep
-- theirs), the ledger takes custom event reasons, an achievement may count a custom reason.
ALTER TABLE lms.lessons ALTER COLUMN points DROP NOT NULL, ALTER COLUMN points DROP DEFAULT;
ALTER TABLE lms.points_ledger DROP CONSTRAINT points_ledger_reason_check,
  ADD CONSTRAINT points_ledger_reason_check CHECK (lms.reason_is_valid(reason));
ALTER TABLE lms.achievements DROP CONSTRAINT achievements_kind_check,
  ADD CONSTRAINT achievements_kind_check CHECK (kind IN ('lessons_completed', 'courses_completed', 'streak_days',
                                                         'points_total', 'quiz_perfect', 'reason_count')),
  ADD COLUMN reason text,
  ADD CONSTRAINT achievements_reason_check CHECK ((kind = 'reason_count') = (reason IS NOT NULL)
                                                  AND (reason IS NULL OR lms.reason_is_custom(reason)));
-- the achievement criterion takes the learner's count of the achievement's reason
DROP FUNCTION lms.criteria_value(lms.learner_scores, text);
