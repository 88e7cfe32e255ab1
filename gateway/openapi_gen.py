#!/usr/bin/env python3
"""Writes gateway/openapi.json, the OpenAPI 3 document of the REST contract (../shared/API.md).

The JSON file is what the gateway embeds and serves as is; this script is how it is kept
tidy. Routes must agree with gateway/routes.c (`lms-gateway --routes`); the HTTP suite checks.
    python3 gateway/openapi_gen.py > gateway/openapi.json
"""
import json
import sys

def ref(name):
    return {"$ref": "#/components/schemas/" + name}

def obj(props, required=None, **extra):
    o = {"type": "object", "properties": props}
    if required:
        o["required"] = required
    o.update(extra)
    return o

S = {"type": "string"}
I = {"type": "integer", "format": "int64"}
I32 = {"type": "integer"}
N = {"type": "number"}
B = {"type": "boolean"}
TS = {"type": "string", "format": "date-time", "example": "2026-01-02T03:04:05.000Z"}
DATE = {"type": "string", "format": "date"}
def nullable(s):
    s = dict(s); s["nullable"] = True; return s
def arr(s):
    return {"type": "array", "items": s}
def page_of(name):
    return obj({"items": arr(ref(name)), "page": I32, "limit": I32, "total": I32},
               ["items", "page", "limit", "total"])

