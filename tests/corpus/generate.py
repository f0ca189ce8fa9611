"""Writes tests/corpus/: saved randomuser payloads of every documented shape, and what ingest
must make of each (expected.json). Run: python3 tests/corpus/generate.py

The shapes follow what each API version served (randomuser.me's changelog and the versions'
generators; saved payloads found in public projects): 1.4 and 1.3 (street {number, name},
country), 1.2 (uuid, {date, age} dates, coordinates and timezone, a string street, no country),
1.1 (no uuid, "YYYY-MM-DD HH:MM:SS" dates), 1.0 (no uuid, epoch-second dates), the pre-1.0
{"user": {...}} wrapper (credentials and the national id at the top, `zip`, epoch seconds as
strings, `nationality`; before 0.3 the hashes were md5_hash and sha1_hash), and the framings
people save them in: the envelope, a bare array, JSON Lines, with a byte-order mark and CRLF,
inc/exc subsets. Each file plants national ids and credentials, all listed in
expected.json["planted"]: none of them may ever be found in clear anywhere (tests/e2e scans for
them). The expected counts and reasons are stated here, independently of the C++ decoder.
`--check`: write into a scratch folder and fail if anything differs from what is committed
(`make check` runs it).
"""

from __future__ import annotations

import copy
import atexit
import filecmp
import hashlib
import json
import sys
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CHECK = "--check" in sys.argv[1:]
OUT = Path(tempfile.mkdtemp(prefix="sf-corpus-")) if CHECK else HERE
if CHECK:  # the comparison's scratch copy goes when the check ends, whatever its verdict
    atexit.register(shutil.rmtree, OUT, ignore_errors=True)
FILES = OUT / "files"
NO_UUID = "login.uuid: missing (API versions before 1.2 served no uuid; a user cannot be identified without one)"

planted_ids: list[str] = []
planted_credentials: list[str] = []
_n = [0]


def counter() -> int:
    _n[0] += 1
    return _n[0]


def national_id(kind: str, n: int) -> str:
    """A national id of the kind's usual written form, unique per n, and never a real one (US
    SSNs do not start with 9; QQ is the NINO prefix kept for examples)."""
    forms = {
        "SSN": f"9{n % 100:02d}-{(n * 7) % 100:02d}-{(1000 + n * 37) % 10000:04d}",
        "NINO": f"QQ {n % 100:02d} {(n * 3) % 100:02d} {(n * 7) % 100:02d} C",
        "TFN": f"876 {n % 1000:03d} {(n * 13) % 1000:03d}",
        "HETU": f"{1 + n % 28:02d}{1 + n % 12:02d}{50 + n % 40:02d}-9{n % 100:02d}X",
        "INSEE": f"1 {n % 100:02d} 06 75 {113 + n % 800:03d} {240 + n % 700:03d} {n % 97:02d}",
        "BSN": f"{1000 + n:04d}.{(n * 3) % 100:02d}.{(n * 7) % 1000:03d}",
        "PPS": f"{9000000 + n:07d}TW",
        "CPF": f"{n % 1000:03d}.{(n * 7) % 1000:03d}.{(n * 13) % 1000:03d}-{n % 100:02d}",
        "DNI": f"{48000000 + n:08d}-R",
        "SIN": f"046 {n % 1000:03d} {(n * 11) % 1000:03d}",
    }
    value = forms[kind]
    planted_ids.append(value)
    return value


def credentials(n: int, legacy_names: bool = False) -> dict[str, Any]:
    password = f"plant-pw-{n:04d}"
    salt = f"PlS{n:04d}x"
    md5 = hashlib.md5(f"md5-{n}".encode()).hexdigest()
    sha1 = hashlib.sha1(f"sha1-{n}".encode()).hexdigest()
    sha256 = hashlib.sha256(f"sha256-{n}".encode()).hexdigest()
    planted_credentials.extend([password, salt, md5, sha1, sha256])
    if legacy_names:  # API 0.1-0.2
        return {"password": password, "md5_hash": md5, "sha1_hash": sha1}
    return {"password": password, "salt": salt, "md5": md5, "sha1": sha1, "sha256": sha256}


