#!/usr/bin/env python3
"""Check LeadLedger's JSON Schemas (draft 2020-12) and their examples.

What it checks:
  * every Schemas/*.schema.json is a valid draft 2020-12 schema;
  * the event vocabulary agrees across envelope, stored-event and event-data schemas;
  * every Schemas/examples/valid/*.json validates against envelope.schema.json;
  * every Schemas/examples/invalid/*.json does NOT validate against it;
  * every Schemas/examples/stored/*.json validates against stored-event.schema.json;
  * the behavior-rule event enum of rules.schema.json is the envelope's type enum;
  * every Schemas/examples/rules/valid/*.{yaml,yml,json} validates against rules.schema.json
    and every Schemas/examples/rules/invalid/* does NOT (YAML is read with PyYAML);
  * --events FILE.jsonl: every line of FILE validates against envelope.schema.json;
  * --stored FILE.json: every element of FILE's "rows" array validates against
    stored-event.schema.json (the shape of `leadledger lead history|audit --format json`);
  * --rules FILE.(yaml|yml|json): the scoring-rules document validates against rules.schema.json.

Relative $refs between schemas are resolved locally with a `referencing` Registry;
nothing is fetched over the network. The last line printed is always
"N passed, N failed"; the exit code is 1 if anything failed, else 0.

Usage: tools/check-schemas.py [-v] [--events FILE.jsonl ...] [--stored FILE.json ...]
                              [--rules FILE.yaml ...]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

SCHEMAS = Path(__file__).resolve().parent.parent / "Schemas"
EXAMPLES = SCHEMAS / "examples"
ENVELOPE = "envelope.schema.json"
STORED = "stored-event.schema.json"
EVENT_DATA = "event-data.schema.json"
RULES = "rules.schema.json"
RULES_EXAMPLES = EXAMPLES / "rules"
RULES_SUFFIXES = (".yaml", ".yml", ".json")
MAX_ERRORS_PER_DOC = 5


class Checker:
    def __init__(self, verbose: bool) -> None:
        self.verbose = verbose
        self.passed = 0
        self.failed = 0

    def ok(self, what: str, detail: str = "") -> None:
        self.passed += 1
        if self.verbose:
            print(f"ok    {what}" + (f"  ({detail})" if detail else ""))

    def fail(self, what: str, messages: list[str]) -> None:
        self.failed += 1
        print(f"FAIL  {what}")
        for m in messages:
            print(f"        {m}")


def rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def load_json(path: Path):
    with path.open(encoding="utf-8") as f:
        return json.load(f)


def load_rules(path: Path):
    """Load a rules document: JSON if the file ends in .json, else YAML (PyYAML, safe loader)."""
    with path.open(encoding="utf-8") as f:
        if path.suffix.lower() == ".json":
            return json.load(f)
        return yaml.safe_load(f)


def error_messages(validator: Draft202012Validator, instance) -> list[str]:
    """All validation errors, as 'json.path: message', deterministic order.

    Raises referencing's Unresolvable if a $ref cannot be resolved locally."""
    errors = sorted(validator.iter_errors(instance), key=lambda e: (e.json_path, e.message))
    msgs = [f"{e.json_path}: {e.message}" for e in errors[:MAX_ERRORS_PER_DOC]]
    if len(errors) > MAX_ERRORS_PER_DOC:
        msgs.append(f"... and {len(errors) - MAX_ERRORS_PER_DOC} more error(s)")
    return msgs


def validate(check: Checker, validator, instance, what: str, expect_valid: bool = True) -> None:
    try:
        msgs = error_messages(validator, instance)
    except Unresolvable as exc:  # a broken $ref is a failure whatever was expected
        ref = getattr(exc, "ref", None)
        check.fail(what, [f"unresolvable $ref {ref!r} ({type(exc).__name__})"])
        return
    if expect_valid:
        if msgs:
            check.fail(what, msgs)
        else:
            check.ok(what)
    else:
        if msgs:
            check.ok(what, "rejected as expected: " + msgs[0])
        else:
            check.fail(what, ["expected this example to be INVALID, but it validated"])


