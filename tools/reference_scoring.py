#!/usr/bin/env python3
"""Reference implementation of LeadLedger scoring (SPEC section 4), for cross-checking the engine.

This is deliberately independent of the Swift code and written for clarity, not speed: it
reads the whole JSONL file into memory and recomputes everything from scratch.

Usage:
  tools/reference_scoring.py --rules RULES.(yaml|yml|json) --events EVENTS.jsonl --as-of TIME
      prints {"asOf": TIME, "rulesVersion": V,
              "leads": {"L-1": {"score": X, "fit": X, "engagement": X}, ...}}
  tools/reference_scoring.py --rules ... --events ... --as-of TIME --explain LEAD
      prints {"lead": ID, "score": X, "fit": X, "engagement": X, "rulesVersion": V,
              "hits": [{"rule": LABEL, "points": X, "at": T|null, "position": P|null}, ...]}

Semantics (exactly these):

Events
  * The events file is JSONL, one envelope {"id","type","lead","at","actor","data"} per line.
    File order is log order: an event's `position` is its 1-based index among the non-blank
    lines. The file is taken to be the log as stored (no duplicate ids, nothing the lifecycle
    would reject); a duplicate id is reported on stderr but still counted.
  * `at` is RFC 3339, parsed with datetime.fromisoformat after replacing a trailing Z with
    +00:00; it must carry a UTC offset. `--as-of` is parsed the same way.
  * Events whose type is `rules.published`, and events without a `lead`, are ignored.
  * Only events with at <= as-of count, for the profile and for behavior hits alike (touches
    dated before the lead's capture count too).
  * A lead is scored iff it has a `lead.captured` event with at <= as-of.

Profile
  * The `data` objects of the lead's `lead.captured` and `lead.enriched` events (at <= as-of),
    merged in log order, later keys overwriting earlier ones.

Values and operators (shared by fit conditions and behavior `where` conditions)
  * A field is missing when it is absent or null.
  * Equality (`equals`, `in`) is exact and type-sensitive: strings equal strings, booleans
    equal booleans, numbers (int/float, never bool) equal numbers by value (200 == 200.0);
    the string "200" does not equal the number 200, and true does not equal 1.
  * `matches`: the value is a string and re.search(pattern, value) finds a match (Python `re`,
    not anchored; an inline flag such as (?i) may start the pattern).
  * `gte`/`lte`/`gt`/`lt`: the value is a number (int/float, not bool), compared numerically.
  * `in`: the value equals one of the listed items.
  * `contains` (where only): the value is a string containing the substring (case-sensitive).
  * `exists` (fit only): true holds iff the field is present and not null; false holds iff
    it is missing.
  * A missing field fails every operator except `exists: false`.
  * A condition with several operators holds iff all of them hold (gte + lte is a range).

Fit
  * fit = sum of `points` of every fit rule whose `when` condition holds on the profile
    (`when.field` names the profile field).

Behavior
  * A rule matches an event iff event.type == rule.event and every `where` entry
    (data field -> condition) holds on event.data[field] (data absent = {}).
  * Every rule that matches an event produces a hit; one event can hit several rules.

Caps (per lead, per rule, sliding window)
  * A rule's hits are processed in (at, position) order. A hit at time t is counted iff the
    number of already-counted hits of the same rule with  t - per_days days < at <= t  is
    less than `count`. Hits not counted contribute nothing. Without `cap`, every hit counts.

Decay
  * A counted hit contributes points * 2 ** (-age_days / half_life_days), where
    age_days = (as_of - hit.at).total_seconds() / 86400 (a float). Without a `decay`
    section, a hit contributes `points` unchanged.
  * engagement = sum of the counted hits' contributions.

Score
  * score = fit + engagement. fit and engagement are summed with math.fsum (exactly rounded,
    order-independent); all three are printed as floats, unrounded (json.dumps default).

Explain
  * hits: the fit rules that hold, in rule order (at and position null, points as given),
    then the counted behavior hits in (at, position, rule index) order, with the event's `at`
    as RFC 3339 UTC with Z at seconds precision, its position, and the decayed contribution
    as `points`. A rule's label is its `name` if given, else fit[i] / behavior[i] (0-based
    index in its list).

Only the standard library and PyYAML are used. Rules are read as JSON when the file name ends
in .json, else as YAML (yaml.safe_load). Rules are not schema-validated here (use
tools/check-schemas.py --rules), but an unknown operator is an error rather than ignored.
"""
from __future__ import annotations

