#!/usr/bin/env python3
"""Reference implementation of LeadLedger attribution (SPEC section 5), for cross-checking the engine.

Deliberately independent of the Swift code, standard library only, written for clarity rather
than speed: it reads the whole input into memory and recomputes everything from scratch.

Usage:
  tools/reference_attribution.py --events EVENTS.jsonl --model MODEL
        [--by channel|campaign|source|content] [--from TIME] [--to TIME]
        [--half-life DAYS] [--order K]
  tools/reference_attribution.py --paths PATHS.csv
        --model first-touch|last-touch|linear|position-based|markov [--order K]

Both print one JSON object on stdout:
  {"report": "attribution" | "attribution-paths", "model": M, "by": F,
   "rows": [{"key": K, "conversions": X, "revenue": X[, "removalEffect": X]}, ...],
   "totals": {"conversions": X, "revenue": X}}
Rows are sorted by revenue descending, then key ascending. `removalEffect` only for markov.

MODELS: first-touch, last-touch, linear, lead-creation, u-shaped, w-shaped, full-path,
        position-based, time-decay, markov (Mode B: only the five listed above).

Semantics (exactly these)
=========================

Mode A: --events (the log as stored)
  * The file is JSONL, one envelope {"id","type","lead","at","actor","data"} per non-blank line;
    file order is log order and an event's `position` is its 1-based index among the non-blank
    lines. `at` is RFC 3339, parsed with datetime.fromisoformat after replacing a trailing Z with
    +00:00, and must carry a UTC offset. --from/--to are parsed the same way (a value without an
    offset, e.g. a bare date, is taken as UTC). Events without a `lead` are ignored.
  * A lead's touchpoints: every `touch.*` event, plus its `lead.captured` event when that event's
    data has a `channel` (present and not null). Sorted by (at, position).
  * Key of a touchpoint for --by F (default channel): data[F] of that event. If it is missing
    (absent, null or ""): for F = source the `source` of the lead's `lead.captured` data;
    otherwise (or if that is missing too) the key is "(none)". Non-string values are str()-ed.
  * Capture time: `at` of the lead's `lead.captured` (the first one in log order if several).
  * Conversion: the lead's `deal.closed` with data.outcome == "won" (if there were several, the
    first in (at, position) order is used); conversion time = its at, revenue = data.amount
    (0 if absent). A lead without a won deal is a non-converting (null) path.
  * Opportunity time: the `at` of the latest `opportunity.opened` of the lead with
    at <= conversion time; if there is none, the earliest `opportunity.opened`; if the lead has
    no `opportunity.opened` at all, the opportunity milestone is the lead-creation touch.
  * Only conversions with --from <= conversion time < --to count (either bound optional).
    Touches considered for a conversion: those with at <= conversion time (no lookback window).
  * A converting lead without a considered touch gives its whole credit (1 conversion and its
    revenue) to the key "(no touchpoint)", under every model (markov included).
  * Milestones, as indices into the sorted considered touches 0..n-1:
      first = 0; last (closed-won) = n-1;
      LC (lead creation) = the last touch with at <= capture time, or 0 if there is none
                           (or if the lead has no lead.captured);
      OC (opportunity creation) = the last touch with at <= opportunity time, or 0 if none.
  * Heuristic models give each conversion credits summing to 1 over its touches, built from
    groups (share, set of touch indices):
      first-touch    {first: 1}
      last-touch     {last: 1}
      linear         every touch 1/n (a key touched twice gets two shares)
      lead-creation  {LC: 1}
      u-shaped       {first: .4} {LC: .4} {indices strictly between first and LC: .2};
                     touches after LC get nothing
      w-shaped       {first: .3} {LC: .3} {OC: .3} {indices not in {first, LC, OC}: .1}
      full-path      {first: .225} {LC: .225} {OC: .225} {last: .225}
                     {indices not in {first, LC, OC, last}: .1}
      position-based {first: .4} {last: .4} {indices strictly between first and last: .2}
      time-decay     weight 2^(-days/half_life) per touch, days = (conversion - touch.at) in
                     seconds / 86400 (float), half_life = --half-life (default 7); normalised
    Group rule: a group whose index set is empty is dropped and the remaining groups' shares
    are scaled up proportionally to sum to 1; a group's share is split evenly over its indices;
    milestone groups landing on the same touch add up on it. (u-shaped with first == LC: that
    touch gets 100%; first != LC with nothing between: 50/50; w-shaped with only three distinct
    milestone touches: 1/3 each; a single touch: 100% under every model.)
  * Per key: conversions = sum of credits, revenue = sum of credit x revenue. Only keys that
    received a non-zero credit are listed.
  * markov: one path per lead that has at least one considered touch: the sequence of keys of
    its touches, ending in conversion for a converting lead with its conversion in range (touches
    at <= conversion time), ending in null for a lead without a won deal (all its touches).
    A lead whose only won deal lies outside [from, to) is left out entirely. The chain and the
    removal effects are as in Mode B, with each lead a path of weight 1. Credit per key:
    conversions = C x RE/sum(RE), revenue = R x RE/sum(RE), where C, R are the number and revenue
    of in-range conversions that have a touch (touchless ones go to "(no touchpoint)", whose
    removalEffect is null). Every key occurring in a path is listed (possibly with 0).
  * totals = the number of in-range conversions and their summed revenue (every model).

Mode B: --paths (ChannelAttribution CSV: header, then path;total_conversions;
  total_conversion_value;total_null)
  * A path is split on '>' and each channel stripped of spaces; empty channels are skipped
    (as ChannelAttribution does). Repeated channels are kept as they are (no collapsing).
  * Each row stands for total_conversions conversions worth total_conversion_value together, and
    total_null null paths. Every channel seen in the file is listed (possibly with 0).
  * first-touch / last-touch: the row's conversions and value go to its first / last channel.
  * linear: per occurrence, like ChannelAttribution's heuristic_models: each of the n channel
    occurrences gets 1/n of the row's conversions and value (a > a > b: a 2/3, b 1/3).
  * position-based: as in Mode A on the channel sequence.
  * total_null plays no part in the heuristics (ChannelAttribution's heuristic_models does not
    take it either).
  * markov, closed form (no simulation):
      - order K (default 1): the states of a path c1..cn are its windows of K consecutive
        channels (c1..cK), (c2..cK+1), ..., (cn-K+1..cn); a path shorter than K is one state
        holding the whole path. (This is how ChannelAttribution builds k-order states.) For K=1
        the states are the channels.
      - transition counts: each row adds total_conversions + total_null to every transition
        along its states, start -> first state included, and adds total_conversions to
        last state -> conversion and total_null to last state -> null. Self-loops (repeated
        consecutive states) are kept; they do not change absorption probabilities.
        (ChannelAttribution drops them; same result.)
      - P = probability of reaching conversion from start, solved exactly as a linear system
        (sparse Gaussian elimination; see solve_linear).
      - removal effect of channel c: RE(c) = 1 - P_c / P, where P_c is the probability of
        conversion when every state containing c is removed (moving into it means null).
        RE = 0 for every channel when P = 0.
      - conversions(c) = sum(total_conversions) x RE(c)/sum(RE);
        revenue(c) = sum(total_conversion_value) x RE(c)/sum(RE).
      ChannelAttribution's markov_model estimates the same removal effects by simulation
      (share of simulated conversions whose path visits c), so its conversions agree up to
      simulation noise; its value credit weights each simulated conversion by a value drawn at
      the path's last state, so its revenue split can differ from the RE-proportional one here.
  * totals = sum of total_conversions and of total_conversion_value over all rows.
"""