schemas = {
    "Problem": obj({"type": S, "title": S, "status": I32, "detail": S,
                    "code": {"type": "string", "description": "stable snake_case error code"},
                    "errors": arr(obj({"field": S, "message": S}, ["field", "message"]))},
                   ["type", "title", "status", "detail", "code"],
                   description="RFC 7807 problem document, sent as application/problem+json"),
    "User": obj({"id": I, "email": {"type": "string", "format": "email"}, "display_name": S,
                 "role": {"type": "string", "enum": ["student", "instructor", "admin"]},
                 "timezone": S, "status": {"type": "string", "enum": ["active", "suspended"]},
                 "leaderboard_visible": B, "created_at": TS},
                ["id", "email", "display_name", "role", "timezone", "status",
                 "leaderboard_visible", "created_at"]),
    "RegisterRequest": obj({"email": S, "password": {"type": "string", "minLength": 8},
                            "display_name": S, "timezone": S},
                           ["email", "password", "display_name"]),
    "LoginRequest": obj({"email": S, "password": S}, ["email", "password"]),
    "LoginResponse": obj({"access_token": S, "token_type": {"type": "string", "enum": ["bearer"]},
                          "expires_at": TS, "user": ref("User")},
                         ["access_token", "token_type", "expires_at", "user"]),
    "UserPatch": obj({"display_name": S, "timezone": S, "leaderboard_visible": B}),
    "InstructorRef": obj({"id": I, "display_name": S}),
    "Course": obj({"id": I, "slug": S, "title": S, "summary": nullable(S), "category": nullable(S),
                   "instructor": ref("InstructorRef"), "is_published": B, "lesson_count": I32,
                   "total_duration_seconds": I32, "enrollment_count": I32,
                   "capacity": nullable(I32), "seats_left": nullable(I32),
                   "enroll_opens_at": nullable(TS), "enroll_closes_at": nullable(TS),
                   "access_days": nullable(I32), "prerequisite_course_ids": arr(I),
                   "created_at": TS, "updated_at": TS},
                  ["id", "slug", "title", "instructor", "is_published", "lesson_count"]),
    "CourseDetail": {"allOf": [ref("Course"), obj({"modules": arr(obj({
        "id": I, "title": S, "position": I32,
        "lessons": arr(obj({"id": I, "title": S, "position": I32,
                            "kind": {"type": "string", "enum": ["video", "text", "quiz"]},
                            "duration_seconds": I32, "points": I32, "is_preview": B,
                            "available_from": nullable(TS)}))}))})]},
    "CourseCreate": obj({"title": S, "slug": S, "summary": S, "category": S, "capacity": I32,
                         "enroll_opens_at": TS, "enroll_closes_at": TS, "access_days": I32,
                         "prerequisite_course_ids": arr(I)}, ["title"]),
    "CoursePatch": obj({"title": S, "slug": S, "summary": S, "category": S, "capacity": I32,
                        "enroll_opens_at": TS, "enroll_closes_at": TS, "access_days": I32,
                        "prerequisite_course_ids": arr(I)}),
    "Module": obj({"id": I, "course_id": I, "title": S, "position": I32},
                  ["id", "course_id", "title", "position"]),
    "ModuleCreate": obj({"title": S, "position": I32}, ["title"]),
    "Lesson": obj({"id": I, "module_id": I, "course_id": I, "title": S,
                   "kind": {"type": "string", "enum": ["video", "text", "quiz"]},
                   "position": I32, "duration_seconds": I32,
                   "points": dict(I32, description="what completing it earns: its own points, else its kind's point rule"),
                   "points_source": {"type": "string", "enum": ["lesson", "rule"]}, "is_preview": B,
                   "is_published": B, "available_from": nullable(TS)},
                  ["id", "module_id", "course_id", "title", "kind", "position"]),
    "LessonProgress": nullable(obj({"watched_seconds": I32, "last_position_seconds": I32,
                                    "completion_percentage": N, "is_completed": B,
                                    "completed_at": nullable(TS)})),
    "LessonDetail": {"allOf": [ref("Lesson"), obj({"content": nullable(S),
                                                    "video_playback_id": nullable(S),
                                                    "quiz_id": dict(nullable(I), description="the lesson's quiz (GET /quizzes/{id}), null when it has none"),
                                                    "progress": ref("LessonProgress")})]},
    "LessonCreate": obj({"title": S, "kind": {"type": "string", "enum": ["video", "text", "quiz"]},
                         "duration_seconds": I32, "video_playback_id": S, "content": S,
                         "points": dict(nullable(I32), description="left out or null: the kind's point rule"),
                         "is_preview": B, "position": I32,
                         "available_from": TS}, ["title", "kind"]),
    "LessonPatch": obj({"title": S, "duration_seconds": I32, "video_playback_id": S,
                        "content": S, "points": dict(nullable(I32), description="null: the kind's point rule"),
                        "is_preview": B, "is_published": B,
                        "position": I32, "available_from": nullable(TS)}),
    "Enrollment": obj({"id": I, "user_id": I, "course_id": I,
                       "status": {"type": "string", "enum": ["active", "completed", "dropped", "expired"]},
                       "progress_percentage": N, "completed_lessons": I32, "total_lessons": I32,
                       "enrolled_at": TS, "completed_at": nullable(TS), "expires_at": nullable(TS),
                       "last_activity_at": nullable(TS), "course_title": S},
                      ["id", "user_id", "course_id", "status"]),
    "ProgressWrite": obj({"watched_seconds": {"type": "integer", "minimum": 0},
                          "last_position_seconds": {"type": "integer", "minimum": 0},
                          "completion_percentage": {"type": "number", "minimum": 0, "maximum": 100},
                          "completed": B},
                         ["watched_seconds", "last_position_seconds", "completion_percentage"]),
    "NewAchievement": obj({"code": S, "title": S, "points": I32}),
    "ProgressResult": obj({
        "lesson": obj({"lesson_id": I, "watched_seconds": I32, "last_position_seconds": I32,
                       "completion_percentage": N, "is_completed": B, "completed_at": nullable(TS)}),
        "course": obj({"course_id": I, "completed_lessons": I32, "total_lessons": I32,
                       "progress_percentage": N, "status": S}),
        "points_awarded": I32, "total_points": I32, "level": I32,
        "streak": obj({"current": I32, "longest": I32}),
        "new_achievements": arr(ref("NewAchievement")), "certificate_eligible": B},
        ["lesson", "course", "points_awarded", "total_points", "level", "streak",
         "new_achievements", "certificate_eligible"]),
    "CourseProgress": obj({"course_id": I, "total_lessons": I32, "completed_lessons": I32,
                           "progress_percentage": N, "status": S,
                           "last_lesson_id": nullable(I), "last_position_seconds": nullable(I32),
                           "modules": arr(obj({"module_id": I, "title": S, "total_lessons": I32,
                                               "completed_lessons": I32,
                                               "progress_percentage": N}))}),
    "Quiz": obj({"id": I, "lesson_id": I, "title": S, "pass_score": I32, "max_attempts": I32,
                 "questions": arr(obj({"id": I, "prompt": S, "choices": arr(S)}))}),
    "QuizCreate": obj({"title": S, "pass_score": {"type": "integer", "minimum": 0, "maximum": 100},
                       "max_attempts": I32,
                       "questions": arr(obj({"prompt": S, "choices": arr(S), "answer": I32},
                                            ["prompt", "choices", "answer"]))},
                      ["title", "pass_score", "questions"]),
    "QuizAttemptRequest": obj({"answers": {"type": "object",
                                           "additionalProperties": {"type": "integer"},
                                           "description": "question id -> 0-based choice index"}},
                              ["answers"]),
    "QuizAttempt": obj({"attempt_id": I, "score": N, "passed": B, "attempts_used": I32,
                        "points_awarded": I32, "lesson_completed": B}),
    "Gamification": obj({"user_id": I, "total_points": I32, "level": I32,
                         "level_progress": obj({"level_floor": I32, "next_level_at": I32}),
                         "current_streak": I32, "longest_streak": I32,
                         "last_activity_date": nullable(DATE), "achievements_count": I32,
                         "achievements": arr(obj({"code": S, "title": S, "awarded_at": TS})),
                         "rank": obj({"all_time": nullable(I32), "week": nullable(I32)})}),
    "LedgerEntry": obj({"points": I32, "reason": S, "course_id": nullable(I),
                        "source_id": nullable(S), "created_at": TS}),
    "Achievement": obj({"code": S, "title": S, "description": S, "points": I32,
                        "criteria": ref("AchievementCriteria")}),
    "AchievementCriteria": obj({"kind": {"type": "string", "enum": [
        "lessons_completed", "courses_completed", "streak_days", "points_total", "quiz_perfect", "reason_count"]},
        "threshold": I32, "reason": {"type": "string", "description": "reason_count: the custom event counted"}},
        ["kind", "threshold"]),
    "AchievementCreate": obj({"code": S, "title": S, "description": S, "points": I32,
                              "criteria": ref("AchievementCriteria")},
                             ["code", "title", "points", "criteria"]),
    "PointsCreate": obj({"user_id": I, "points": I32,
                         "reason": {"type": "string", "description": "without source_key: the admin's explanation (kept as the note of an "
                                    "admin_correction); with source_key: a custom event's reason, [a-z][a-z0-9_]{0,63}, not a built-in one"},
                         "course_id": I,
                         "source_key": {"type": "string", "maxLength": 160, "description": "a custom event: the learner gets it once per source key (again: 200, the same entry)"},
                         "note": {"type": "string", "maxLength": 500}},
                        ["user_id", "points", "reason"]),
    "Recompute": obj({"users": I32, "took_ms": N, "differences": I32}),
    "Leaderboard": obj({"board": S, "window": {"type": "string", "enum": ["all", "week", "month"]},
                        "period_start": nullable(DATE), "generated_at": TS, "total": I32,
                        "items": arr(obj({"rank": I32, "user_id": I, "display_name": S,
                                          "points": I32, "level": I32})),
                        "me": nullable(obj({"rank": I32, "points": I32}))}),
    "LeaderboardRefresh": obj({"refreshed": arr(S), "took_ms": N}),
    "CertificateIssued": obj({"code": S, "user_id": I, "course_id": I, "course_title": S,
                              "display_name": S, "issued_at": TS}),
    "Certificate": obj({"code": S, "display_name": S, "course_title": S, "issued_at": TS,
                        "valid": B}),
    "Analytics": obj({"course_id": I,
                      "enrollments": obj({"active": I32, "completed": I32, "dropped": I32, "total": I32}),
                      "completion_rate": N, "average_progress": N, "active_learners_7d": I32,
                      "points_awarded_total": I32,
                      "lessons": arr(obj({"lesson_id": I, "title": S, "position": I32,
                                          "started": I32, "completed": I32, "completion_rate": N}))}),
    "Student": obj({"user_id": I, "display_name": S, "status": S, "progress_percentage": N,
                    "last_activity_at": nullable(TS)}),
    "AdminUserPatch": obj({"role": {"type": "string", "enum": ["student", "instructor", "admin"]},
                           "status": {"type": "string", "enum": ["active", "suspended"]}}),
    "AuditEntry": obj({"id": I, "actor_id": nullable(I), "action": S, "entity": S,
                       "entity_id": nullable(I), "data": {"type": "object"}, "created_at": TS}),
    "AuditPage": obj({"items": arr(ref("AuditEntry")), "next_cursor": nullable(S)},
                     ["items", "next_cursor"]),
    "GatewayFigures": obj({"requests_total": I32, "errors_total": I32,
                           "routes": arr(obj({"route": S, "count": I32, "p50_ms": N,
                                              "p95_ms": N, "p99_ms": N})),
                           "pool": obj({"size": I32, "in_use": I32, "waiting": I32})}),
    "Performance": obj({"database": obj({"cache_hit_ratio": N, "connections": I32,
                                         "size_bytes": I, "top_queries": arr({"type": "object"}),
                                         "unused_indexes": arr({"type": "object"}),
                                         "tables": arr({"type": "object"})}),
                        "gateway": ref("GatewayFigures"),
                        "leaderboards": obj({"generated_at": nullable(TS)})}),
}
# 1.1: point rules and their recalculation (docs/gamification.md)
RULE = {"type": "string", "enum": ["course_completed", "lesson_quiz", "lesson_text", "lesson_video", "quiz_passed",
                                    "quiz_perfect", "streak_bonus"]}
