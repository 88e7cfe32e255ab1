"""HTTP cases of the xAPI Learning Record Store, the dashboard and the streamed exports.

Registered into tests/http/test_gateway.py (register(g) with that module), so they run in its
order, with its helpers and its shared STATE (users, tokens, the course and its lessons).
ADL's conformance suite is `make conformance`; these cases check the gateway's side of the
xAPI dialect (headers in and out, raw and multipart bodies, HEAD) and the LRS rules end to end.
"""
import base64
import csv
import hashlib
import io
import http.client
import json
import time
import uuid


def register(g):
    test, check, expect, expect_problem, need, STATE = g.test, g.check, g.expect, g.expect_problem, g.need, g.STATE

    def xreq(method, path, body=None, headers=None, raw=None, ctype="application/json", auth=True, version="1.0.3"):
        hdrs = {}
        if version:
            hdrs["X-Experience-API-Version"] = version
        if auth:
            key, secret = need("xapi_key", "xapi_secret")
            hdrs["Authorization"] = "Basic " + base64.b64encode(("%s:%s" % (key, secret)).encode()).decode()
        hdrs.update(headers or {})
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        return g.request(method, "/xapi" + path, raw_body=data, ctype=ctype if data is not None else None, headers=hdrs)

    def agent_q(mbox):
        return json.dumps({"mbox": "mailto:" + mbox}).replace(" ", "")

    def q(**kw):
        import urllib.parse
        return "?" + urllib.parse.urlencode(kw)

    @test
    def xapi_client_made_by_an_admin_route():
        admin, alice = need("admin", "alice")
        expect_problem(g.api("POST", "/admin/xapi/clients", body={"name": "player"}, token=alice), 403, "forbidden")
        expect_problem(g.api("POST", "/admin/xapi/clients", body={"name": ""}, token=admin), 400, "validation_failed")
        r = expect(g.api("POST", "/admin/xapi/clients", body={"name": "Course player %s" % g.RUN}, token=admin), 201)
        doc = r.json()
        check(len(doc["key"]) == 24 and len(doc["secret"]) >= 40, "key/secret shape: %r" % doc)
        stored = g.psql("SELECT encode(secret_hash, 'hex') FROM lms.xapi_clients WHERE api_key = %s" % g.lit(doc["key"]))
        check(stored == hashlib.sha256(doc["secret"].encode()).hexdigest(), "secret not stored as its SHA-256")
        check(doc["secret"] not in g.psql("SELECT row_to_json(c)::text FROM lms.xapi_clients c"), "secret stored in clear")
        STATE["xapi_key"], STATE["xapi_secret"] = doc["key"], doc["secret"]

    @test
    def xapi_about_version_and_credentials():
        r = expect(xreq("GET", "/about", auth=False, version=None), 200)
        check("1.0.3" in r.json()["version"] and "2.0.0" in r.json()["version"], "about: %r" % r.body)
        r = expect(xreq("GET", "/statements", version=None), 400)
        check(r.h("x-experience-api-version") == "1.0.3", "version header on the 400")
        expect(xreq("GET", "/statements", version="0.95"), 400)
        r = expect(xreq("GET", "/statements", auth=False), 401)
        check("Basic" in (r.h("www-authenticate") or ""), "WWW-Authenticate missing")
        expect(xreq("GET", "/statements", headers={"Authorization": "Basic " + base64.b64encode(b"nope:nope").decode()}), 401)
        r = expect(xreq("GET", "/statements", version="2.0.0"), 200)
        check(r.h("x-experience-api-version") == "2.0.0", "2.0 answer version %r" % r.h("x-experience-api-version"))
        check(r.h("x-experience-api-consistent-through"), "no X-Experience-API-Consistent-Through")
        expect(xreq("DELETE", "/statements"), 405)

    @test
    def xapi_statements_put_post_get_conflict_and_validation():
        sid = str(uuid.uuid4())
        st = {"actor": {"mbox": "mailto:x-%s@test.example" % g.RUN, "name": "X"},
              "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced", "display": {"en-US": "experienced"}},
              "object": {"id": "http://test.example/%s/a1" % g.RUN, "definition": {"name": {"en-US": "A1"}}}}
        expect(xreq("PUT", "/statements" + q(statementId=sid), st), 204)
        expect(xreq("PUT", "/statements" + q(statementId=sid), st), 204)       # the same again: no-op
        other = dict(st, verb={"id": "http://adlnet.gov/expapi/verbs/failed"})
        expect(xreq("PUT", "/statements" + q(statementId=sid), other), 409)
        r = expect(xreq("GET", "/statements" + q(statementId=sid)), 200)
        got = r.json()
        check(got["verb"]["id"].endswith("experienced") and got["stored"] and got["authority"]["account"]["name"] == STATE["xapi_key"],
              "stored statement: %r" % got)
        check(r.h("last-modified"), "no Last-Modified on a single statement")
        r = expect(xreq("POST", "/statements", [st, dict(st, verb={"id": "http://adlnet.gov/expapi/verbs/attempted"})]), 200)
        ids = r.json()
        check(len(ids) == 2 and all(len(i) == 36 for i in ids), "batch ids %r" % ids)
        # all or nothing: one bad statement refuses the batch
        n0 = g.psql("SELECT count(*) FROM lms.xapi_statements")
        expect(xreq("POST", "/statements", [st, dict(st, verb={"id": "not an iri"})]), 400)
        expect(xreq("POST", "/statements", [dict(st, actor={"name": "nobody"})]), 400)
        expect(xreq("POST", "/statements", raw=b"{not json"), 400)
        expect(xreq("POST", "/statements", raw=b"[]"), 400)
        check(g.psql("SELECT count(*) FROM lms.xapi_statements") == n0, "a refused batch stored something")
        expect(xreq("GET", "/statements" + q(statementId=sid, verb="http://x")), 400)
        expect(xreq("GET", "/statements" + q(statementid=sid)), 400)   # names are case-sensitive
        STATE["xapi_stmt"], STATE["xapi_actor"] = sid, st["actor"]["mbox"][7:]
        STATE["xapi_activity"] = st["object"]["id"]

    @test
    def xapi_filters_paging_and_formats():
        mbox, activity = need("xapi_actor", "xapi_activity")
        # three statements more for this agent, paged two at a time
        for i in range(3):
            expect(xreq("POST", "/statements", {"actor": {"mbox": "mailto:" + mbox}, "verb": {"id": "http://adlnet.gov/expapi/verbs/progressed"},
                                                "object": {"id": activity}, "result": {"score": {"scaled": i / 10}}}), 200)
        seen, path, pages = [], "/statements" + q(agent=agent_q(mbox), limit=2), 0
        while path:
            r = expect(xreq("GET", path.replace("/xapi", "", 1) if path.startswith("/xapi") else path), 200)
            doc = r.json()
            seen += [s["id"] for s in doc["statements"]]
            pages += 1
            path = doc["more"]
            check(pages < 10, "more never ends")
        check(len(seen) == 6 and len(set(seen)) == 6, "paged %d statements (%d distinct), expected 6" % (len(seen), len(set(seen))))
        r = expect(xreq("GET", "/statements" + q(activity=activity, verb="http://adlnet.gov/expapi/verbs/progressed", ascending="true")), 200)
        scores = [s["result"]["score"]["scaled"] for s in r.json()["statements"]]
        check(scores == [0, 0.1, 0.2], "filtered ascending scores %r" % scores)
        r = expect(xreq("GET", "/statements" + q(agent=agent_q(mbox), format="ids", limit=1)), 200)
        s = r.json()["statements"][0]
        check(s["object"] == {"id": activity} and "name" not in s["actor"], "ids format %r" % s)
        expect(xreq("GET", "/statements" + q(agent="{not json")), 400)
        expect(xreq("GET", "/statements" + q(since="yesterday")), 400)
        # HEAD: same headers, no body
        gr = xreq("GET", "/statements" + q(statementId=STATE["xapi_stmt"]), headers={"Accept-Encoding": "identity"})
        hr = xreq("HEAD", "/statements" + q(statementId=STATE["xapi_stmt"]), headers={"Accept-Encoding": "identity"})
        check(hr.status == 200 and hr.body == b"" and hr.h("content-length") == gr.h("content-length"), "HEAD %r" % hr)

    @test
    def xapi_voiding_hides_the_target():
        mbox = need("xapi_actor")[0]
        target = str(uuid.uuid4())
        expect(xreq("PUT", "/statements" + q(statementId=target), {"actor": {"mbox": "mailto:" + mbox},
               "verb": {"id": "http://adlnet.gov/expapi/verbs/voidme"}, "object": {"id": "http://test.example/void"}}), 204)
        voiding = {"actor": {"mbox": "mailto:" + mbox}, "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
                   "object": {"objectType": "StatementRef", "id": target}}
        vid = expect(xreq("POST", "/statements", voiding), 200).json()[0]
        expect(xreq("GET", "/statements" + q(statementId=target)), 404)
        expect(xreq("GET", "/statements" + q(voidedStatementId=target)), 200)
        ids = [s["id"] for s in expect(xreq("GET", "/statements" + q(verb="http://adlnet.gov/expapi/verbs/voidme")), 200).json()["statements"]]
        check(target not in ids and vid in ids, "the voided statement is listed, or its voiding statement is not: %r" % ids)
        # a voiding statement cannot be voided
        expect(xreq("POST", "/statements", dict(voiding, object={"objectType": "StatementRef", "id": vid})), 400)

    @test
    def xapi_attachments_multipart_round_trip():
        data = b"\x00\x01binary\xffpayload"
        sha = hashlib.sha256(data).hexdigest()
        sid = str(uuid.uuid4())
        st = {"id": sid, "actor": {"mbox": "mailto:att-%s@test.example" % g.RUN}, "verb": {"id": "http://adlnet.gov/expapi/verbs/answered"},
              "object": {"id": "http://test.example/att"},
              "attachments": [{"usageType": "http://test.example/usage", "display": {"en-US": "blob"},
                               "contentType": "application/octet-stream", "length": len(data), "sha2": sha}]}
        b = "xapiboundary"
        body = ("--%s\r\nContent-Type: application/json\r\n\r\n%s\r\n--%s\r\nContent-Type: application/octet-stream\r\n"
                "Content-Transfer-Encoding: binary\r\nX-Experience-API-Hash: %s\r\n\r\n" % (b, json.dumps(st), b, sha)).encode() + data + ("\r\n--%s--" % b).encode()
        expect(xreq("POST", "/statements", raw=body, ctype="multipart/mixed; boundary=" + b), 200)
        # a part whose bytes do not match its hash, and a missing part, are refused
        expect(xreq("POST", "/statements", raw=body.replace(b"binary\xff", b"BINARY\xff").replace(sid.encode(), str(uuid.uuid4()).encode()),
                    ctype="multipart/mixed; boundary=" + b), 400)
        expect(xreq("POST", "/statements", dict(st, id=str(uuid.uuid4()))), 400)
        r = expect(xreq("GET", "/statements" + q(statementId=sid, attachments="true")), 200)
        check((r.h("content-type") or "").startswith("multipart/mixed; boundary="), "type %r" % r.h("content-type"))
        check(data in r.body and sha.encode() in r.body, "attachment bytes not returned")

    @test
    def xapi_documents_etags_and_concurrency():
        mbox = need("xapi_actor")[0]
        act = "http://test.example/%s/doc" % g.RUN
        base = q(activityId=act, agent=agent_q(mbox), stateId="bookmark")
        expect(xreq("PUT", "/activities/state" + base, raw=b"page 12", ctype="text/plain"), 204)
        r = expect(xreq("GET", "/activities/state" + base), 200)
        check(r.body == b"page 12" and r.h("content-type").startswith("text/plain"), "state %r" % r)
        check(r.h("etag") == '"%s"' % hashlib.sha1(b"page 12").hexdigest(), "ETag %r is not the quoted SHA-1" % r.h("etag"))
        expect(xreq("POST", "/activities/state" + base, {"a": 1}), 400)       # merging into text
        expect(xreq("DELETE", "/activities/state" + q(activityId=act, agent=agent_q(mbox))), 204)
        expect(xreq("GET", "/activities/state" + base), 404)
        prof = q(activityId=act, profileId="p1")
        expect(xreq("PUT", "/activities/profile" + prof, {"x": 1}), 400)    # neither header on a new profile
        expect(xreq("PUT", "/activities/profile" + prof, {"x": 1}, headers={"If-None-Match": "*"}), 204)
        expect(xreq("PUT", "/activities/profile" + prof, {"x": 2}), 409)
        expect(xreq("PUT", "/activities/profile" + prof, {"x": 2}, headers={"If-None-Match": "*"}), 412)
        expect(xreq("PUT", "/activities/profile" + prof, {"x": 2}, headers={"If-Match": '"0000"'}), 412)
        etag = expect(xreq("GET", "/activities/profile" + prof), 200).h("etag")
        expect(xreq("PUT", "/activities/profile" + prof, {"x": 2}, headers={"If-Match": etag}), 204)
        expect(xreq("POST", "/activities/profile" + prof, {"y": 3}), 204)
        check(expect(xreq("GET", "/activities/profile" + prof), 200).json() == {"x": 2, "y": 3}, "merge")
        check(expect(xreq("GET", "/activities/profile" + q(activityId=act)), 200).json() == ["p1"], "id list")
        aprof = q(agent=agent_q(mbox), profileId="prefs")
        expect(xreq("PUT", "/agents/profile" + aprof, {"lang": "fr"}, headers={"If-None-Match": "*"}), 204)
        check(expect(xreq("GET", "/agents/profile" + aprof), 200).json() == {"lang": "fr"}, "agent profile")
        expect(xreq("POST", "/agents/profile" + aprof, {"size": "xl"}), 204)
        expect(xreq("DELETE", "/agents/profile" + aprof), 204)
        expect(xreq("GET", "/agents/profile" + aprof), 404)
        expect(xreq("DELETE", "/activities/profile" + prof), 204)
        expect(xreq("GET", "/activities/profile" + q(activityId="no iri")), 400)

    @test
    def xapi_activities_agents_and_alternate_syntax():
        act = need("xapi_activity")[0]
        r = expect(xreq("GET", "/activities" + q(activityId=act)), 200)
        check(r.json()["definition"]["name"] == {"en-US": "A1"}, "activity %r" % r.json())
        r = expect(xreq("GET", "/agents" + q(agent=agent_q("p@test.example"))), 200)
        check(r.json() == {"objectType": "Person", "mbox": ["mailto:p@test.example"]}, "person %r" % r.json())
        expect(xreq("GET", "/agents"), 400)
        # the Alternate Request Syntax (xAPI 1.0.3): a GET sent as a form POST
        key, secret = need("xapi_key", "xapi_secret")
        import urllib.parse
        form = urllib.parse.urlencode({"X-Experience-API-Version": "1.0.3", "limit": "1",
                                       "Authorization": "Basic " + base64.b64encode(("%s:%s" % (key, secret)).encode()).decode()})
        r = g.request("POST", "/xapi/statements?method=GET", raw_body=form, ctype="application/x-www-form-urlencoded")
        check(r.status == 200 and len(r.json()["statements"]) == 1, "alternate syntax %r" % r)

    @test
    def xapi_lms_emits_the_learners_own_record():
        """lms's own events (enrolling, progress by quarter, completion, points) become statements
        in their transaction; a client reads them through /xapi with the usual filters."""
        course, video = need("course", "video_lesson")
        email = "rec-%s@test.example" % g.RUN
        uid = g.seed_user(email, "student", "Rec")
        tok = expect(g.login(email), 200).json()["access_token"]
        base = g.psql("SELECT lms.xapi_iri_base()").splitlines()[-1]
        agent = json.dumps({"account": {"homePage": base, "name": str(uid)}})
        lesson_iri = "%s/xapi/activities/lesson/%d" % (base, video)

        def record(**kw):
            r = xreq("GET", "/statements" + q(agent=agent, ascending="true", **kw))
            expect(r, 200)
            return [(s["verb"]["id"].rsplit("/", 1)[1], s["object"]["id"]) for s in r.json()["statements"]]

        # a refused write emits nothing: not enrolled yet
        expect_problem(g.api("POST", "/progress/lessons/%d" % video, token=tok,
                             body={"watched_seconds": 10, "last_position_seconds": 10, "completion_percentage": 30}), 403)
        check(record() == [], "a refused write left statements: %r" % record())
        expect(g.api("POST", "/courses/%d/enroll" % course, token=tok), 201)
        for pct in (10, 30, 35, 60, 95, 100):
            expect(g.api("POST", "/progress/lessons/%d" % video, token=tok,
                         body={"watched_seconds": pct, "last_position_seconds": pct, "completion_percentage": pct}), 200)
        got = record(activity=lesson_iri)
        check([v for v, _ in got] == ["progressed", "progressed", "completed", "earned"], "the lesson's record: %r" % got)
        r = expect(xreq("GET", "/statements" + q(agent=agent, activity=lesson_iri, ascending="true")), 200)
        st = r.json()["statements"]
        check([s["result"]["extensions"]["https://w3id.org/xapi/cmi5/result/extensions/progress"] for s in st[:2]] == [30, 60],
              "progress extensions %r" % [s.get("result") for s in st[:2]])
        check(all(s["authority"]["account"]["homePage"] == "urn:lms:system" and s["context"]["registration"] == st[0]["context"]["registration"]
                  for s in st), "authority / registration %r" % st)
        got = record(activity="%s/xapi/activities/course/%d" % (base, course), related_activities="true")
        check(got[0][0] == "registered" and len(got) >= 5, "the course's record: %r" % got)
        got = record(registration=st[0]["context"]["registration"], verb="http://adlnet.gov/expapi/verbs/registered")
        check(len(got) == 1, "by registration: %r" % got)
        # an emitted statement is a valid statement: a client sending it again is the same statement
        expect(xreq("POST", "/statements", st[2]), 200)
        r = expect(xreq("GET", "/activities" + q(activityId=lesson_iri)), 200)
        check(r.json()["definition"]["type"] == "http://adlnet.gov/expapi/activities/lesson", "lesson activity %r" % r.json())

    @test
    def dashboard_is_the_four_calls_in_one():
        alice = need("alice")[0]
        expect_problem(g.api("GET", "/me/dashboard"), 401, "unauthenticated")
        expect_problem(g.api("GET", "/me/dashboard?x=1", token=alice), 400, "validation_failed")
        r = expect(g.api("GET", "/me/dashboard", token=alice), 200)
        d = r.json()
        me = expect(g.api("GET", "/users/me", token=alice), 200).json()
        gm = expect(g.api("GET", "/gamification/me", token=alice), 200).json()
        en = expect(g.api("GET", "/enrollments/me?status=active&limit=100", token=alice), 200).json()
        check(d["user"] == me, "user differs from /users/me")
        check(d["gamification"] == {k: v for k, v in gm.items() if k != "achievements"}, "gamification differs")
        check(d["newest_achievements"] == list(reversed(gm["achievements"]))[:5], "newest achievements differ")
        check(d["enrollments"] == en["items"] and d["active_enrollments"] == en["total"], "enrollments differ")
        check(d["continue"] is None or set(d["continue"]) >= {"course_id", "lesson_id", "last_position_seconds"}, "continue %r" % d["continue"])
        etag = r.h("etag")
        check(etag and r.h("cache-control") == "private, no-cache", "caching headers %r %r" % (etag, r.h("cache-control")))
        expect(g.api("GET", "/me/dashboard", token=alice, headers={"If-None-Match": etag}), 304)

    def stream(path, token):
        """A streamed export read chunk by chunk: (status, headers, body, chunked)."""
        c = http.client.HTTPConnection(g.HOST, g.PORT, timeout=60)
        c.request("GET", "/api/v1" + path, headers={"Authorization": "Bearer " + token})
        r = c.getresponse()
        body = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        c.close()
        return r.status, hdrs, body

    def csv_rows(body):
        """Parse a CSV export; every row has as many fields as the header (a NULL is an empty field)."""
        rows = list(csv.reader(io.StringIO(body.decode())))
        bad = [r for r in rows if len(r) != len(rows[0])]
        check(not bad, "rows with %d fields instead of %d: %r" % (len(bad[0]) if bad else 0, len(rows[0]), bad[:2]))
        return rows

    @test
    def exports_stream_csv_and_ndjson():
        teacher, alice, admin = need("teacher", "alice", "admin")
        cid = need("course")[0]
        st, h, body = stream("/courses/%d/export/progress" % cid, teacher)
        check(st == 200 and h.get("transfer-encoding") == "chunked" and "content-length" not in h, "not chunked: %r" % h)
        check(h.get("content-type", "").startswith("text/csv") and "attachment" in h.get("content-disposition", ""), "headers %r" % h)
        lines = body.decode().splitlines()
        csv_rows(body)
        want = int(g.psql("SELECT count(*) FROM lms.lesson_progress p JOIN lms.lessons l ON l.id = p.lesson_id WHERE l.course_id = %d" % cid))
        check(lines[0].startswith("user_id,email,") and len(lines) == want + 1, "%d lines for %d progress rows" % (len(lines), want))
        st, h, body = stream("/courses/%d/export/progress" % cid, alice)
        check(st == 403 and json.loads(body)["code"] == "forbidden", "learner export %d %r" % (st, body[:200]))
        st, _, body = stream("/courses/%d/export/gradebook" % cid, teacher)
        check(st == 200 and body.startswith(b"user_id,email,display_name,quiz_id"), "gradebook %d %r" % (st, body[:100]))
        csv_rows(body)
        # a learner who started but did not finish a lesson: completed_at is an empty field
        g.psql("INSERT INTO lms.lesson_progress (user_id, lesson_id, course_id, module_id, watched_seconds) "
               "SELECT %d, l.id, l.course_id, l.module_id, 5 FROM lms.lessons l WHERE l.course_id = %d "
               "ON CONFLICT DO NOTHING" % (STATE["dave_id"], cid))
        st, _, body = stream("/courses/%d/export/progress" % cid, teacher)
        rows = csv_rows(body)
        check(any(r[10] == "" for r in rows[1:]), "no row without completed_at")
        st, _, body = stream("/admin/export/ledger", admin)
        csv_rows(body)
        n = int(g.psql("SELECT count(*) FROM lms.points_ledger"))
        check(st == 200 and len(body.decode().splitlines()) == n + 1, "ledger lines vs %d rows" % n)
        st, _, body = stream("/admin/export/ledger?since=not-a-date", admin)
        check(st == 400, "bad since %d" % st)
        st, h, body = stream("/admin/export/statements", admin)
        rows = [json.loads(l) for l in body.decode().splitlines()]
        n = int(g.psql("SELECT count(*) FROM lms.xapi_statements"))
        check(st == 200 and h.get("content-type") == "application/x-ndjson" and len(rows) == n and all("id" in r for r in rows),
              "ndjson: %d rows for %d statements" % (len(rows), n))
        st, _, body = stream("/admin/export/statements?format=csv", admin)
        check(st == 200 and body.startswith(b"id,stored,actor,verb"), "csv statements")
        check(len(csv_rows(body)) == n + 1, "csv statements rows")
        st, _, _ = stream("/admin/export/statements", teacher)
        check(st == 403, "teacher exported statements")
        # the connection stays usable after a chunked answer
        c = http.client.HTTPConnection(g.HOST, g.PORT, timeout=30)
        for _ in range(2):
            c.request("GET", "/api/v1/admin/export/ledger", headers={"Authorization": "Bearer " + admin})
            rr = c.getresponse()
            check(rr.status == 200 and len(rr.read()) > 0, "keep-alive after a stream")
        c.close()