import argparse
import json
import sys
from collections import OrderedDict, defaultdict
from datetime import datetime, timezone

HEURISTIC_MODELS = ["first-touch", "last-touch", "linear", "lead-creation", "u-shaped",
                    "w-shaped", "full-path", "position-based", "time-decay"]
EVENT_MODELS = HEURISTIC_MODELS + ["markov"]
PATH_MODELS = ["first-touch", "last-touch", "linear", "position-based", "markov"]
BY_FIELDS = ["channel", "campaign", "source", "content"]
NO_TOUCHPOINT = "(no touchpoint)"
NONE_KEY = "(none)"


def fail(message):
    print("reference_attribution: " + message, file=sys.stderr)
    sys.exit(1)


# --------------------------------------------------------------------------------------------
# Time
# --------------------------------------------------------------------------------------------

def parse_time(text, assume_utc=False):
    if not isinstance(text, str):
        raise ValueError("time is not a string: %r" % (text,))
    value = text.strip()
    if value.endswith("Z") or value.endswith("z"):
        value = value[:-1] + "+00:00"
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        if not assume_utc:
            raise ValueError("time has no UTC offset: %r" % (text,))
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


# --------------------------------------------------------------------------------------------
# Credit splitting shared by both modes
# --------------------------------------------------------------------------------------------