schemas.update({
    "PointRules": obj({"rules": arr(obj({"rule": RULE, "points": I32, "default": I32, "min": I32, "per_course": B,
                                         "updated_at": nullable(TS)})),
                       "course_overrides": arr(obj({"course_id": I, "rule": RULE, "points": I32, "updated_at": TS}))}),
    "PointRulesPut": obj({"rules": {"type": "object", "additionalProperties": I32, "description": "rule -> points; a rule left out has its default"},
                          "course_overrides": arr(obj({"course_id": I, "rule": RULE, "points": I32}, ["course_id", "rule", "points"]))}),
    "RecalculateRequest": obj({"course_id": nullable(I)}),
    "Recalculation": obj({"run": I, "course_id": nullable(I), "events": I, "corrections": I, "learners": I, "points": I,
                          "took_ms": N}),
})
# 1.1: weekly leagues and groups (docs/gamification.md)
ZONE = {"type": "string", "enum": ["promotion", "demotion"], "nullable": True}
schemas.update({
    "LeagueTier": obj({"tier": I32, "name": S, "promote_top": I32, "demote_from": nullable(I32)},
                      ["tier", "name", "promote_top", "demote_from"]),
    "League": obj({"week": DATE, "ends_at": TS,
                   "status": {"type": "string", "enum": ["competing", "not_joined", "waiting", "unlisted"]},
                   "tier": nullable(ref("LeagueTier")), "top_tier": I32,
                   "cohort": nullable(obj({"id": I, "size": I32, "capacity": I32})),
                   "zones": nullable(obj({"promotion_to_rank": nullable(I32), "demotion_from_rank": nullable(I32)})),
                   "standings": arr(obj({"rank": I32, "user_id": I, "display_name": S, "points": I, "zone": ZONE})),
                   "me": nullable(obj({"rank": I32, "points": I, "zone": ZONE}))},
                  ["week", "ends_at", "status", "tier", "cohort", "standings", "me"]),
    "LeagueWeek": obj({"week": DATE, "tier": nullable(I32), "tier_name": nullable(S), "cohort_id": nullable(I),
                       "cohort_size": nullable(I32), "points": I, "rank": nullable(I32),
                       "outcome": {"type": "string", "enum": ["promoted", "stayed", "demoted", "excluded"], "nullable": True},
                       "new_tier": nullable(I32)}),
    "LeagueConfig": obj({"cohort_size": I32, "inactive_grace_weeks": I32, "join_slots": I32, "is_default": B,
                         "tiers": arr(ref("LeagueTier"))}),
    "LeagueConfigPut": obj({"cohort_size": {"type": "integer", "minimum": 2, "maximum": 100},
                            "inactive_grace_weeks": {"type": "integer", "minimum": 0, "maximum": 52},
                            "join_slots": {"type": "integer", "minimum": 1, "maximum": 64},
                            "tiers": {"type": "array", "minItems": 2, "maxItems": 50, "description": "lowest first",
                                      "items": obj({"name": S, "promote_top": I32, "demote_from": nullable(I32)},
                                                   ["name", "promote_top"])}}, ["tiers"]),
    "LeagueRollover": obj({"rolled": arr(obj({"week": DATE, "members": I32, "promoted": I32, "demoted": I32,
                                              "took_ms": N})), "took_ms": N}),
    "Group": obj({"id": I, "name": S, "description": S, "owner": ref("InstructorRef"), "member_count": I32,
                  "created_at": TS, "updated_at": TS}),
    "GroupCreate": obj({"name": S, "description": S}, ["name"]),
    "GroupPatch": obj({"name": S, "description": S}),
    "GroupMember": obj({"user_id": I, "display_name": S, "added_at": TS}),
    "GroupMembersChange": obj({"user_ids": {"type": "array", "maxItems": 1000, "items": I}}, ["user_ids"]),
    "GroupMembersResult": obj({"added": I32, "removed": I32, "member_count": I32}),
    "GroupStanding": obj({"rank": nullable(I32), "group_id": I, "name": S, "members": I32, "points": I,
                          "average": N}),
    "GroupLadder": obj({"board": {"type": "string", "enum": ["groups"]},
                        "window": {"type": "string", "enum": ["all", "week", "month"]},
                        "rank_by": {"type": "string", "enum": ["average", "total"]},
                        "period_start": nullable(DATE), "generated_at": TS, "total": I32, "limit": I32, "offset": I32,
                        "items": arr(ref("GroupStanding")), "me": nullable(arr(ref("GroupStanding")))}),
})
for n in ["Course", "Enrollment", "LedgerEntry", "Student", "User", "LeagueWeek", "Group", "GroupMember"]:
    schemas[n + "Page"] = page_of(n)
schemas["AchievementList"] = obj({"items": arr(ref("Achievement"))}, ["items"])
schemas["Dashboard"] = obj({
    "user": ref("User"),
    "gamification": {"type": "object", "description": "GET /gamification/me without its achievements list "
                     "(total_points, level, level_progress, current_streak, longest_streak, last_activity_date, "
                     "achievements_count, rank {week, all_time})"},
    "newest_achievements": arr(obj({"code": S, "title": S, "awarded_at": TS})),
    "enrollments": arr({"type": "object", "description": "the caller's active enrollments (GET /enrollments/me?status=active items, up to 100)"}),
    "active_enrollments": I32,
    "continue": nullable(obj({"course_id": I, "course_title": S, "lesson_id": I, "lesson_title": S, "lesson_kind": S,
                              "last_position_seconds": nullable(I32), "last_activity_at": nullable(TS)})),
}, ["user", "gamification", "newest_achievements", "enrollments", "active_enrollments", "continue"])
schemas["XapiClientCreate"] = obj({"name": S, "completes_lessons": B}, ["name"])
schemas["XapiClient"] = obj({"id": I, "name": S, "key": S, "secret": {"type": "string", "description": "shown once; only its SHA-256 is stored"},
                             "completes_lessons": B}, ["id", "name", "key", "secret", "completes_lessons"])