def main() -> int:
    ap = argparse.ArgumentParser(description="Check LeadLedger JSON Schemas and examples.")
    ap.add_argument("--events", action="append", default=[], metavar="FILE.jsonl",
                    help="validate every line of a JSONL file against the envelope schema (repeatable)")
    ap.add_argument("--stored", action="append", default=[], metavar="FILE.json",
                    help='validate each element of the "rows" array of a JSON document against '
                         "the stored-event schema (repeatable)")
    ap.add_argument("--rules", action="append", default=[], metavar="FILE.yaml",
                    help="validate a scoring-rules document (YAML or JSON) against the rules "
                         "schema (repeatable)")
    ap.add_argument("-v", "--verbose", action="store_true", help="also list passing checks")
    args = ap.parse_args()

    check = Checker(args.verbose)

    # 1. Every schema is a valid draft 2020-12 schema; register them all by $id.
    schemas: dict[str, dict] = {}
    registry = Registry()
    schema_files = sorted(SCHEMAS.glob("*.schema.json"))
    if not schema_files:
        check.fail(rel(SCHEMAS), ["no *.schema.json files found"])
    for path in schema_files:
        what = rel(path)
        try:
            schema = load_json(path)
            Draft202012Validator.check_schema(schema)
        except (OSError, json.JSONDecodeError) as exc:
            check.fail(what, [f"cannot read: {exc}"])
            continue
        except SchemaError as exc:
            check.fail(what, [f"not a valid draft 2020-12 schema: {exc.message}"])
            continue
        schemas[path.name] = schema
        resource = Resource.from_contents(schema, default_specification=DRAFT202012)
        # Register under its $id (what relative $refs resolve against) and its file URI.
        if "$id" in schema:
            registry = registry.with_resource(schema["$id"], resource)
        registry = registry.with_resource(path.resolve().as_uri(), resource)
        check.ok(what, "valid draft 2020-12 schema")

    missing = [n for n in (ENVELOPE, STORED, EVENT_DATA, RULES) if n not in schemas]
    if missing:
        check.fail("schemas", [f"missing or broken: {', '.join(missing)}"])
        print(f"{check.passed} passed, {check.failed} failed")
        return 1
    registry = registry.crawl()

    def validator_for(name: str) -> Draft202012Validator:
        return Draft202012Validator(schemas[name], registry=registry,
                                    format_checker=Draft202012Validator.FORMAT_CHECKER)

    envelope_v = validator_for(ENVELOPE)
    stored_v = validator_for(STORED)
    rules_v = validator_for(RULES)

    # 2. The vocabulary agrees across the three schemas.
    env_types = schemas[ENVELOPE]["properties"]["type"].get("enum", [])
    stored_types = schemas[STORED]["properties"]["type"].get("enum", [])
    data_types = list(schemas[EVENT_DATA].get("$defs", {}))
    problems = []
    if set(env_types) != set(stored_types):
        problems.append(f"envelope vs stored-event type enums differ: {sorted(set(env_types) ^ set(stored_types))}")
    if set(env_types) != set(data_types):
        problems.append(f"envelope type enum vs event-data $defs differ: {sorted(set(env_types) ^ set(data_types))}")
    if problems:
        check.fail("vocabulary", problems)
    else:
        check.ok("vocabulary", f"{len(env_types)} event types in all three schemas")
    rule_events = (schemas[RULES].get("$defs", {}).get("BehaviorRule", {})
                   .get("properties", {}).get("event", {}).get("enum", []))
    if set(rule_events) != set(env_types):
        check.fail("rules vocabulary", [f"rules.schema.json behavior event enum vs envelope type enum "
                                        f"differ: {sorted(set(rule_events) ^ set(env_types))}"])
    else:
        check.ok("rules vocabulary", "behavior rules use the envelope's event types")

    # 3. Examples.
    valid_files = sorted((EXAMPLES / "valid").glob("*.json"))
    invalid_files = sorted((EXAMPLES / "invalid").glob("*.json"))
    stored_files = sorted((EXAMPLES / "stored").glob("*.json"))
    covered = set()
    for path, validator, expect in ([(p, envelope_v, True) for p in valid_files]
                                    + [(p, envelope_v, False) for p in invalid_files]
                                    + [(p, stored_v, True) for p in stored_files]):
        try:
            doc = load_json(path)
        except (OSError, json.JSONDecodeError) as exc:
            check.fail(rel(path), [f"cannot read: {exc}"])
            continue
        if expect and validator is envelope_v and isinstance(doc, dict):
            covered.add(doc.get("type"))
        validate(check, validator, doc, rel(path), expect_valid=expect)
    uncovered = [t for t in env_types if t not in covered]
    if uncovered:
        check.fail("examples/valid coverage", [f"no valid example for: {', '.join(uncovered)}"])
    else:
        check.ok("examples/valid coverage", "every event type has a valid example")

    # 3b. Scoring-rules examples (YAML or JSON).
    def rules_files(kind: str) -> list[Path]:
        return sorted(p for p in (RULES_EXAMPLES / kind).glob("*")
                      if p.is_file() and p.suffix.lower() in RULES_SUFFIXES)

    rules_valid = rules_files("valid")
    rules_invalid = rules_files("invalid")
    if not rules_valid or not rules_invalid:
        check.fail(rel(RULES_EXAMPLES), ["expected examples in both rules/valid and rules/invalid"])
    for path, expect in [(p, True) for p in rules_valid] + [(p, False) for p in rules_invalid]:
        try:
            doc = load_rules(path)
        except (OSError, json.JSONDecodeError, yaml.YAMLError) as exc:
            check.fail(rel(path), [f"cannot read: {exc}"])
            continue
        validate(check, rules_v, doc, rel(path), expect_valid=expect)

    # 4. --events FILE.jsonl
    for name in args.events:
        path = Path(name)
        try:
            f = path.open(encoding="utf-8")
        except OSError as exc:
            check.fail(name, [f"cannot read: {exc}"])
            continue
        with f:
            for lineno, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                what = f"{name}:{lineno}"
                try:
                    doc = json.loads(line)
                except json.JSONDecodeError as exc:
                    check.fail(what, [f"not JSON: {exc}"])
                    continue
                validate(check, envelope_v, doc, what)

    # 5. --stored FILE.json ({"rows": [...]})
    for name in args.stored:
        try:
            doc = load_json(Path(name))
        except (OSError, json.JSONDecodeError) as exc:
            check.fail(name, [f"cannot read: {exc}"])
            continue
        rows = doc.get("rows") if isinstance(doc, dict) else None
        if not isinstance(rows, list):
            check.fail(name, ['expected a JSON object with a "rows" array'])
            continue
        for i, row in enumerate(rows):
            validate(check, stored_v, row, f"{name}: rows[{i}]")

    # 6. --rules FILE.(yaml|yml|json)
    for name in args.rules:
        try:
            doc = load_rules(Path(name))
        except (OSError, json.JSONDecodeError, yaml.YAMLError) as exc:
            check.fail(name, [f"cannot read: {exc}"])
            continue
        validate(check, rules_v, doc, name)

    print(f"{check.passed} passed, {check.failed} failed")
    return 1 if check.failed else 0


if __name__ == "__main__":
    sys.exit(main())