import argparse
import json
import math
import re
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import yaml

FIT_OPERATORS = {"matches", "gte", "lte", "gt", "lt", "in", "equals", "exists"}
WHERE_OPERATORS = {"contains", "equals", "in", "matches"}
SECONDS_PER_DAY = 86400.0


# ---------------------------------------------------------------------------------------------
# Parsing

def parse_time(text: str) -> datetime:
    """RFC 3339 -> aware datetime (fromisoformat after replacing a trailing Z with +00:00)."""
    if not isinstance(text, str):
        raise ValueError(f"time is not a string: {text!r}")
    s = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    t = datetime.fromisoformat(s)
    if t.tzinfo is None:
        raise ValueError(f"time has no UTC offset: {text!r}")
    return t


def format_time(t: datetime) -> str:
    """RFC 3339 UTC with Z, seconds precision."""
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def load_rules(path: Path) -> dict:
    with path.open(encoding="utf-8") as f:
        doc = json.load(f) if path.suffix.lower() == ".json" else yaml.safe_load(f)
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: a rules document must be a mapping")
    return doc


@dataclass
class Event:
    position: int
    id: object
    type: str
    lead: str
    at: datetime
    data: dict


def load_events(path: Path) -> list[Event]:
    """All events of the file in log order, minus rules.published and lead-less events."""
    events: list[Event] = []
    seen_ids: set = set()
    position = 0
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            position += 1
            env = json.loads(line)
            if env.get("id") in seen_ids:
                print(f"warning: line {lineno}: duplicate id {env.get('id')!r} (counted anyway)",
                      file=sys.stderr)
            seen_ids.add(env.get("id"))
            if env.get("type") == "rules.published" or env.get("lead") is None:
                continue
            data = env.get("data")
            events.append(Event(position=position, id=env.get("id"), type=env["type"],
                                lead=env["lead"], at=parse_time(env["at"]),
                                data=data if isinstance(data, dict) else {}))
    return events


# ---------------------------------------------------------------------------------------------
# Operators

def is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def same_value(a, b) -> bool:
    """Type-sensitive equality: numbers by value, otherwise same kind and equal."""
    if is_number(a) and is_number(b):
        return a == b
    if isinstance(a, bool) and isinstance(b, bool):
        return a == b
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    return False


def operator_holds(op: str, arg, value, present: bool) -> bool:
    """One operator on one value. `present` is False when the field is absent or null."""
    if op == "exists":
        return present == bool(arg)
    if not present:
        return False
    if op == "matches":
        return isinstance(value, str) and re.search(arg, value) is not None
    if op == "contains":
        return isinstance(value, str) and arg in value
    if op == "equals":
        return same_value(value, arg)
    if op == "in":
        return any(same_value(value, item) for item in arg)
    if op in ("gte", "lte", "gt", "lt"):
        if not is_number(value):
            return False
        return {"gte": value >= arg, "lte": value <= arg,
                "gt": value > arg, "lt": value < arg}[op]
    raise ValueError(f"unknown operator {op!r}")


def condition_holds(condition: dict, operators: dict, container: dict, field: str,
                    allowed: set[str]) -> bool:
    """All operators of a condition hold on container[field]."""
    unknown = set(operators) - allowed
    if unknown:
        raise ValueError(f"unknown operator(s) {sorted(unknown)} in {condition!r}")
    if not operators:
        raise ValueError(f"condition without operator: {condition!r}")
    value = container.get(field)
    present = value is not None  # absent and null are both "missing"
    return all(operator_holds(op, arg, value, present) for op, arg in operators.items())


def fit_rule_holds(rule: dict, profile: dict) -> bool:
    when = rule["when"]
    operators = {k: v for k, v in when.items() if k != "field"}
    return condition_holds(when, operators, profile, when["field"], FIT_OPERATORS)


def behavior_rule_matches(rule: dict, event: Event) -> bool:
    if event.type != rule["event"]:
        return False
    for field, cond in (rule.get("where") or {}).items():
        if not condition_holds(cond, dict(cond), event.data, field, WHERE_OPERATORS):
            return False
    return True


# ---------------------------------------------------------------------------------------------
# Scoring

@dataclass
class Hit:
    rule: str
    points: float
    at: datetime | None
    position: int | None