def problem_resp(desc):
    return {"description": desc, "headers": {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"}},
            "content": {"application/problem+json": {"schema": ref("Problem")}}}

components = {
    "schemas": schemas,
    "securitySchemes": {
        "bearerAuth": {"type": "http", "scheme": "bearer"},
        "cookieAuth": {"type": "apiKey", "in": "cookie", "name": "access_token"},
        "basicAuth": {"type": "http", "scheme": "basic", "description": "xAPI activity providers (key:secret)"},
    },
    "headers": {
        "X-Request-Id": {"description": "echoed from the request, or generated", "schema": S},
        "X-Response-Time": {"description": "time spent in the gateway, e.g. 1.234ms", "schema": S},
        "ETag": {"description": "weak validator of the body (personal and public GETs)", "schema": S},
        "Cache-Control": {"description": "public, max-age=60 | private, no-cache | no-store", "schema": S},
        "Retry-After": {"description": "seconds to wait", "schema": I32},
        "Set-Cookie": {"description": "access_token=...; HttpOnly; SameSite=Lax; Path=/; Max-Age=...; Expires=...", "schema": S},
    },
    "parameters": {
        "id": {"name": "id", "in": "path", "required": True,
               "description": "64-bit id, 1..9223372036854775807 (else 400 invalid_id)",
               "schema": {"type": "integer", "format": "int64", "minimum": 1}},
        "code": {"name": "code", "in": "path", "required": True,
                 "schema": {"type": "string", "pattern": "^[A-Za-z0-9._~-]{1,64}$"}},
        "page": {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
        "limit": {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
        "after": {"name": "after", "in": "query", "description": "cursor from next_cursor", "schema": S},
        "window": {"name": "window", "in": "query", "schema": {"type": "string", "enum": ["all", "week", "month"], "default": "all"}},
        "boardLimit": {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 50}},
        "offset": {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0}},
        "around": {"name": "around", "in": "query", "description": "me: centre the page on the caller (needs a token)", "schema": {"type": "string", "enum": ["me"]}},
        "If-None-Match": {"name": "If-None-Match", "in": "header", "schema": S,
                          "description": "a matching ETag answers 304"},
        "X-Request-Id": {"name": "X-Request-Id", "in": "header", "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{1,128}$"}},
    },
    "responses": {
        "BadRequest": problem_resp("invalid_id, invalid_json or validation_failed (with errors)"),
        "Unauthenticated": problem_resp("unauthenticated: missing, unknown, expired or revoked token"),
        "Forbidden": problem_resp("forbidden (wrong role or not the owner), or a more precise code"),
        "NotFound": problem_resp("not_found"),
        "Conflict": problem_resp("a conflict named by code"),
        "PayloadTooLarge": problem_resp("payload_too_large: body over the configured limit (default 1 MiB); the connection is closed"),
        "UnsupportedMediaType": problem_resp("unsupported_media_type: a body that is not application/json"),
        "RateLimited": {**problem_resp("rate_limited"), "headers": {"Retry-After": {"$ref": "#/components/headers/Retry-After"}}},
        "Unavailable": {**problem_resp("database_unavailable (database unreachable) or database_busy (no pooled connection within the timeout, or statement timeout)"),
                        "headers": {"Retry-After": {"$ref": "#/components/headers/Retry-After"}}},
        "InternalError": problem_resp("internal_error: an unexpected database error (no SQL text is ever sent)"),
    },
}

def R(name):
    return {"$ref": "#/components/responses/" + name}

def P(name):
    return {"$ref": "#/components/parameters/" + name}

def ok(status, schema, desc, extra_headers=None):
    headers = {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"},
               "X-Response-Time": {"$ref": "#/components/headers/X-Response-Time"},
               "Cache-Control": {"$ref": "#/components/headers/Cache-Control"}}
    for h in extra_headers or []:
        headers[h] = {"$ref": "#/components/headers/" + h}
    r = {"description": desc, "headers": headers}
    if schema is not None:
        r["content"] = {"application/json": {"schema": schema}}
    return {str(status): r}

ROUTES = []  # (method, path, function, summary, auth, params, body, responses, errors)

def route(method, path, fn, summary, auth, params=(), body=None, success=None, errors=(), tag=None):
    ROUTES.append((method, path, fn, summary, auth, list(params), body, success, list(errors), tag))

A = "auth"; O = "optional"; N0 = "none"
route("POST", "/api/v1/auth/register", "api_auth_register", "Create a student account (rate limited with login)", N0,
      body="RegisterRequest", success=ok(201, ref("User"), "the new user"), errors=["BadRequest", "Conflict", "RateLimited"], tag="auth")
route("POST", "/api/v1/auth/login", "api_auth_login", "Sign in; also sets the access_token cookie", N0,
      body="LoginRequest", success=ok(200, ref("LoginResponse"), "a bearer token", ["Set-Cookie"]),
      errors=["BadRequest", "Unauthenticated", "Forbidden", "RateLimited"], tag="auth")
route("POST", "/api/v1/auth/logout", "api_auth_logout", "Revoke the token used; clears the cookie", A,
      success=ok(204, None, "revoked", ["Set-Cookie"]), errors=["Unauthenticated"], tag="auth")
route("GET", "/api/v1/users/me", "api_users_me_get", "The caller", A, success=ok(200, ref("User"), "the caller", ["ETag"]),
      errors=["Unauthenticated"], tag="users")
route("PATCH", "/api/v1/users/me", "api_users_me_patch", "Update the caller's profile", A, body="UserPatch",
      success=ok(200, ref("User"), "the updated user"), errors=["BadRequest", "Unauthenticated"], tag="users")
route("GET", "/api/v1/courses", "api_courses_list", "Published courses (mine=true: an instructor's own, drafts included)", O,
      params=[P("page"), P("limit"), {"name": "category", "in": "query", "schema": S},
              {"name": "q", "in": "query", "schema": S}, {"name": "mine", "in": "query", "schema": {"type": "string", "enum": ["true", "false"]}}],
      success=ok(200, ref("CoursePage"), "a page of courses", ["ETag"]), errors=["BadRequest", "Unauthenticated"], tag="catalog")
route("POST", "/api/v1/courses", "api_course_create", "Create a course (instructor, admin)", A, body="CourseCreate",
      success=ok(201, ref("Course"), "the new course"), errors=["BadRequest", "Unauthenticated", "Forbidden", "Conflict"], tag="catalog")
route("GET", "/api/v1/courses/{id}", "api_course_get", "A course with its modules and lessons", O, params=[P("id")],
      success=ok(200, ref("CourseDetail"), "the course", ["ETag"]), errors=["BadRequest", "NotFound"], tag="catalog")
route("PATCH", "/api/v1/courses/{id}", "api_course_patch", "Update a course (owner, admin)", A, params=[P("id")], body="CoursePatch",
      success=ok(200, ref("Course"), "the course"), errors=["BadRequest", "Unauthenticated", "Forbidden", "NotFound", "Conflict"], tag="catalog")
