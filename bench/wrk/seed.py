#!/usr/bin/env python3
"""Seed benchmark data through the gateway: one instructor, a published course with one
video lesson, N learners enrolled in it, each with some points on the boards. Writes DIR/tokens (one per line) and DIR/ids
(course=, lesson=). Users are made with lms.create_user (bcrypt cost 4) as the psql user.
    seed.py http://127.0.0.1:PORT DIR N
"""
import http.client, json, subprocess, sys, urllib.parse, random, string

url, out, n = urllib.parse.urlparse(sys.argv[1]), sys.argv[2], int(sys.argv[3])
run = "".join(random.choice(string.ascii_lowercase) for _ in range(6))
pw = "bench-password-1"

def call(method, path, body=None, token=None):
    c = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    h = {"Content-Type": "application/json"}
    if token:
        h["Authorization"] = "Bearer " + token
    c.request(method, "/api/v1" + path, body=json.dumps(body) if body is not None else None, headers=h)
    r = c.getresponse()
    data = r.read()
    if r.status >= 300:
        sys.exit("seed: %s %s -> %d %s" % (method, path, r.status, data[:300]))
    return json.loads(data) if data else None

emails = ["bench-%s-%d@bench.example" % (run, i) for i in range(n)]
sql = "SET lms.bcrypt_cost = 4;\n" + "SELECT lms.create_user('bench-%s-teacher@bench.example', '%s', 'Teacher', 'instructor');\n" % (run, pw)
sql += "".join("SELECT lms.create_user('%s', '%s', 'Learner %d', 'student');\n" % (e, pw, i) for i, e in enumerate(emails))
p = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"], input=sql, text=True, capture_output=True)
if p.returncode:
    sys.exit("seed: psql: " + p.stderr)
teacher = call("POST", "/auth/login", {"email": "bench-%s-teacher@bench.example" % run, "password": pw})["access_token"]
course = call("POST", "/courses", {"title": "Bench %s" % run, "slug": "bench-%s" % run}, teacher)["id"]
module = call("POST", "/courses/%d/modules" % course, {"title": "M"}, teacher)["id"]
lesson = call("POST", "/modules/%d/lessons" % module, {"title": "Video", "kind": "video", "duration_seconds": 600}, teacher)["id"]
call("POST", "/modules/%d/lessons" % module, {"title": "Text", "kind": "text", "content": "x"}, teacher)
call("POST", "/courses/%d/publish" % course, None, teacher)
tokens = []
for e in emails:
    t = call("POST", "/auth/login", {"email": e, "password": pw})["access_token"]
    call("POST", "/courses/%d/enroll" % course, None, t)
    call("POST", "/progress/lessons/%d" % lesson, {"watched_seconds": 5, "last_position_seconds": 5, "completion_percentage": 1}, t)
    tokens.append(t)
# points for everyone (a board worth reading), boards built
sql = "".join("SELECT lms.award_points(u.id, %d, 'quiz_passed', 'bench:%s:%d', NULL) IS NOT NULL FROM lms.users u WHERE u.email = '%s';\n"
              % (10 + (i * 37) % 400, run, i, e) for i, e in enumerate(emails))
sql += "SELECT count(*) FROM lms.refresh_leaderboards();\n"
p = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"], input=sql, text=True, capture_output=True)
if p.returncode:
    sys.exit("seed: psql: " + p.stderr)
with open(out + "/tokens", "w") as f:
    f.write("\n".join(tokens) + "\n")
with open(out + "/ids", "w") as f:
    f.write("course=%d\nlesson=%d\n" % (course, lesson))
print("seeded %d learners, course %d, lesson %d" % (n, course, lesson))