def label(rule: dict, kind: str, index: int) -> str:
    return rule["name"] if rule.get("name") is not None else f"{kind}[{index}]"


def score_lead(rules: dict, lead_events: list[Event], as_of: datetime) -> tuple[float, float, list[Hit]]:
    """(fit, engagement, hits) for one lead, from its events with at <= as_of, in log order."""
    events = [e for e in lead_events if e.at <= as_of]

    # Profile: captured + enriched data merged in log order.
    profile: dict = {}
    for e in sorted(events, key=lambda e: e.position):
        if e.type in ("lead.captured", "lead.enriched"):
            profile.update(e.data)

    # Fit.
    fit_hits: list[Hit] = []
    for i, rule in enumerate(rules.get("fit") or []):
        if fit_rule_holds(rule, profile):
            fit_hits.append(Hit(label(rule, "fit", i), float(rule["points"]), None, None))

    # Behavior: hits per rule, capped, decayed.
    half_life = (rules.get("decay") or {}).get("half_life_days")
    behavior_hits: list[tuple[datetime, int, int, Hit]] = []
    for i, rule in enumerate(rules.get("behavior") or []):
        hits = sorted((e for e in events if behavior_rule_matches(rule, e)),
                      key=lambda e: (e.at, e.position))
        cap = rule.get("cap")
        counted: list[Event] = []
        for e in hits:
            if cap is not None:
                window_seconds = cap["per_days"] * SECONDS_PER_DAY
                in_window = [c for c in counted
                             if c.at <= e.at and (e.at - c.at).total_seconds() < window_seconds]
                if len(in_window) >= cap["count"]:
                    continue
            counted.append(e)
            points = float(rule["points"])
            if half_life is not None:
                age_days = (as_of - e.at).total_seconds() / SECONDS_PER_DAY
                points = points * 2 ** (-age_days / half_life)
            behavior_hits.append((e.at, e.position, i,
                                  Hit(label(rule, "behavior", i), points, e.at, e.position)))

    behavior_hits.sort(key=lambda h: h[:3])
    ordered = fit_hits + [h[3] for h in behavior_hits]
    fit = math.fsum(h.points for h in fit_hits)
    engagement = math.fsum(h[3].points for h in behavior_hits)
    return fit, engagement, ordered


def captured_leads(events: list[Event], as_of: datetime) -> list[str]:
    """Leads with a lead.captured at <= as_of, in order of first appearance in the log."""
    leads: dict[str, None] = {}
    for e in events:
        if e.type == "lead.captured" and e.at <= as_of:
            leads.setdefault(e.lead, None)
    return list(leads)


def main() -> int:
    ap = argparse.ArgumentParser(description="Reference scoring (SPEC section 4) for cross-checks.")
    ap.add_argument("--rules", required=True, metavar="RULES.yaml", help="rules document (YAML or JSON)")
    ap.add_argument("--events", required=True, metavar="EVENTS.jsonl", help="event log as JSONL")
    ap.add_argument("--as-of", required=True, metavar="TIME", help="reference time (RFC 3339)")
    ap.add_argument("--explain", metavar="LEAD", help="print the score breakdown of one lead")
    args = ap.parse_args()

    try:
        rules = load_rules(Path(args.rules))
        as_of = parse_time(args.as_of)
        events = load_events(Path(args.events))
    except (OSError, ValueError, KeyError, yaml.YAMLError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    by_lead: dict[str, list[Event]] = {}
    for e in events:
        by_lead.setdefault(e.lead, []).append(e)
    leads = captured_leads(events, as_of)

    if args.explain is not None:
        if args.explain not in leads:
            print(f"error: lead {args.explain!r} has no lead.captured at or before {args.as_of}",
                  file=sys.stderr)
            return 1
        fit, engagement, hits = score_lead(rules, by_lead[args.explain], as_of)
        out = {"lead": args.explain, "score": fit + engagement, "fit": fit,
               "engagement": engagement, "rulesVersion": rules.get("version"),
               "hits": [{"rule": h.rule, "points": h.points,
                         "at": format_time(h.at) if h.at is not None else None,
                         "position": h.position} for h in hits]}
    else:
        scores = {}
        for lead in leads:
            fit, engagement, _ = score_lead(rules, by_lead[lead], as_of)
            scores[lead] = {"score": fit + engagement, "fit": fit, "engagement": engagement}
        out = {"asOf": args.as_of, "rulesVersion": rules.get("version"), "leads": scores}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