route("POST", "/api/v1/courses/{id}/publish", "api_course_publish", "Publish a course (owner, admin)", A, params=[P("id")],
      success=ok(200, ref("Course"), "the published course"), errors=["BadRequest", "Unauthenticated", "Forbidden", "NotFound", "Conflict"], tag="catalog")
route("POST", "/api/v1/courses/{id}/modules", "api_module_create", "Add a module (owner, admin)", A, params=[P("id")], body="ModuleCreate",
      success=ok(201, ref("Module"), "the new module"), errors=["BadRequest", "Unauthenticated", "Forbidden", "NotFound"], tag="catalog")
route("POST", "/api/v1/courses/{id}/enroll", "api_enroll", "Enroll the caller (idempotent: 200 when already active)", A, params=[P("id")],
      success={**ok(201, ref("Enrollment"), "enrolled"), **ok(200, ref("Enrollment"), "already enrolled")},
      errors=["BadRequest", "Unauthenticated", "Forbidden", "NotFound", "Conflict"], tag="enrollment")
route("DELETE", "/api/v1/courses/{id}/enroll", "api_unenroll", "Drop the caller's enrollment", A, params=[P("id")],
      success=ok(204, None, "dropped"), errors=["BadRequest", "Unauthenticated", "NotFound"], tag="enrollment")
route("GET", "/api/v1/courses/{id}/analytics", "api_course_analytics", "Course analytics (owner, admin)", A, params=[P("id")],
      success=ok(200, ref("Analytics"), "figures", ["ETag"]), errors=["BadRequest", "Unauthenticated", "Forbidden", "NotFound"], tag="analytics")
route("GET", "/api/v1/courses/{id}/students", "api_course_students", "Learners of a course (owner, admin)", A,
      params=[P("id"), P("page"), P("limit"), {"name": "status", "in": "query", "schema": S}],
      success=ok(200, ref("StudentPage"), "a page of learners", ["ETag"]), errors=["BadRequest", "Unauthenticated", "Forbidden", "NotFound"], tag="analytics")
route("POST", "/api/v1/modules/{id}/lessons", "api_lesson_create", "Add a lesson (owner, admin)", A, params=[P("id")], body="LessonCreate",
      success=ok(201, ref("Lesson"), "the new lesson"), errors=["BadRequest", "Unauthenticated", "Forbidden", "NotFound"], tag="catalog")
route("GET", "/api/v1/lessons/{id}", "api_lesson_get", "A lesson with content and the caller's progress", O, params=[P("id")],
      success=ok(200, ref("LessonDetail"), "the lesson", ["ETag"]), errors=["BadRequest", "Unauthenticated", "Forbidden", "NotFound"], tag="catalog")
route("PATCH", "/api/v1/lessons/{id}", "api_lesson_patch", "Update a lesson (owner, admin)", A, params=[P("id")], body="LessonPatch",
      success=ok(200, ref("Lesson"), "the lesson"), errors=["BadRequest", "Unauthenticated", "Forbidden", "NotFound"], tag="catalog")
route("POST", "/api/v1/lessons/{id}/quiz", "api_quiz_create", "Attach a quiz to a lesson (owner, admin)", A, params=[P("id")], body="QuizCreate",
      success=ok(201, ref("Quiz"), "the quiz"), errors=["BadRequest", "Unauthenticated", "Forbidden", "NotFound"], tag="quizzes")
route("GET", "/api/v1/enrollments/me", "api_enrollments_me", "The caller's enrollments", A,
      params=[{"name": "status", "in": "query", "schema": S}, P("page"), P("limit")],
      success=ok(200, ref("EnrollmentPage"), "a page of enrollments", ["ETag"]), errors=["BadRequest", "Unauthenticated"], tag="enrollment")
route("POST", "/api/v1/progress/lessons/{id}", "api_progress_record", "Record playback progress (the hottest write)", A, params=[P("id")],
      body="ProgressWrite", success=ok(200, ref("ProgressResult"), "progress, points, level, streak"),
      errors=["BadRequest", "Unauthenticated", "Forbidden", "NotFound"], tag="progress")
route("GET", "/api/v1/progress/courses/{id}", "api_progress_course", "The caller's progress in a course", A, params=[P("id")],
      success=ok(200, ref("CourseProgress"), "progress", ["ETag"]), errors=["BadRequest", "Unauthenticated", "Forbidden", "NotFound"], tag="progress")
route("GET", "/api/v1/quizzes/{id}", "api_quiz_get", "A quiz without its answers", A, params=[P("id")],
      success=ok(200, ref("Quiz"), "the quiz", ["ETag"]), errors=["BadRequest", "Unauthenticated", "Forbidden", "NotFound"], tag="quizzes")
route("POST", "/api/v1/quizzes/{id}/attempts", "api_quiz_attempt", "Submit answers", A, params=[P("id")], body="QuizAttemptRequest",
      success=ok(201, ref("QuizAttempt"), "the graded attempt"), errors=["BadRequest", "Unauthenticated", "Forbidden", "NotFound", "Conflict"], tag="quizzes")
route("GET", "/api/v1/gamification/me", "api_gamification_me", "The caller's points, level, streak, achievements and rank", A,
      success=ok(200, ref("Gamification"), "figures", ["ETag"]), errors=["Unauthenticated"], tag="gamification")
route("GET", "/api/v1/gamification/me/history", "api_gamification_history", "The caller's points ledger", A, params=[P("page"), P("limit")],
      success=ok(200, ref("LedgerEntryPage"), "a page of ledger entries", ["ETag"]), errors=["BadRequest", "Unauthenticated"], tag="gamification")
route("GET", "/api/v1/achievements", "api_achievements_list", "Every achievement", O,
      success=ok(200, ref("AchievementList"), "achievements", ["ETag"]), tag="gamification")
route("POST", "/api/v1/admin/achievements", "api_admin_achievement_create", "Define an achievement (admin)", A, body="AchievementCreate",
      success=ok(201, ref("Achievement"), "the achievement"), errors=["BadRequest", "Unauthenticated", "Forbidden", "Conflict"], tag="admin")
route("POST", "/api/v1/admin/points", "api_admin_points", "Award or correct points (admin)", A, body="PointsCreate",
      success=ok(201, ref("LedgerEntry"), "the ledger entry"), errors=["BadRequest", "Unauthenticated", "Forbidden", "NotFound"], tag="admin")
route("POST", "/api/v1/admin/gamification/recompute", "api_admin_recompute", "Rebuild totals from the ledger (admin)", A,
      success=ok(200, ref("Recompute"), "how many disagreed"), errors=["Unauthenticated", "Forbidden"], tag="admin")
