#!/usr/bin/env python3
"""Sends a visitor's journey through the real Segment and RudderStack Python libraries to a
live `leadledger serve`, then checks it through the API.

Each library, with gzip on and off, gets a fresh visitor and user: anonymous page views with
UTM parameters (a week and a day before), an ad click, identify with traits, track "Demo
Requested", group, alias; flush. Then: the lead exists with its profile, its history holds the
anonymous touches at their own times, first-touch attribution credits the anonymous UTM
channel, and sending the same messages again stored nothing twice.

    tracking_sdks.py URL WRITE_KEY READ_KEY
"""
import datetime
import json
import sys
import urllib.request
import uuid

from rudderstack.analytics.client import Client as RudderClient
from segment.analytics.client import Client as SegmentClient

url, write_key, read_key = sys.argv[1:4]
failures = []


def api(path):
    request = urllib.request.Request(url + path, headers={"Authorization": "Bearer " + read_key})
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())


def check(what, condition, detail=""):
    print(("ok    " if condition else "FAIL  ") + what + (f"  ({detail})" if detail and not condition else ""))
    if not condition:
        failures.append(what)


def journey(send, flush, user, visitor, suffix):
    """The messages of one journey, sent through `send(kind, **fields)`; returns their times."""
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    week = now - datetime.timedelta(days=7)
    day = now - datetime.timedelta(days=1)
    campaign = {"source": "google", "medium": "cpc", "name": "spring-" + suffix, "content": "ad-a"}
    send("page", anonymous_id=visitor, name="Pricing", timestamp=week, message_id=f"{suffix}-1",
         properties={"url": f"https://example.com/pricing?utm_source=google&utm_medium=cpc&utm_campaign=spring-{suffix}"},
         context={"campaign": campaign, "page": {"url": "https://example.com/pricing", "referrer": "https://www.google.com/"}})
    send("page", anonymous_id=visitor, name="Blog", timestamp=day, message_id=f"{suffix}-2",
         properties={"url": "https://example.com/blog"}, context={"page": {"url": "https://example.com/blog"}})
    send("track", anonymous_id=visitor, event="Ad Clicked", timestamp=day + datetime.timedelta(minutes=5), message_id=f"{suffix}-3",
         context={"campaign": {"source": "linkedin", "medium": "paid_social", "name": "retarget"}})
    send("identify", user_id=user, anonymous_id=visitor, traits={"email": f"{user}@example.com", "company": "Example", "title": "CTO"},
         message_id=f"{suffix}-4")
    send("track", user_id=user, anonymous_id=visitor, event="Demo Requested", properties={"plan": "team"}, message_id=f"{suffix}-5")
    send("group", user_id=user, anonymous_id=visitor, group_id="acme-" + suffix, traits={"name": "Acme", "employees": 120}, message_id=f"{suffix}-6")
    send("alias", previous_id=visitor, user_id=user, message_id=f"{suffix}-7")
    flush()
    return week, day


def verify(label, user, week, day):
    lead = api(f"/v1/leads/{user}")
    profile = lead.get("profile", {})
    check(f"{label}: the lead exists with its profile", profile.get("email") == f"{user}@example.com" and profile.get("accountId", "").startswith("acme-"), json.dumps(lead))
    rows = api(f"/v1/leads/{user}/history")["rows"]
    pages = [row for row in rows if row["type"] == "touch.page_view"]
    times = sorted(row["at"] for row in pages)
    check(f"{label}: the history holds the anonymous page views at their own times",
          len(pages) == 2 and times[0].startswith(week.strftime("%Y-%m-%dT%H:%M")) and times[1].startswith(day.strftime("%Y-%m-%dT%H:%M")),
          json.dumps(times))
    check(f"{label}: and the ad click, the capture, the join and the demo request",
          {"touch.ad_click", "lead.captured", "identity.linked", "touch.demo_requested"} <= {row["type"] for row in rows}, json.dumps([r["type"] for r in rows]))
    return len(rows)


def win(user):
    """Takes the lead to a won deal through the native API (attribution credits conversions)."""
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    base = {"lead": user, "at": now, "actor": "sales-rep"}
    events = [
        dict(base, id=f"{user}-q", type="lead.qualified", data={"by": "manual"}),
        dict(base, id=f"{user}-h", type="lead.handed_off", data={"to": "sales-rep"}),
        dict(base, id=f"{user}-a", type="sales.accepted"),
        dict(base, id=f"{user}-o", type="opportunity.opened", data={"opportunity": f"opp-{user}", "amount": 1000}),
        dict(base, id=f"{user}-w", type="deal.closed", data={"opportunity": f"opp-{user}", "outcome": "won", "amount": 1000}),
    ]
    request = urllib.request.Request(url + "/v1/events", data=json.dumps(events).encode(), method="POST",
                                     headers={"Authorization": "Bearer " + write_key, "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        answer = json.loads(response.read())
    check(f"{user}: the deal is won", answer.get("appended") == len(events), json.dumps(answer))


def run(label, make_client, send_all, gzip):
    user = f"user-{label}-{uuid.uuid4().hex[:6]}"
    visitor = f"anon-{uuid.uuid4().hex}"
    suffix = f"{label}-{uuid.uuid4().hex[:6]}"
    client = make_client(gzip)
    week, day = send_all(client, user, visitor, suffix)
    count = verify(f"{label} gzip={gzip}", user, week, day)
    # The same messages again (same message ids): nothing stored twice.
    client = make_client(gzip)
    send_all(client, user, visitor, suffix)
    again = len(api(f"/v1/leads/{user}/history")["rows"])
    check(f"{label} gzip={gzip}: a re-send stored nothing twice", again == count, f"{count} then {again}")
    return user


errors = []


def on_error(error, items):
    errors.append(f"{error}: {len(items)} messages")


def client(library):
    """A client of `library` changed from its defaults in host and write key only (and gzip,
    and errors reported to this script rather than only logged)."""
    return lambda gzip: library(write_key, host=url, gzip=gzip, on_error=on_error, max_retries=2)


def send_all(client, user, visitor, suffix):
    def send(kind, **fields):
        getattr(client, kind)(**fields)
    return journey(send, client.flush, user, visitor, suffix)


users = []
for gzip in (False, True):
    users.append(run("segment", client(SegmentClient), send_all, gzip))
    users.append(run("rudder", client(RudderClient), send_all, gzip))
check("no library reported an error", not errors, "; ".join(errors))

for user in users:
    win(user)
report = api("/v1/reports/attribution?model=first-touch&by=channel")
credited = {row.get("channel", row.get("key")): row for row in report["rows"]}
check("first-touch attribution credits the anonymous UTM channel (paid_search) with every deal, and nothing else",
      list(credited) == ["paid_search"], json.dumps(report)[:800])
print(f"{len(failures)} failed")
sys.exit(1 if failures else 0)