def apply_groups(n, groups):
    """groups: list of (share, iterable of indices). Returns a list of n credits summing to 1.

    Empty groups are dropped and the remaining shares scaled to sum 1; each group's share is
    split evenly over its indices; shares landing on the same index add up.
    """
    kept = [(share, sorted(set(indices))) for share, indices in groups]
    kept = [(share, indices) for share, indices in kept if indices]
    total_share = sum(share for share, _ in kept)
    credits = [0.0] * n
    for share, indices in kept:
        each = share / total_share / len(indices)
        for i in indices:
            credits[i] += each
    return credits


def position_based_groups(n):
    return [(0.4, [0]), (0.4, [n - 1]), (0.2, range(1, n - 1))]


def heuristic_credits(model, times, conversion_time, lc, oc, half_life):
    """Credits (summing to 1) of one conversion over its n sorted touches."""
    n = len(times)
    first, last = 0, n - 1
    if model == "first-touch":
        groups = [(1.0, [first])]
    elif model == "last-touch":
        groups = [(1.0, [last])]
    elif model == "linear":
        groups = [(1.0, range(n))]
    elif model == "lead-creation":
        groups = [(1.0, [lc])]
    elif model == "u-shaped":
        groups = [(0.4, [first]), (0.4, [lc]), (0.2, range(first + 1, lc))]
    elif model == "w-shaped":
        milestones = {first, lc, oc}
        groups = [(0.3, [first]), (0.3, [lc]), (0.3, [oc]),
                  (0.1, [i for i in range(n) if i not in milestones])]
    elif model == "full-path":
        milestones = {first, lc, oc, last}
        groups = [(0.225, [first]), (0.225, [lc]), (0.225, [oc]), (0.225, [last]),
                  (0.1, [i for i in range(n) if i not in milestones])]
    elif model == "position-based":
        groups = position_based_groups(n)
    elif model == "time-decay":
        weights = []
        for t in times:
            days = (conversion_time - t).total_seconds() / 86400.0
            weights.append(2.0 ** (-days / half_life))
        total = sum(weights)
        return [w / total for w in weights]
    else:
        raise ValueError("unknown model " + model)
    return apply_groups(n, groups)


# --------------------------------------------------------------------------------------------
# Markov chain, closed form
# --------------------------------------------------------------------------------------------

def path_states(channels, order):
    """ChannelAttribution's k-order states: sliding windows of `order` consecutive channels;
    a path shorter than `order` is a single state holding the whole path."""
    if len(channels) <= order:
        return [tuple(channels)]
    return [tuple(channels[i:i + order]) for i in range(len(channels) - order + 1)]


def solve_linear(rows, rhs):
    """Solve A x = rhs by Gaussian elimination, A given sparsely as rows[i] = {column: value}.

    A = I - Q, where Q holds the transition probabilities among the transient states: a
    nonsingular M-matrix, diagonally dominant by rows. Eliminating with diagonal pivots, in any
    symmetric order, keeps that property, so every pivot stays positive and the elimination is
    stable without row exchanges. The pivot order is chosen greedily (smallest
    row-count x column-count, the Markowitz rule) to keep the fill-in, and the work, small;
    only non-zero entries are ever touched. The result is exact up to floating-point rounding.
    """
    n = len(rhs)
    a = [dict(row) for row in rows]                    # a[i]: row i, remaining columns only
    b = list(rhs)
    column = [set() for _ in range(n)]                 # column[j]: remaining rows with an entry
    for i, row in enumerate(a):
        for j in row:
            column[j].add(i)
    remaining = set(range(n))
    order = []
    while remaining:
        k = min(remaining, key=lambda i: ((len(a[i]) - 1) * (len(column[i]) - 1), i))
        remaining.discard(k)
        order.append(k)
        pivot_row = a[k]
        pivot = pivot_row.get(k, 0.0)
        if not pivot > 0.0:
            raise ArithmeticError("non-positive pivot %r" % (pivot,))
        right = [(j, v) for j, v in pivot_row.items() if j != k]
        for j, _ in right:
            column[j].discard(k)
        for r in column[k]:
            if r == k:
                continue
            row = a[r]
            factor = row.pop(k) / pivot
            for j, v in right:
                if j in row:
                    row[j] -= factor * v
                else:
                    row[j] = -factor * v
                    column[j].add(r)
            b[r] -= factor * b[k]
        column[k] = set()
    x = [0.0] * n
    for k in reversed(order):                          # a[k] now only holds later pivots
        s = b[k]
        for j, v in a[k].items():
            if j != k:
                s -= v * x[j]
        x[k] = s / a[k][k]
    return x