route("GET", "/api/v1/leaderboards/global", "api_leaderboard_global", "The global board", O,
      params=[P("window"), P("boardLimit"), P("offset"), P("around")],
      success=ok(200, ref("Leaderboard"), "the board", ["ETag"]), errors=["BadRequest", "Unauthenticated"], tag="leaderboards")
route("GET", "/api/v1/leaderboards/courses/{id}", "api_leaderboard_course", "A course board", O,
      params=[P("id"), P("window"), P("boardLimit"), P("offset"), P("around")],
      success=ok(200, ref("Leaderboard"), "the board", ["ETag"]), errors=["BadRequest", "Unauthenticated", "NotFound"], tag="leaderboards")
route("POST", "/api/v1/admin/leaderboards/refresh", "api_admin_leaderboards_refresh", "Rebuild every board now (admin)", A,
      success=ok(200, ref("LeaderboardRefresh"), "refreshed boards"), errors=["Unauthenticated", "Forbidden"], tag="admin")
route("POST", "/api/v1/certificates/courses/{id}", "api_certificate_issue", "Issue the caller's certificate (200 when already issued)", A,
      params=[P("id")], success={**ok(201, ref("CertificateIssued"), "issued"), **ok(200, ref("CertificateIssued"), "already issued")},
      errors=["BadRequest", "Unauthenticated", "Forbidden", "NotFound", "Conflict"], tag="certificates")
route("GET", "/api/v1/certificates/{code}", "api_certificate_get", "Verify a certificate", N0, params=[P("code")],
      success=ok(200, ref("Certificate"), "the certificate", ["ETag"]), errors=["NotFound"], tag="certificates")
route("GET", "/api/v1/admin/users", "api_admin_users_list", "Users (admin)", A,
      params=[P("page"), P("limit"), {"name": "role", "in": "query", "schema": S}, {"name": "q", "in": "query", "schema": S}],
      success=ok(200, ref("UserPage"), "a page of users", ["ETag"]), errors=["BadRequest", "Unauthenticated", "Forbidden"], tag="admin")
route("PATCH", "/api/v1/admin/users/{id}", "api_admin_user_patch", "Change a user's role or status (admin)", A, params=[P("id")],
      body="AdminUserPatch", success=ok(200, ref("User"), "the user"), errors=["BadRequest", "Unauthenticated", "Forbidden", "NotFound"], tag="admin")
route("GET", "/api/v1/admin/audit", "api_admin_audit", "The audit log, newest first (admin)", A, params=[P("after"), P("limit")],
      success=ok(200, ref("AuditPage"), "a cursor page", ["ETag"]), errors=["BadRequest", "Unauthenticated", "Forbidden"], tag="admin")
route("GET", "/api/v1/admin/performance", "api_admin_performance", "Database and gateway figures (admin)", A,
      success=ok(200, ref("Performance"), "figures", ["ETag"]), errors=["Unauthenticated", "Forbidden"], tag="admin")
route("GET", "/api/v1/admin/gamification/rules", "api_admin_point_rules_get", "The point rules in force (admin)", A,
      success=ok(200, ref("PointRules"), "rules and course overrides", ["ETag"]), errors=["Unauthenticated", "Forbidden"], tag="admin")
route("PUT", "/api/v1/admin/gamification/rules", "api_admin_point_rules_put",
      "Set the point rules exactly (admin): new events earn them at once; audit-logged", A, body="PointRulesPut",
      success=ok(200, ref("PointRules"), "the rules in force"), errors=["BadRequest", "Unauthenticated", "Forbidden"], tag="admin")
route("POST", "/api/v1/admin/gamification/recalculate", "api_admin_recalculate",
      "Re-score past events under the rules in force, through ledger corrections (admin); optional body {course_id}", A,
      success=ok(200, ref("Recalculation"), "what it corrected"), errors=["BadRequest", "Unauthenticated", "Forbidden", "NotFound"], tag="admin")
route("GET", "/api/v1/leaderboards/groups", "api_leaderboard_groups",
      "The group ladder: groups ranked by average points per member (default) or total; with a token, me = the caller's groups", O,
      params=[P("window"), {"name": "rank_by", "in": "query", "schema": {"type": "string", "enum": ["average", "total"], "default": "average"}},
              P("boardLimit"), P("offset"),
              {"name": "around", "in": "query", "description": "me: the items are the caller's groups (needs a token)",
               "schema": {"type": "string", "enum": ["me"]}}],
      success=ok(200, ref("GroupLadder"), "the ladder", ["ETag"]), errors=["BadRequest", "Unauthenticated"], tag="leaderboards")
route("GET", "/api/v1/leagues/me", "api_leagues_me", "The caller's league week: tier, cohort standings, zones, ends_at", A,
      success=ok(200, ref("League"), "the week", ["ETag"]), errors=["Unauthenticated"], tag="leagues")
route("GET", "/api/v1/leagues/me/history", "api_leagues_history", "The caller's league weeks, newest first", A, params=[P("page"), P("limit")],
      success=ok(200, ref("LeagueWeekPage"), "a page of weeks", ["ETag"]), errors=["BadRequest", "Unauthenticated"], tag="leagues")
route("GET", "/api/v1/admin/leagues/tiers", "api_admin_league_tiers_get", "The league tiers and settings (admin)", A,
      success=ok(200, ref("LeagueConfig"), "tiers and settings", ["ETag"]), errors=["Unauthenticated", "Forbidden"], tag="admin")
route("PUT", "/api/v1/admin/leagues/tiers", "api_admin_league_tiers_put", "Replace the league tiers; change settings (admin)", A,
      body="LeagueConfigPut", success=ok(200, ref("LeagueConfig"), "tiers and settings"),
      errors=["BadRequest", "Unauthenticated", "Forbidden"], tag="admin")
route("POST", "/api/v1/admin/leagues/rollover", "api_admin_league_rollover", "Roll over every league week that has ended (admin)", A,
      success=ok(200, ref("LeagueRollover"), "the weeks rolled over"), errors=["Unauthenticated", "Forbidden"], tag="admin")
route("GET", "/api/v1/groups", "api_groups_list", "Groups the caller sees (admin: all; others: managed or joined)", A,
      params=[P("page"), P("limit")], success=ok(200, ref("GroupPage"), "a page of groups", ["ETag"]),
      errors=["BadRequest", "Unauthenticated"], tag="groups")
route("POST", "/api/v1/groups", "api_group_create", "Make a group (instructor, admin)", A, body="GroupCreate",
      success=ok(201, ref("Group"), "the group"), errors=["BadRequest", "Unauthenticated", "Forbidden"], tag="groups")
