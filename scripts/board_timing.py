#!/usr/bin/env python3
"""Times GET /board and the first card page of each column on a running salesflow server.

usage: board_timing.py BASE_URL EMAIL PASSWORD [PROCESS_ID] [ROUNDS]
Signs in through the form (session cookie), warms up, then reports per URL the min / median /
p95 / max wall time of ROUNDS sequential requests over loopback (≈ server time).
"""
import http.cookiejar, re, statistics, sys, time, urllib.parse, urllib.request

base, email, password = sys.argv[1], sys.argv[2], sys.argv[3]
process = sys.argv[4] if len(sys.argv) > 4 else ""
rounds = int(sys.argv[5]) if len(sys.argv) > 5 else 20

jar = http.cookiejar.CookieJar()
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)

def get(path):
    t = time.perf_counter()
    try:
        with opener.open(base + path) as r:
            body = r.read().decode()
            status = r.status
    except urllib.error.HTTPError as e:
        body, status = e.read().decode(), e.code
    return status, body, (time.perf_counter() - t) * 1000

_, page, _ = get("/login")
csrf = re.search(r'name="_csrf" value="([^"]+)"', page).group(1)
data = urllib.parse.urlencode({"email": email, "password": password, "_csrf": csrf}).encode()
try:
    opener.open(urllib.request.Request(base + "/login", data=data))
except urllib.error.HTTPError as e:
    assert e.code == 303, f"sign-in answered {e.code}"

board = "/board" + (f"?process={process}" if process else "")
status, html, _ = get(board)
assert status == 200, f"{board}: {status}"
columns = re.findall(r'data-stage="([^"]+)"', html)
urls = [board] + re.findall(r'hx-get="(/board/[^"]+)"', html)
counts = re.findall(r'data-testid="column-count">(\d+)<', html)
print(f"{board}: columns {list(zip(columns, counts))}")
for url in urls:
    for _ in range(3):
        get(url)
    times = []
    for _ in range(rounds):
        status, body, ms = get(url)
        assert status == 200, f"{url}: {status}"
        times.append(ms)
    times.sort()
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    cards = body.count("<article ")
    print(f"{url:55} min {times[0]:7.1f}  median {statistics.median(times):7.1f}  p95 {p95:7.1f}  max {times[-1]:7.1f} ms"
          + (f"  ({cards} cards)" if url != board else ""))

# Moves: the first page of the first column's cards, each tried towards the second column
# (usually refused by a gate) and then moved to Lost with a reason — the biggest column.
if len(sys.argv) > 6 and sys.argv[6] == "moves":
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)
    _, cards, _ = get(urls[1])
    found = re.findall(r'data-deal="(\d+)" data-version="(\d+)"', cards)
    def post(fields):
        req = urllib.request.Request(base + "/board/move", data=urllib.parse.urlencode(fields).encode(),
                                     headers={"Accept": "application/json", "X-CSRF-Token": token})
        t = time.perf_counter()
        try:
            with opener.open(req) as r:
                r.read(); status = r.status
        except urllib.error.HTTPError as e:
            e.read(); status = e.code
        return status, (time.perf_counter() - t) * 1000
    refused, moved = [], []
    for deal, version in found:
        st, ms = post({"deal": deal, "version": version, "to": columns[1]})
        refused.append((st, ms))
        st2, ms2 = post({"deal": deal, "version": version, "to": "lost", "lost_reason": "timing run"})
        moved.append((st2, ms2))
    for label, rows in (("move refused/allowed → " + columns[1], refused), ("move → lost", moved)):
        ts = sorted(ms for _, ms in rows)
        print(f"POST /board/move {label:32} statuses {sorted(set(s for s, _ in rows))}  median {statistics.median(ts):7.1f}  max {ts[-1]:7.1f} ms  (n={len(ts)})")