NATS = [
    ("US", "United States", "SSN"),
    ("GB", "United Kingdom", "NINO"),
    ("AU", "Australia", "TFN"),
    ("FI", "Finland", "HETU"),
    ("FR", "France", "INSEE"),
    ("NL", "Netherlands", "BSN"),
    ("IE", "Ireland", "PPS"),
    ("BR", "Brazil", "CPF"),
    ("ES", "Spain", "DNI"),
    ("CA", "Canada", "SIN"),
]


def uid(n: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"streamflow-corpus-{n}"))


def modern() -> tuple[dict[str, Any], str]:
    """A 1.3/1.4 record (and its uuid): the two versions serve the same shape."""
    n = counter()
    nat, country, id_name = NATS[n % len(NATS)]
    u = uid(n)
    return {
        "gender": "female" if n % 2 else "male",
        "name": {"title": "Ms" if n % 2 else "Mr", "first": f"First{n}", "last": f"Last{n}"},
        "location": {
            "street": {"number": 100 + n, "name": f"Corpus Street {n}"},
            "city": "Town",
            "state": "State",
            "country": country,
            "postcode": f"0{1000 + n}",
            "coordinates": {"latitude": f"{(n % 90) - 45}.5", "longitude": f"{(n % 180) - 90}.25"},
            "timezone": {"offset": "+1:00", "description": "Brussels, Copenhagen, Madrid, Paris"},
        },
        "email": f"first{n}.last{n}@example.com",
        "login": {"uuid": u, "username": f"user{n}", **credentials(n)},
        "dob": {"date": f"19{50 + n % 50}-0{1 + n % 9}-1{n % 9}T10:20:30.{n % 1000:03d}Z", "age": 40},
        "registered": {"date": "2015-06-01T12:00:00.000Z", "age": 11},
        "phone": f"01-{n:04d}-5678",
        "cell": f"06-{n:04d}-1234",
        "id": {"name": id_name, "value": national_id(id_name, n)},
        "picture": {"large": f"https://randomuser.me/api/portraits/women/{n % 90}.jpg"},
        "nat": nat,
    }, u


def v12() -> tuple[dict[str, Any], str]:
    r, u = modern()
    r["location"]["street"] = f"{100 + _n[0]} corpus street"
    del r["location"]["country"]
    r["dob"]["date"] = r["dob"]["date"][:19] + "Z"
    r["registered"]["date"] = "2015-06-01T12:00:00Z"
    return r, u


def v11() -> dict[str, Any]:
    r, _ = v12()
    del r["login"]["uuid"]
    del r["location"]["coordinates"], r["location"]["timezone"]
    r["dob"] = "1983-07-14 07:29:45"
    r["registered"] = "2010-09-24 02:10:42"
    return r


def v10() -> dict[str, Any]:
    r = v11()
    r["dob"] = 932871968
    r["registered"] = 1102173335
    return r


def pre10(version: str) -> dict[str, Any]:
    """The {"user": {...}, "seed": ...} wrapper: login fields and the national id at the top."""
    n = counter()
    nat, _, id_name = NATS[n % len(NATS)]
    legacy = version in ("0.1", "0.2")
    user = {
        "gender": "male",
        "name": {"title": "mr", "first": f"old{n}", "last": f"shape{n}"},
        "location": {"street": f"{1000 + n} robinson rd", "city": "vernon", "state": "idaho"},
        "email": f"old{n}@example.com",
        "username": f"oldwolf{n}",
        **credentials(n, legacy),
        "registered": "1138571847",
        "dob": "353497588",
        "phone": "(837)-192-1272",
        "cell": "(744)-279-6420",
        id_name: national_id(id_name, n),
        "picture": {"large": "http://api.randomuser.me/portraits/men/64.jpg"},
        "version": version,
    }
    if version in ("0.5", "0.6"):
        user["location"]["postcode"] = f"{36000 + n}"
        user["nationality"] = nat
    else:
        user["location"]["zip"] = f"{36000 + n}"
    return {"user": user, "seed": f"{n:016x}"}


def info(n: int, version: str) -> dict[str, Any]:
    return {"seed": "corpus", "results": n, "page": 1, "version": version}


cases: dict[str, dict[str, Any]] = {}