route("GET", "/api/v1/groups/{id}", "api_group_get", "A group (owner, admin, member)", A, params=[P("id")],
      success=ok(200, ref("Group"), "the group", ["ETag"]), errors=["BadRequest", "Unauthenticated", "Forbidden", "NotFound"], tag="groups")
route("PATCH", "/api/v1/groups/{id}", "api_group_patch", "Rename or describe a group (owner, admin)", A, params=[P("id")], body="GroupPatch",
      success=ok(200, ref("Group"), "the group"), errors=["BadRequest", "Unauthenticated", "Forbidden", "NotFound"], tag="groups")
route("DELETE", "/api/v1/groups/{id}", "api_group_delete", "Delete a group (owner, admin)", A, params=[P("id")],
      success=ok(204, None, "deleted"), errors=["BadRequest", "Unauthenticated", "Forbidden", "NotFound"], tag="groups")
route("GET", "/api/v1/groups/{id}/members", "api_group_members", "A group's members (owner, admin)", A,
      params=[P("id"), P("page"), P("limit")], success=ok(200, ref("GroupMemberPage"), "a page of members", ["ETag"]),
      errors=["BadRequest", "Unauthenticated", "Forbidden", "NotFound"], tag="groups")
route("POST", "/api/v1/groups/{id}/members", "api_group_members_add", "Add members (owner, admin; members already in stay)", A,
      params=[P("id")], body="GroupMembersChange", success=ok(200, ref("GroupMembersResult"), "added"),
      errors=["BadRequest", "Unauthenticated", "Forbidden", "NotFound"], tag="groups")
route("PUT", "/api/v1/groups/{id}/members", "api_group_members_set", "Set the members to exactly user_ids (owner, admin)", A,
      params=[P("id")], body="GroupMembersChange", success=ok(200, ref("GroupMembersResult"), "added and removed"),
      errors=["BadRequest", "Unauthenticated", "Forbidden", "NotFound"], tag="groups")

route("GET", "/api/v1/me/dashboard", "api_me_dashboard",
      "The learner's home page in one call: profile, active enrollments with progress, where to continue, points, level, streak, newest achievements, ranks", A,
      success=ok(200, ref("Dashboard"), "the home page", ["ETag"]), errors=["BadRequest", "Unauthenticated"], tag="users")

def stream_ok(types, desc):
    return {"200": {"description": desc + " Sent with Transfer-Encoding: chunked as it is read from a cursor "
                    "(Content-Disposition names the file); a failure after the first byte cuts the transfer.",
                    "headers": {"X-Request-Id": {"$ref": "#/components/headers/X-Request-Id"},
                                "Cache-Control": {"$ref": "#/components/headers/Cache-Control"}},
                    "content": {t: {"schema": S} for t in types}}}

route("GET", "/api/v1/courses/{id}/export/progress", "api_export_course_progress",
      "Export a course's lesson progress as CSV, streamed (owner, admin)", A, params=[P("id")],
      success=stream_ok(["text/csv"], "user_id,email,display_name,lesson_id,lesson_title,kind,watched_seconds,last_position_seconds,completion_percentage,is_completed,completed_at,updated_at."),
      errors=["Unauthenticated", "Forbidden", "NotFound"], tag="exports")
route("GET", "/api/v1/courses/{id}/export/gradebook", "api_export_course_gradebook",
      "Export a course's gradebook (best quiz scores) as CSV, streamed (owner, admin)", A, params=[P("id")],
      success=stream_ok(["text/csv"], "user_id,email,display_name,quiz_id,quiz_title,lesson_id,attempts,best_score,passed,last_attempt_at."),
      errors=["Unauthenticated", "Forbidden", "NotFound"], tag="exports")
SINCE = {"name": "since", "in": "query", "description": "ISO 8601 date-time with a zone: from this instant (inclusive)", "schema": TS}
UNTIL = {"name": "until", "in": "query", "description": "ISO 8601 date-time with a zone: before this instant", "schema": TS}
route("GET", "/api/v1/admin/export/ledger", "api_export_ledger", "Export the points ledger as CSV, streamed (admin)", A,
      params=[SINCE, UNTIL], success=stream_ok(["text/csv"], "id,user_id,points,reason,source_key,course_id,source_id,note,created_at in id order."),
      errors=["BadRequest", "Unauthenticated", "Forbidden"], tag="exports")
route("GET", "/api/v1/admin/export/statements", "api_export_statements",
      "Export the xAPI statements as NDJSON (default) or CSV, streamed (admin)", A,
      params=[{"name": "format", "in": "query", "schema": {"type": "string", "enum": ["ndjson", "csv"], "default": "ndjson"}}, SINCE, UNTIL],
      success=stream_ok(["application/x-ndjson", "text/csv"], "One statement per line as stored (NDJSON), or id,stored,actor,verb,object_type,object_id,success,completion,score_scaled,registration,voided (CSV), in stored order."),
      errors=["BadRequest", "Unauthenticated", "Forbidden"], tag="exports")
route("POST", "/api/v1/admin/xapi/clients", "api_admin_xapi_client_create",
      "Make the Basic credentials of an xAPI activity provider (admin); the secret is shown once", A, body="XapiClientCreate",
      success=ok(201, ref("XapiClient"), "the new credentials"), errors=["BadRequest", "Unauthenticated", "Forbidden"], tag="xapi")

paths = {}
for method, path, fn, summary, auth, params, body, success, errors, tag in ROUTES:
    op = {"operationId": fn, "summary": summary, "tags": [tag], "x-sql-function": "lms." + fn,
          "parameters": params + [P("X-Request-Id")] + ([P("If-None-Match")] if method == "GET" else [])}
    if auth == A:
        op["security"] = [{"bearerAuth": []}, {"cookieAuth": []}]
    elif auth == O:
        op["security"] = [{}, {"bearerAuth": []}, {"cookieAuth": []}]
    else:
        op["security"] = [{}]
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": ref(body)}}}
    resp = dict(success)
    if method == "GET":
        resp["304"] = {"description": "If-None-Match matched the ETag"}
    for e in errors:
        code = {"BadRequest": "400", "Unauthenticated": "401", "Forbidden": "403", "NotFound": "404",
                "Conflict": "409", "RateLimited": "429"}[e]
        resp[code] = R(e)
    if "400" not in resp and ("{id}" in path):
        resp["400"] = R("BadRequest")
    resp.setdefault("404", R("NotFound"))
    resp["405"] = problem_resp("method_not_allowed, with Allow")
    if body:
        resp["400"] = R("BadRequest")
        resp["413"] = R("PayloadTooLarge")
        resp["415"] = R("UnsupportedMediaType")
    resp["429"] = R("RateLimited")
    resp["500"] = R("InternalError")
    resp["503"] = R("Unavailable")
    op["responses"] = resp
    paths.setdefault(path, {})[method.lower()] = op