def markov_attribution(paths, order):
    """paths: list of (channel sequence, conversions, nulls) with a non-empty sequence.

    Returns (P, {channel: removal effect}) for every channel occurring in the paths.
    """
    START, CONV, NULL = ("(start)",), ("(conversion)",), ("(null)",)
    counts = defaultdict(lambda: defaultdict(float))   # from state -> to state -> count
    channels = OrderedDict()
    for sequence, conversions, nulls in paths:
        for c in sequence:
            channels[c] = True
        weight = conversions + nulls
        if weight <= 0:
            continue
        states = path_states(sequence, order)
        previous = START
        for state in states:
            counts[previous][state] += weight
            previous = state
        if conversions > 0:
            counts[previous][CONV] += conversions
        if nulls > 0:
            counts[previous][NULL] += nulls

    transient = [s for s in counts if s != START]          # every path state has out-transitions
    probabilities = {}
    for source, targets in counts.items():
        total = sum(targets.values())
        probabilities[source] = {t: v / total for t, v in targets.items()}

    def conversion_probability(removed_channel):
        """P(start reaches conversion) when states containing removed_channel lead to null."""
        alive = [s for s in transient if removed_channel is None or removed_channel not in s]
        if not alive:
            return 0.0
        pos = {s: i for i, s in enumerate(alive)}
        n = len(alive)
        matrix = [defaultdict(float) for _ in range(n)]     # I - Q, sparse
        rhs = [0.0] * n                                    # one-step conversion probability
        for s in alive:
            i = pos[s]
            matrix[i][i] += 1.0
            for t, p in probabilities[s].items():
                if t == CONV:
                    rhs[i] += p
                elif t in pos:
                    matrix[i][pos[t]] -= p
                # NULL or a removed state: absorbed without conversion
        x = solve_linear(matrix, rhs)
        result = 0.0
        for t, p in probabilities.get(START, {}).items():
            if t == CONV:
                result += p
            elif t in pos:
                result += p * x[pos[t]]
        return result

    p_full = conversion_probability(None)
    effects = OrderedDict()
    for c in channels:
        if p_full > 0:
            effects[c] = 1.0 - conversion_probability(c) / p_full
        else:
            effects[c] = 0.0
    return p_full, effects


def markov_rows(paths, order, total_conversions, total_revenue):
    _, effects = markov_attribution(paths, order)
    sum_effects = sum(effects.values())
    rows = []
    for c, effect in effects.items():
        share = effect / sum_effects if sum_effects > 0 else 0.0
        rows.append({"key": c, "conversions": total_conversions * share,
                     "revenue": total_revenue * share, "removalEffect": effect})
    return rows


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------

def sort_rows(rows):
    return sorted(rows, key=lambda r: (-r["revenue"], r["key"]))


def emit(report, model, by, rows, total_conversions, total_revenue):
    out = OrderedDict()
    out["report"] = report
    out["model"] = model
    out["by"] = by
    out["rows"] = sort_rows(rows)
    out["totals"] = OrderedDict([("conversions", total_conversions), ("revenue", total_revenue)])
    json.dump(out, sys.stdout, indent=None)
    sys.stdout.write("\n")


# --------------------------------------------------------------------------------------------
# Mode A: events
# --------------------------------------------------------------------------------------------