def case(
    name: str,
    body: str,
    valid: list[str],
    rejects: list[tuple[int, str]],
    records: int,
    framing: str | None,
    note: str,
    error: str | None = None,
) -> None:
    (FILES / name).write_bytes(body.encode())
    cases[name] = {
        "note": note,
        "framing": framing,
        "records": records,
        "valid": valid,
        "rejects": [{"index": i, "reason": r} for i, r in rejects],
        "error": error,
    }


def dumps(doc: Any) -> str:
    return json.dumps(doc, ensure_ascii=False)


def main() -> None:
    FILES.mkdir(exist_ok=True)
    for old in FILES.iterdir():
        old.unlink()

    # 1.4: valid records, and the invalid ones real payloads can carry, with secrets planted in
    # each (the rejects' payloads must keep none of them in clear).
    recs = [modern() for _ in range(6)]
    bad_email, _ = modern()
    bad_email["email"] = "not-an-email"
    bad_lat, _ = modern()
    bad_lat["location"]["coordinates"]["latitude"] = "123.0"
    bad_uuid, _ = modern()
    bad_uuid["login"]["uuid"] = "not-a-uuid"
    hidden, _ = modern()
    hidden["gender"] = "robot"
    deep_hash = hashlib.sha256(b"deep-sha256").hexdigest()
    planted_credentials.append(deep_hash)
    hidden["notes"] = {"kept": [{"ssn": national_id("SSN", counter()), "sha256": deep_hash}]}
    dup = copy.deepcopy(recs[0][0])
    dup["name"]["first"] = "Again"
    records = [r for r, _ in recs] + [bad_email, bad_lat, bad_uuid, hidden, dup, "a string"]
    case(
        "v1.4-envelope.json",
        dumps({"results": records, "info": info(len(records), "1.4")}),
        [u for _, u in recs],
        [
            (6, "email: not an email address: 'not-an-email'"),
            (7, "location.coordinates.latitude: not a latitude: '123.0'"),
            (8, "login.uuid: not a UUID"),
            (9, "gender: expected male or female, got 'robot'"),
            (10, "login.uuid: duplicate of record #0 in this response"),
            (11, "record: expected an object, got string"),
        ],
        len(records),
        "envelope",
        "API 1.4 as served, with the invalid records real payloads carry",
    )

    recs = [modern() for _ in range(4)]
    case(
        "v1.3-envelope.json",
        json.dumps({"results": [r for r, _ in recs], "info": info(4, "1.3")}, indent=2),
        [u for _, u in recs],
        [],
        4,
        "envelope",
        "API 1.3, pretty-printed",
    )

    recs = [v12() for _ in range(4)]
    case(
        "v1.2-envelope.json",
        dumps({"results": [r for r, _ in recs], "info": info(4, "1.2")}),
        [u for _, u in recs],
        [],
        4,
        "envelope",
        "API 1.2: uuid and {date, age} dates, but a string street and no country",
    )

    legacy = [v11() for _ in range(3)]
    case(
        "v1.1-envelope.json",
        dumps({"results": legacy, "info": info(3, "1.1")}),
        [],
        [(i, NO_UUID) for i in range(3)],
        3,
        "envelope",
        "API 1.1: no uuid, date strings",
    )

    legacy = [v10() for _ in range(3)]
    case(
        "v1.0-envelope.json",
        dumps({"results": legacy, "info": info(3, "1.0")}),
        [],
        [(i, NO_UUID) for i in range(3)],
        3,
        "envelope",
        "API 1.0: no uuid, epoch-second dates",
    )

    legacy = [pre10(v) for v in ("0.2", "0.4.1", "0.4.1", "0.6", "0.6")]
    case(
        "v0.x-wrapped.json",
        dumps({"results": legacy}),
        [],
        [(i, NO_UUID) for i in range(5)],
        5,
        "envelope",
        "before 1.0: the user wrapper, SSN/NINO/... and credentials at the top, zip",
    )

    recs = [modern() for _ in range(5)]
    case(
        "bare-array.json",
        dumps([r for r, _ in recs]),
        [u for _, u in recs],
        [],
        5,
        "array",
        "results saved alone, without the envelope",
    )

    recs = [modern() for _ in range(5)]
    bad, _ = modern()
    bad["nat"] = "USA"
    lines = [dumps(r) for r, _ in recs[:3]] + [dumps(bad)] + [dumps(r) for r, _ in recs[3:]]
    case(
        "json-lines.jsonl",
        "\n".join(lines) + "\n",
        [u for _, u in recs],
        [(3, "nat: expected a two-letter nationality, got 'USA'")],
        6,
        "json-lines",
        "one result object per line",
    )

    recs = [modern() for _ in range(3)]
    case(
        "bom-crlf.jsonl",
        "\ufeff" + "\r\n".join(dumps(r) for r, _ in recs) + "\r\n\r\n",
        [u for _, u in recs],
        [],
        3,
        "json-lines",
        "JSON Lines with a byte-order mark and CRLF",
    )

    recs = [modern() for _ in range(3)]
    case(
        "bom-envelope.json",
        "\ufeff\n  " + dumps({"results": [r for r, _ in recs]}) + "  \n",
        [u for _, u in recs],
        [],
        3,
        "envelope",
        "the envelope with a byte-order mark and white space",
    )

    # inc=gender,name,location,email,login,phone,picture (no dob, cell, id, nat, registered).
    recs = [modern() for _ in range(4)]
    inc = [
        {k: v for k, v in r.items() if k in ("gender", "name", "location", "email", "login", "phone", "picture")}
        for r, _ in recs
    ]
    case(
        "inc-subset.json",
        dumps({"results": inc, "info": info(4, "1.4")}),
        [u for _, u in recs],
        [],
        4,
        "envelope",
        "inc=gender,name,location,email,login,phone,picture",
    )
    recs = [modern() for _ in range(3)]
    exc = [{k: v for k, v in r.items() if k not in ("dob", "registered", "nat", "id")} for r, _ in recs]
    no_login = {k: v for k, v in modern()[0].items() if k != "login"}
    case(
        "exc-subset.json",
        dumps({"results": exc + [no_login], "info": info(4, "1.4")}),
        [u for _, u in recs],
        [(3, "login.uuid: missing")],
        4,
        "envelope",
        "exc=dob,registered,nat,id; and exc=login, which leaves no user to identify",
    )

    # Unusable documents: refused whole, nothing stored.
    r, _ = modern()
    case(
        "unusable-csv.csv",
        "gender,name.title,name.first\nfemale,Ms,Jennie\n",
        [],
        [],
        0,
        None,
        "format=csv saved",
        error="response is not valid JSON",
    )
    case(
        "unusable-truncated.json",
        dumps({"results": [r]})[:300],
        [],
        [],
        0,
        None,
        "cut off mid-record",
        error="response is not valid JSON",
    )
    case(
        "unusable-no-results.json",
        dumps({"info": info(0, "1.4"), "data": [r]}),
        [],
        [],
        0,
        None,
        "an object without a results array",
        error="response has no results array (a JSON object with keys: info, data)",
    )
    case(
        "unusable-bad-line.jsonl",
        dumps(r) + "\n" + dumps(r)[:50] + "\n",
        [],
        [],
        0,
        None,
        "JSON Lines whose second line is cut off",
        error="JSON Lines: line 2 is not valid JSON",
    )
    case(
        "unusable-number.json",
        "42",
        [],
        [],
        0,
        None,
        "a bare number",
        error="response is a JSON number, expected an object with a results array, an array of "
        "result objects or JSON Lines",
    )

    expected = {"cases": cases, "planted": {"national_ids": planted_ids, "credentials": planted_credentials}}
    (OUT / "expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1) + "\n")
    if CHECK:
        written = sorted(str(p.relative_to(OUT)) for p in OUT.rglob("*") if p.is_file())
        committed = sorted(
            str(p.relative_to(HERE))
            for p in HERE.rglob("*")
            if p.is_file() and (p.parent.name == "files" or p.name == "expected.json")
        )
        differ = [f for f in written if f not in committed or not filecmp.cmp(OUT / f, HERE / f, shallow=False)]
        stale = [f for f in committed if f not in written]
        if differ or stale:
            sys.exit(
                "tests/corpus: out of date with generate.py (run python3 tests/corpus/generate.py and "
                f"review the diff): differs {differ}, no longer written {stale}"
            )
        print(f"tests/corpus: {len(written)} files match generate.py")
        return
    print(f"ok: {len(cases)} files, {len(planted_ids)} national ids and {len(planted_credentials)} credentials planted")


if __name__ == "__main__":
    main()
