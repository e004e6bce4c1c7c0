#!/usr/bin/env python3
"""Writes gzipped Segment batch bodies for the tracking bench (wrk's Lua has no gzip): COUNT
bodies of PER messages, every messageId unique, as one file of bodies back to back and an
index of their lengths (one a line). The messages are what a site sends most: anonymous page
views with UTM fields, from a pool of visitors, and some tracks of known users' actions.

    tracking-bodies.py COUNT PER OUT   (writes OUT.bodies and OUT.index)
"""
import gzip
import json
import random
import sys

count, per, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
random.seed(7)
sources = [("google", "cpc"), ("linkedin", "paid_social"), ("newsletter", "email"), ("google", "organic"), (None, None)]
with open(out + ".bodies", "wb") as bodies, open(out + ".index", "w") as index:
    for number in range(count):
        batch = []
        for item in range(per):
            source, medium = random.choice(sources)
            context = {"page": {"url": f"https://example.com/p/{item % 40}", "referrer": "https://www.google.com/"}}
            if source:
                context["campaign"] = {"source": source, "medium": medium, "name": f"c{item % 12}"}
            batch.append({
                "type": "page", "anonymousId": f"v-{random.randrange(200_000)}", "messageId": f"b{number}-{item}",
                "timestamp": "2026-03-01T10:00:00.000Z", "name": "Pricing", "properties": {"title": "Pricing"}, "context": context,
            })
        body = gzip.compress(json.dumps({"batch": batch, "sentAt": "2026-03-01T10:00:01.000Z"}).encode(), 6)
        bodies.write(body)
        index.write(f"{len(body)}\n")