def missing(value):
    return value is None or value == ""


def read_events(path):
    events = []
    position = 0
    with open(path, encoding="utf-8") as f:
        for line_number, line in enumerate(f, 1):
            if not line.strip():
                continue
            position += 1
            try:
                envelope = json.loads(line)
            except json.JSONDecodeError as e:
                fail("%s:%d: not JSON: %s" % (path, line_number, e))
            lead = envelope.get("lead")
            if missing(lead):
                continue
            try:
                at = parse_time(envelope.get("at"))
            except ValueError as e:
                fail("%s:%d: bad at: %s" % (path, line_number, e))
            events.append({"position": position, "type": envelope.get("type", ""),
                           "lead": lead, "at": at, "data": envelope.get("data") or {}})
    return events


class Journey:
    def __init__(self):
        self.captured = None        # first lead.captured event in log order
        self.touches = []           # touchpoint events
        self.won = []               # deal.closed won events
        self.opportunities = []     # opportunity.opened times


def build_journeys(events):
    journeys = OrderedDict()
    for e in events:                                   # events are in log order
        j = journeys.setdefault(e["lead"], Journey())
        kind = e["type"]
        if kind == "lead.captured":
            if j.captured is None:
                j.captured = e
            if not missing(e["data"].get("channel")):
                j.touches.append(e)
        elif kind.startswith("touch."):
            j.touches.append(e)
        elif kind == "opportunity.opened":
            j.opportunities.append(e["at"])
        elif kind == "deal.closed" and e["data"].get("outcome") == "won":
            j.won.append(e)
    for j in journeys.values():
        j.touches.sort(key=lambda e: (e["at"], e["position"]))
        j.won.sort(key=lambda e: (e["at"], e["position"]))
    return journeys


def touch_key(event, journey, by):
    value = event["data"].get(by)
    if missing(value) and by == "source" and journey.captured is not None:
        value = journey.captured["data"].get("source")
    if missing(value):
        return NONE_KEY
    return value if isinstance(value, str) else str(value)


def last_index_at_or_before(touches, moment):
    found = 0
    for i, t in enumerate(touches):
        if t["at"] <= moment:
            found = i
    return found


def amount_of(event):
    amount = event["data"].get("amount")
    if isinstance(amount, bool) or not isinstance(amount, (int, float)):
        return 0.0
    return float(amount)


def run_events(args):
    events = read_events(args.events)
    journeys = build_journeys(events)
    start = parse_time(args.from_, assume_utc=True) if args.from_ else None
    end = parse_time(args.to, assume_utc=True) if args.to else None

    def in_range(moment):
        return (start is None or start <= moment) and (end is None or moment < end)

    credit_conv = defaultdict(float)
    credit_rev = defaultdict(float)
    touched_keys = set()
    total_conversions = 0
    total_revenue = 0.0
    markov_paths = []          # (keys, conversions, nulls)
    markov_conversions = 0
    markov_revenue = 0.0

    for lead, j in journeys.items():
        if not j.won:
            if args.model == "markov" and j.touches:
                markov_paths.append(([touch_key(t, j, args.by) for t in j.touches], 0, 1))
            continue
        conversion = j.won[0]
        conversion_time = conversion["at"]
        if not in_range(conversion_time):
            continue
        revenue = amount_of(conversion)
        total_conversions += 1
        total_revenue += revenue
        touches = [t for t in j.touches if t["at"] <= conversion_time]
        if not touches:
            credit_conv[NO_TOUCHPOINT] += 1.0
            credit_rev[NO_TOUCHPOINT] += revenue
            touched_keys.add(NO_TOUCHPOINT)
            continue
        keys = [touch_key(t, j, args.by) for t in touches]
        if args.model == "markov":
            markov_paths.append((keys, 1, 0))
            markov_conversions += 1
            markov_revenue += revenue
            continue
        lc = 0 if j.captured is None else last_index_at_or_before(touches, j.captured["at"])
        if j.opportunities:
            before = [t for t in j.opportunities if t <= conversion_time]
            opportunity_time = max(before) if before else min(j.opportunities)
            oc = last_index_at_or_before(touches, opportunity_time)
        else:
            oc = lc
        credits = heuristic_credits(args.model, [t["at"] for t in touches], conversion_time,
                                    lc, oc, args.half_life)
        for key, credit in zip(keys, credits):
            if credit != 0.0:
                credit_conv[key] += credit
                credit_rev[key] += credit * revenue
                touched_keys.add(key)

    rows = []
    if args.model == "markov":
        rows = markov_rows(markov_paths, args.order, markov_conversions, markov_revenue)
        if NO_TOUCHPOINT in touched_keys:
            rows.append({"key": NO_TOUCHPOINT, "conversions": credit_conv[NO_TOUCHPOINT],
                         "revenue": credit_rev[NO_TOUCHPOINT], "removalEffect": None})
    else:
        for key in touched_keys:
            rows.append({"key": key, "conversions": credit_conv[key], "revenue": credit_rev[key]})
    emit("attribution", args.model, args.by, rows, total_conversions, total_revenue)