# The xAPI Learning Record Store (docs/xapi.md): its own calling convention (xAPI 1.0.3 / 2.0.0),
# one lms.api_xapi_* function per resource taking (method, query, headers, body bytea).
XAPI_HEADERS = [{"name": "X-Experience-API-Version", "in": "header", "required": True,
                 "description": "1.0.x or 2.0.x (400 otherwise; not needed for /xapi/about)", "schema": S},
                {"name": "Authorization", "in": "header", "required": True,
                 "description": "Basic key:secret of an activity provider (lms.xapi_create_client or POST /api/v1/admin/xapi/clients)", "schema": S}]
XAPI = [
    ("/xapi/statements", ["get", "put", "post"], "api_xapi_statements",
     "Statements: PUT ?statementId (204), POST one or a batch (200 [ids]; multipart/mixed with attachments), GET by statementId / "
     "voidedStatementId or a StatementResult {statements, more} filtered by agent, verb, activity, registration, related_activities, "
     "related_agents, since, until, limit, format (exact|ids|canonical), attachments, ascending; X-Experience-API-Consistent-Through"),
    ("/xapi/activities/state", ["get", "put", "post", "delete"], "api_xapi_state",
     "State documents by activityId, agent, registration, stateId (GET without stateId: the ids; DELETE without: all)"),
    ("/xapi/activities/profile", ["get", "put", "post", "delete"], "api_xapi_activity_profile",
     "Activity profiles by activityId and profileId, with ETag / If-Match / If-None-Match (412, 409)"),
    ("/xapi/agents/profile", ["get", "put", "post", "delete"], "api_xapi_agent_profile",
     "Agent profiles by agent and profileId, with ETag / If-Match / If-None-Match (412, 409)"),
    ("/xapi/activities", ["get"], "api_xapi_activities", "The Activity object (the canonical definition the LRS holds)"),
    ("/xapi/agents", ["get"], "api_xapi_agents", "The Person object of an agent"),
    ("/xapi/about", ["get"], "api_xapi_about", "The xAPI versions this LRS speaks (no credentials or version header needed)"),
]
for path, methods, fn, summary in XAPI:
    for m in methods:
        paths[path] = paths.get(path, {})
        paths[path][m] = {"operationId": fn + "_" + m, "summary": summary, "tags": ["xapi"], "x-sql-function": "lms." + fn,
                          "security": [{}] if path == "/xapi/about" else [{"basicAuth": []}],
                          "parameters": [] if path == "/xapi/about" else XAPI_HEADERS,
                          "responses": {"200": {"description": "the resource (JSON, a document of any type, or multipart/mixed)"},
                                        "204": {"description": "stored"},
                                        "400": {"description": "invalid request or statement (problem+json with code xapi_bad_request)"},
                                        "401": {"description": "missing or wrong Basic credentials"},
                                        "404": {"description": "no such statement or document"},
                                        "409": {"description": "conflict (a different statement with the id; a PUT over a profile without a precondition)"},
                                        "412": {"description": "If-Match / If-None-Match failed"}}}

paths["/health"] = {"get": {"operationId": "health", "summary": "Liveness: 200 while the process serves (no database)",
                            "tags": ["operations"], "security": [{}],
                            "responses": {"200": {"description": "alive", "content": {"application/json": {"schema": obj({"status": {"type": "string", "enum": ["ok"]}})}}}}}}
paths["/ready"] = {"get": {"operationId": "ready", "summary": "Readiness: 200 when the database answers, else 503",
                           "tags": ["operations"], "security": [{}],
                           "responses": {"200": {"description": "ready", "content": {"application/json": {"schema": obj({"status": {"type": "string", "enum": ["ready"]}})}}},
                                         "503": R("Unavailable")}}}
paths["/metrics"] = {"get": {"operationId": "metrics", "summary": "Prometheus text: requests by route/method/status, latency histograms, pool gauges, database errors",
                             "tags": ["operations"], "security": [{}],
                             "responses": {"200": {"description": "Prometheus text format 0.0.4", "content": {"text/plain": {"schema": S}}}}}}
paths["/api/v1/openapi.json"] = {"get": {"operationId": "openapi", "summary": "This document", "tags": ["operations"], "security": [{}],
                                         "responses": {"200": {"description": "OpenAPI 3 document", "content": {"application/json": {"schema": {"type": "object"}}}},
                                                       "304": {"description": "not modified"}}}}

doc = {
    "openapi": "3.0.3",
    "info": {"title": "LMS REST API", "version": "1.0.0",
             "description": "The REST contract of the LMS core (shared/API.md), served by lms-gateway: every /api/v1 route is one call of one "
                            "lms.api_* function (x-sql-function). Conventions: errors are application/problem+json "
                            "{type,title,status,detail,code[,errors]}; ids are 64-bit integers (non-numeric or out of range: 400 invalid_id); "
                            "unknown routes 404 not_found; wrong method 405 method_not_allowed with Allow; bodies are JSON "
                            "(415 unsupported_media_type, 400 invalid_json, 413 payload_too_large over 1 MiB by default); "
                            "login and register are limited per client address (default 5/minute, 429 rate_limited with Retry-After); "
                            "anonymous public GETs are Cache-Control: public, max-age=60, GETs with a token private, no-cache with a weak "
                            "ETag (304 on If-None-Match), mutations and errors no-store; gzip for bodies of 1 KiB or more when accepted; "
                            "X-Request-Id echoed or generated and X-Response-Time (e.g. 1.234ms) on every response; the token is read from "
                            "Authorization: Bearer or the access_token cookie. OPTIONS on a known path answers 204 with Allow (and the CORS "
                            "preflight when an origin is configured). A database that is down or saturated answers 503 "
                            "database_unavailable / database_busy with Retry-After. Requests are framed strictly (RFC 9112; each refusal "
                            "closes the connection): Content-Length values that differ 400 conflicting_content_length, Content-Length "
                            "with Transfer-Encoding 400 conflicting_framing, an invalid length 400 invalid_content_length, a head over "
                            "16 KiB or with 64+ fields 431 request_header_fields_too_large, a version other than HTTP/1.0-1.1 505 "
                            "http_version_not_supported; one client address holding more than 64 connections gets 503 "
                            "too_many_connections with Retry-After."},
    "servers": [{"url": "/"}],
    "tags": [{"name": t} for t in ["auth", "users", "catalog", "enrollment", "progress", "quizzes", "gamification",
                                    "leaderboards", "leagues", "groups", "certificates", "analytics", "exports", "xapi", "admin", "operations"]],
    "paths": paths,
    "components": components,
}
json.dump(doc, sys.stdout, indent=1, sort_keys=False)
sys.stdout.write("\n")