# --------------------------------------------------------------------------------------------
# Mode B: ChannelAttribution path CSV
# --------------------------------------------------------------------------------------------

def parse_count(text, what, line_number):
    try:
        value = float(text.strip() or "0")
    except ValueError:
        fail("line %d: %s is not a number: %r" % (line_number, what, text))
    return int(value) if value == int(value) else value


def read_paths(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line_number, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
            if line_number == 1 or not line.strip():
                continue                                    # header / blank
            fields = line.split(";")
            if len(fields) < 4:
                fail("line %d: expected path;total_conversions;total_conversion_value;"
                     "total_null" % line_number)
            channels = [c.strip(" ") for c in fields[0].split(">")]
            channels = [c for c in channels if c]
            if not channels:
                continue
            conversions = parse_count(fields[1], "total_conversions", line_number)
            value = float(parse_count(fields[2], "total_conversion_value", line_number))
            nulls = parse_count(fields[3], "total_null", line_number)
            rows.append((channels, conversions, value, nulls))
    return rows


def run_paths(args):
    if args.model not in PATH_MODELS:
        fail("--paths supports models: " + ", ".join(PATH_MODELS))
    rows_in = read_paths(args.paths)
    total_conversions = sum(r[1] for r in rows_in)
    total_revenue = sum(r[2] for r in rows_in)
    channels = OrderedDict()
    for sequence, _, _, _ in rows_in:
        for c in sequence:
            channels[c] = True

    if args.model == "markov":
        paths = [(sequence, conversions, nulls) for sequence, conversions, _, nulls in rows_in]
        rows = markov_rows(paths, args.order, total_conversions, total_revenue)
    else:
        conv = OrderedDict((c, 0.0) for c in channels)
        rev = OrderedDict((c, 0.0) for c in channels)
        for sequence, conversions, value, _ in rows_in:
            n = len(sequence)
            if args.model == "first-touch":
                credits = apply_groups(n, [(1.0, [0])])
            elif args.model == "last-touch":
                credits = apply_groups(n, [(1.0, [n - 1])])
            elif args.model == "linear":
                credits = [1.0 / n] * n                      # per occurrence
            else:
                credits = apply_groups(n, position_based_groups(n))
            for c, credit in zip(sequence, credits):
                conv[c] += credit * conversions
                rev[c] += credit * value
        rows = [{"key": c, "conversions": conv[c], "revenue": rev[c]} for c in channels]
    emit("attribution-paths", args.model, "channel", rows, total_conversions, total_revenue)


# --------------------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--events", help="JSONL log (Mode A)")
    source.add_argument("--paths", help="ChannelAttribution CSV (Mode B)")
    parser.add_argument("--model", required=True, choices=EVENT_MODELS)
    parser.add_argument("--by", default="channel", choices=BY_FIELDS)
    parser.add_argument("--from", dest="from_", help="conversions at or after this time")
    parser.add_argument("--to", help="conversions strictly before this time")
    parser.add_argument("--half-life", type=float, default=7.0, help="time-decay, in days")
    parser.add_argument("--order", type=int, default=1, help="markov order K >= 1")
    args = parser.parse_args()
    if args.order < 1:
        fail("--order must be >= 1")
    if args.half_life <= 0:
        fail("--half-life must be > 0")
    if args.events:
        run_events(args)
    else:
        run_paths(args)


if __name__ == "__main__":
    main()
