"""Writes tests/golden/<case>/{input,expected}.json.

The expected side is computed here by an independent Python transcription of the rules in
src/model/decode.h, not by the C++ code under test. Run: python3 tests/golden/generate.py
(`--check`: write into a scratch folder and fail if anything differs from what is committed;
`make check` runs it).

Each expected.json also has `derived`: what the Spark job computes from each user's staging row
(pipeline/spark/streamflow_stream/transforms.py), for a change committed at `derived_at`.
"""

import atexit, json, hmac, hashlib, os, copy, filecmp, shutil, sys, tempfile
from collections.abc import Callable, Iterable
from typing import Any
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
CHECK = "--check" in sys.argv[1:]
OUT = tempfile.mkdtemp(prefix="sf-golden-") if CHECK else HERE
if CHECK:  # the comparison's scratch copy goes when the check ends, whatever its verdict
    atexit.register(shutil.rmtree, OUT, ignore_errors=True)
KEY = b"streamflow-golden-key"


def rec(
    nat: Any,
    gender: Any,
    title: Any,
    first: Any,
    last: Any,
    num: Any,
    street: Any,
    city: Any,
    state: Any,
    country: Any,
    postcode: Any,
    lat: Any,
    lon: Any,
    tzo: Any,
    tzd: Any,
    email: Any,
    uuid: Any,
    username: Any,
    dob: Any,
    dob_age: Any,
    reg: Any,
    reg_age: Any,
    phone: Any,
    cell: Any,
    idn: Any,
    idv: Any,
    pic: Any,
) -> dict[str, Any]:
    return {
        "gender": gender,
        "name": {"title": title, "first": first, "last": last},
        "location": {
            "street": {"number": num, "name": street},
            "city": city,
            "state": state,
            "country": country,
            "postcode": postcode,
            "coordinates": {"latitude": lat, "longitude": lon},
            "timezone": {"offset": tzo, "description": tzd},
        },
        "email": email,
        "login": {
            "uuid": uuid,
            "username": username,
            "password": "sunshine",
            "salt": "Xk2p9Lqa",
            "md5": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
            "sha1": "a9993e364706816aba3e25717850c26c9cd0d89d",
            "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        },
        "dob": {"date": dob, "age": dob_age},
        "registered": {"date": reg, "age": reg_age},
        "phone": phone,
        "cell": cell,
        "id": {"name": idn, "value": idv},
        "picture": {
            "large": f"https://randomuser.me/api/portraits/{pic}.jpg",
            "medium": f"https://randomuser.me/api/portraits/med/{pic}.jpg",
            "thumbnail": f"https://randomuser.me/api/portraits/thumb/{pic}.jpg",
        },
        "nat": nat,
    }


def U(n: int) -> str:
    return f"{n:08x}-1f70-40df-82fa-fc12a3c1b0f4"


valid = [
    rec(
        "AU",
        "female",
        "Ms",
        "Charlotte",
        "Walker",
        4412,
        "Mill Lane",
        "Bendigo",
        "Victoria",
        "Australia",
        3550,
        "-36.7570",
        "144.2794",
        "+10:00",
        "Eastern Australia, Guam, Vladivostok",
        "charlotte.walker@example.com",
        U(1),
        "bluebird412",
        "1988-04-12T06:22:31.120Z",
        38,
        "2012-09-03T11:05:44.901Z",
        14,
        "03-1234-5678",
        "0412-345-678",
        "TFN",
        "123456782",
        "women/12",
    ),
    rec(
        "BR",
        "male",
        "Mr",
        "João",
        "Araújo",
        8841,
        "Rua Três",
        "Belo Horizonte",
        "Minas Gerais",
        "Brazil",
        81523,
        "-19.9167",
        "-43.9345",
        "-3:00",
        "Brazil, Buenos Aires, Georgetown",
        "joao.araujo@example.com",
        U(2),
        "crazycat77",
        "1975-11-30T22:10:05.002Z",
        51,
        "2004-01-17T08:42:10.330Z",
        22,
        "(11) 2345-6789",
        "(21) 98765-4321",
        "CPF",
        "294.412.358-27",
        "men/41",
    ),
    rec(
        "CA",
        "female",
        "Mrs",
        "Chloé",
        "Gagnon",
        2271,
        "Dufferin St",
        "Saint-Hyacinthe",
        "Québec",
        "Canada",
        "J2S 7B1",
        "48.4284",
        "-71.0686",
        "-5:00",
        "Eastern Time (US & Canada), Bogota, Lima",
        "chloe.gagnon@example.com",
        U(3),
        "happyswan903",
        "1993-02-19T14:01:59.800Z",
        33,
        "2016-06-30T19:20:11.005Z",
        10,
        "Q06 L44-9120",
        "Y72 S03-4401",
        "SIN",
        "046454286",
        "women/77",
    ),
    rec(
        "CH",
        "male",
        "Monsieur",
        "Noah",
        "Müller",
        5712,
        "Rue du Bât-d'Argent",
        "Bülach",
        "Zürich",
        "Switzerland",
        8180,
        "47.5220",
        "8.5400",
        "+1:00",
        "Brussels, Copenhagen, Madrid, Paris",
        "noah.muller@example.com",
        U(4),
        "silverfox118",
        "1969-07-08T03:47:12.555Z",
        57,
        "2002-03-25T07:13:09.777Z",
        24,
        "075 123 45 67",
        "078 765 43 21",
        "AVS",
        "756.3047.5009.62",
        "men/8",
    ),
    rec(
        "DE",
        "female",
        "Frau",
        "Lea",
        "Schröder",
        9123,
        "Schlossstraße",
        "Görlitz",
        "Sachsen",
        "Germany",
        2826,
        "51.1526",
        "14.9877",
        "+1:00",
        "Brussels, Copenhagen, Madrid, Paris",
        "lea.schroder@example.com",
        U(5),
        "orangekoala552",
        "1990-10-01T12:00:00.000Z",
        36,
        "2019-12-31T23:59:59.999Z",
        6,
        "0171-1234567",
        "0176-7654321",
        "SVNR",
        "12 010190 S 123",
        "women/3",
    ),
    rec(
        "DK",
        "male",
        "Mr",
        "Mikkel",
        "Sørensen",
        316,
        "Østergade",
        "Aarhus N",
        "Midtjylland",
        "Denmark",
        8200,
        "56.1572",
        "10.2107",
        "+1:00",
        "Brussels, Copenhagen, Madrid, Paris",
        "mikkel.sorensen@example.com",
        U(6),
        "greenlion24",
        "1983-05-17T09:30:21.412Z",
        43,
        "2008-08-08T08:08:08.808Z",
        18,
        "12345678",
        "87654321",
        "CPR",
        "170583-1233",
        "men/55",
    ),
    rec(
        "ES",
        "female",
        "Miss",
        "Lucía",
        "Núñez",
        6406,
        "Calle de Alcalá",
        "Málaga",
        "Andalucía",
        "Spain",
        29016,
        "36.7213",
        "-4.4214",
        "+1:00",
        "Brussels, Copenhagen, Madrid, Paris",
        "lucia.nunez@example.com",
        U(7),
        "purplebear604",
        "1997-12-24T18:45:00.120Z",
        29,
        "2020-02-29T10:10:10.100Z",
        6,
        "912-345-678",
        "612-345-678",
        "DNI",
        "48327541-R",
        "women/44",
    ),
    rec(
        "FI",
        "male",
        "Mr",
        "Eetu",
        "Mäkinen",
        1337,
        "Hämeenkatu",
        "Hämeenlinna",
        "Kanta-Häme",
        "Finland",
        13100,
        "60.9959",
        "24.4643",
        "+2:00",
        "Kaliningrad, South Africa",
        "eetu.makinen@example.com",
        U(8),
        "smallduck501",
        "1961-01-01T00:00:00.000Z",
        65,
        "2003-04-14T16:40:02.002Z",
        23,
        "03-123-456",
        "041-234-56-78",
        "HETU",
        "NaNNA742undefined",
        "men/19",
    ),
    rec(
        "FR",
        "female",
        "Madame",
        "Maëlle",
        "Lefèvre",
        7755,
        "Place de l'Abbé-Jean-Lebeuf",
        "Saint-Étienne",
        "Loire",
        "France",
        "42000",
        "45.4397",
        "4.3872",
        "+1:00",
        "Brussels, Copenhagen, Madrid, Paris",
        "maelle.lefevre@example.com",
        U(9),
        "lazymouse333",
        "1986-06-15T07:07:07.707Z",
        40,
        "2011-11-11T11:11:11.111Z",
        15,
        "04-12-34-56-78",
        "06-12-34-56-78",
        "INSEE",
        "2860675113240 48",
        "women/60",
    ),
    rec(
        "GB",
        "male",
        "Mr",
        "Oliver",
        "O'Brien",
        8150,
        "Queen's Road",
        "Milton Keynes",
        "Buckinghamshire",
        "United Kingdom",
        "MK9 3EP",
        "52.0406",
        "-0.7594",
        "0:00",
        "Western Europe Time, London, Lisbon, Casablanca",
        "oliver.obrien@example.com",
        U(10),
        "beautifulswan120",
        "1979-03-03T13:13:13.130Z",
        47,
        "2006-05-05T05:05:05.050Z",
        20,
        "015394 12345",
        "07700 900123",
        "NINO",
        "QQ 12 34 56 C",
        "men/91",
    ),
    rec(
        "IE",
        "female",
        "Ms",
        "Aoife",
        "Ó Súilleabháin",
        2204,
        "Grafton Street",
        "Dún Laoghaire",
        "Dublin",
        "Ireland",
        "K43 E2R5",
        "53.2944",
        "-6.1339",
        "0:00",
        "Western Europe Time, London, Lisbon, Casablanca",
        "aoife.osuilleabhain@example.com",
        U(11),
        "tinytiger88",
        "1995-09-09T09:09:09.090Z",
        31,
        "2018-03-17T17:17:17.170Z",
        8,
        "071-123-4567",
        "081-123-4567",
        "PPS",
        "1234567TW",
        "women/25",
    ),
    rec(
        "IN",
        "male",
        "Mr",
        "Aarav",
        "Shetty",
        2590,
        "Chaman Ganj",
        "Satara",
        "Goa",
        "India",
        16331,
        "8.4497",
        "159.4510",
        "+5:30",
        "Bombay, Calcutta, Madras, New Delhi",
        "aarav.shetty@example.com",
        U(12),
        "purplezebra824",
        "1948-08-16T23:35:41.898Z",
        78,
        "2005-02-07T06:36:48.434Z",
        21,
        "7707093091",
        "9526702382",
        "UIDAI",
        "869562310963",
        "men/63",
    ),
    rec(
        "IR",
        "female",
        "Miss",
        "نازنین",
        "رضایی",
        5236,
        "میدان آزادی",
        "اصفهان",
        "اصفهان",
        "Iran",
        49213,
        "32.6546",
        "51.6680",
        "+3:30",
        "Tehran",
        "nzny.rdyy@example.com",
        U(13),
        "goldenpanda401",
        "1992-07-21T04:12:40.440Z",
        34,
        "2014-10-10T10:10:10.010Z",
        12,
        "021-12345678",
        "0912-345-6789",
        "",
        "",
        "women/36",
    ),
    rec(
        "MX",
        "male",
        "Mr",
        "José Luis",
        "Domínguez",
        421,
        "Avenida Juárez",
        "San Luis Potosí",
        "Nuevo León",
        "Mexico",
        74015,
        "19.4326",
        "-99.1332",
        "-6:00",
        "Central Time (US & Canada), Mexico City",
        "joseluis.dominguez@example.com",
        U(14),
        "redcat909",
        "1971-04-04T04:04:04.004Z",
        55,
        "2001-07-04T12:00:00.000Z",
        25,
        "(618) 123 4567",
        "(662) 765 4321",
        "NSS",
        "36 87 23 4170 1",
        "men/14",
    ),
    rec(
        "NL",
        "female",
        "Mevrouw",
        "Femke",
        "van der Berg",
        9031,
        "Oude Gracht",
        "'s-Hertogenbosch",
        "Noord-Brabant",
        "Netherlands",
        "5211 JA",
        "51.6978",
        "5.3037",
        "+1:00",
        "Brussels, Copenhagen, Madrid, Paris",
        "femke.vanderberg@example.com",
        U(15),
        "yellowbutterfly611",
        "1987-08-30T21:21:21.210Z",
        39,
        "2010-10-10T10:10:10.101Z",
        16,
        "(079) 1234567",
        "(06) 12345678",
        "BSN",
        "04242023",
        "women/58",
    ),
    rec(
        "NO",
        "male",
        "Mr",
        "Ørjan",
        "Haugen",
        1023,
        "Bjørnstjerne Bjørnsons gate",
        "Tromsø",
        "Troms",
        "Norway",
        "0357",
        "69.6492",
        "18.9553",
        "+1:00",
        "Brussels, Copenhagen, Madrid, Paris",
        "orjan.haugen@example.com",
        U(16),
        "blackfrog766",
        "1966-02-14T02:14:02.140Z",
        60,
        "2007-07-07T07:07:07.070Z",
        19,
        "21234567",
        "41234567",
        "FN",
        "14026612345",
        "men/70",
    ),
    rec(
        "NZ",
        "female",
        "Ms",
        "Aroha",
        "Ngata",
        7030,
        "Te Awe Awe Street",
        "Whangārei",
        "Northland",
        "New Zealand",
        4110,
        "-35.7251",
        "174.3237",
        "+12:00",
        "Auckland, Wellington, Fiji, Kamchatka",
        "aroha.ngata@example.com",
        U(17),
        "whitekiwi229",
        "1999-12-31T23:59:59.000Z",
        27,
        "2021-01-01T00:00:00.000Z",
        5,
        "(123)-456-7890",
        "(021)-123-4567",
        "",
        "",
        "women/89",
    ),
    rec(
        "RS",
        "male",
        "Mr",
        "Милош",
        "Јовановић",
        6020,
        "Кнеза Милоша",
        "Нови Сад",
        "Јужнобачки",
        "Serbia",
        21000,
        "45.2671",
        "19.8335",
        "+1:00",
        "Brussels, Copenhagen, Madrid, Paris",
        "milos.jovanovic@example.com",
        U(18),
        "sadbird505",
        "1980-06-06T06:06:06.060Z",
        46,
        "2009-09-09T09:09:09.090Z",
        17,
        "010-1234-567",
        "063-1234-567",
        "SID",
        "060698012345",
        "men/33",
    ),
    rec(
        "TR",
        "female",
        "Ms",
        "Şükran",
        "Yıldırım",
        3328,
        "Atatürk Cd",
        "Şanlıurfa",
        "Şanlıurfa",
        "Turkey",
        63100,
        "37.1591",
        "38.7969",
        "+3:00",
        "Baghdad, Riyadh, Moscow, St. Petersburg",
        "sukran.yildirim@example.com",
        U(19),
        "heavyostrich274",
        "1958-11-11T11:11:11.111Z",
        68,
        "2002-02-02T02:02:02.020Z",
        24,
        "(222)-123-4567",
        "(532)-123-4567",
        "",
        "",
        "women/7",
    ),
    rec(
        "UA",
        "male",
        "Mr",
        "Ярослав",
        "Гордієнко",
        8421,
        "Вулиця Шевченка",
        "Житомир",
        "Житомирська",
        "Ukraine",
        10014,
        "50.2547",
        "28.6587",
        "+2:00",
        "Kaliningrad, South Africa",
        "yaroslav.gordiyenko@example.com",
        U(20),
        "angrypeacock838",
        "1977-05-09T19:45:00.450Z",
        49,
        "2013-08-24T12:00:00.000Z",
        13,
        "(098) S84-7726",
        "(067) V23-1121",
        "",
        "",
        "men/29",
    ),
    rec(
        "US",
        "female",
        "Miss",
        "Jennie",
        "Nichols",
        8929,
        "Valwood Pkwy",
        "Billings",
        "Michigan",
        "United States",
        "63104",
        "-69.8246",
        "134.8719",
        "+9:30",
        "Adelaide, Darwin",
        "jennie.nichols@example.com",
        U(21),
        "yellowpeacock117",
        "1992-03-08T15:13:16.688Z",
        34,
        "2007-07-09T05:51:59.390Z",
        19,
        "(272) 790-0888",
        "(489) 330-2385",
        "SSN",
        "405-88-3636",
        "women/75",
    ),
]
# Real API: several nationalities serve {"name": "", "value": null}.
for r in valid:
    if r["id"]["value"] == "":
        r["id"]["value"] = None


def info(n: int, version: str = "1.4") -> dict[str, Any]:
    return {"seed": "56d27f4a53bd5441", "results": n, "page": 1, "version": version}


# ---- independent reference implementation of the documented rules -------------------------
def norm(v: str) -> str:
    v = v.replace("\ufeff", "")
    edge = set(" \t\u00a0\u202f\u205f\u3000\u2060") | {chr(c) for c in range(0x2000, 0x200E)}
    s, e = 0, len(v)
    while s < e and v[s] in edge:
        s += 1
    while e > s and v[e - 1] in edge:
        e -= 1
    return v[s:e]


def opt(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        raise ValueError
    if isinstance(v, (int, float)):
        v = str(v)
    v = norm(v)
    return v or None


LEGACY_ID_KEYS = [
    "SSN",
    "NINO",
    "TFN",
    "BSN",
    "HETU",
    "INSEE",
    "PPS",
    "DNI",
    "CPF",
    "SIN",
    "AVS",
    "SVNR",
    "CPR",
    "FN",
    "UIDAI",
    "NSS",
    "SID",
]


def unwrap(r: dict[str, Any]) -> dict[str, Any]:
    """The record inside a pre-1.0 {"user": {...}, "seed": ...} wrapper."""
    inner = r.get("user")
    if isinstance(inner, dict) and "login" not in r and "name" not in r:
        return inner
    return r


def dated(v: Any) -> tuple[str | None, int | None]:
    """(date, age) of dob/registered in any API shape: {date, age}, a date string, epoch seconds."""
    if v is None:
        return None, None
    date, age = (v.get("date"), v.get("age")) if isinstance(v, dict) else (v, None)
    date = opt(date)
    if date is not None and date.lstrip("-").isdigit():
        date = datetime.fromtimestamp(int(date), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return date, age


def expect_user(raw: dict[str, Any]) -> dict[str, Any]:
    r = unwrap(raw)
    loc = r.get("location") or {}
    st = loc.get("street")
    if isinstance(st, str):
        num, sname = None, opt(st)  # a string street is kept whole as the street's name
    else:
        st = st or {}
        num, sname = st.get("number"), opt(st.get("name"))
    login = r.get("login") or {}
    name = r.get("name") or {}
    if isinstance(r.get("id"), dict):
        idn, idv = opt(r["id"].get("name")), opt(r["id"].get("value"))
    else:
        key = next((k for k in LEGACY_ID_KEYS if r.get(k) is not None), None)
        idn, idv = key, opt(r[key]) if key else None
    dob, dob_age = dated(r.get("dob"))
    reg, reg_age = dated(r.get("registered"))
    coords = loc.get("coordinates") or {}
    tz = loc.get("timezone") or {}
    pic = r.get("picture") or {}

    def lower(v: str | None) -> str | None:
        return v.lower() if v is not None else None

    return {
        "uuid": norm(login["uuid"]).lower(),
        "gender": lower(opt(r.get("gender"))),
        "title": opt(name.get("title")),
        "first_name": opt(name.get("first")),
        "last_name": opt(name.get("last")),
        "street_number": num,
        "street_name": sname,
        "city": opt(loc.get("city")),
        "state": opt(loc.get("state")),
        "country": opt(loc.get("country")),
        "postcode": opt(loc.get("postcode", loc.get("zip"))),
        "latitude": opt(coords.get("latitude")),
        "longitude": opt(coords.get("longitude")),
        "tz_offset": opt(tz.get("offset")),
        "tz_description": opt(tz.get("description")),
        "email": lower(opt(r.get("email"))),
        "username": opt(login.get("username", r.get("username"))),
        "dob": dob,
        "dob_age": dob_age,
        "registered": reg,
        "registered_age": reg_age,
        "phone": opt(r.get("phone")),
        "cell": opt(r.get("cell")),
        "id_name": idn,
        "id_hash": hmac.new(KEY, idv.encode(), hashlib.sha256).hexdigest() if idv else None,
        "picture_large": opt(pic.get("large")),
        "picture_medium": opt(pic.get("medium")),
        "picture_thumbnail": opt(pic.get("thumbnail")),
        "nat": (opt(r.get("nat", r.get("nationality"))) or "").upper() or None,
    }


# ---- the Spark job's derivations, stated independently -------------------------------------
DERIVED_AT = "2026-06-15T12:00:00.000Z"  # the commit time the derived ages are computed at
ISO = {
    "australia": "AU",
    "brazil": "BR",
    "canada": "CA",
    "switzerland": "CH",
    "germany": "DE",
    "denmark": "DK",
    "spain": "ES",
    "finland": "FI",
    "france": "FR",
    "united kingdom": "GB",
    "ireland": "IE",
    "india": "IN",
    "iran": "IR",
    "mexico": "MX",
    "netherlands": "NL",
    "norway": "NO",
    "new zealand": "NZ",
    "serbia": "RS",
    "turkey": "TR",
    "ukraine": "UA",
    "united states": "US",
}


def utc(text: str) -> datetime:
    d = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return d if d.tzinfo else d.replace(tzinfo=timezone.utc)


def derive(u: dict[str, Any]) -> dict[str, Any]:
    age = None
    if u["dob"] is not None:
        at, dob = utc(DERIVED_AT), utc(u["dob"])

        def key(d: datetime) -> tuple[int, ...]:
            return (d.month, d.day, d.hour, d.minute, d.second, d.microsecond // 1000)

        age = at.year - dob.year - (1 if key(at) < key(dob) else 0)
        age = age if age >= 0 else None
    bands = [(18, "under 18"), (25, "18-24"), (35, "25-34"), (45, "35-44"), (55, "45-54"), (65, "55-64")]
    band = "unknown" if age is None else next((b for lim, b in bands if age < lim), "65+")

    def coord(v: str | None, lim: float) -> float | None:
        if v is None:
            return None
        try:
            x = float(v)
        except ValueError:
            return None
        return x if abs(x) <= lim else None

    email = u["email"] or ""
    domain = email.rsplit("@", 1)[1].lower() if "@" in email else None
    # The country code: the nationality when there is one, else the country's name, else
    # "ZZ" (unknown), so that every user is counted somewhere.
    code = u["nat"] or ISO.get((u["country"] or "").strip().lower()) or "ZZ"
    return {
        "uuid": u["uuid"],
        "full_name": " ".join(x for x in (u["first_name"], u["last_name"]) if x) or None,
        "age": age,
        "age_band": band,
        "email_domain": domain or None,
        "country_code": code,
        "latitude": coord(u["latitude"], 90),
        "longitude": coord(u["longitude"], 180),
    }


def write(
    case: str,
    doc: Any,
    users: list[dict[str, Any]],
    rejects: Iterable[tuple[int, str]] = (),
    error: str | None = None,
    note: str = "",
) -> None:
    d = os.path.join(OUT, case)
    os.makedirs(d, exist_ok=True)
    body = doc if isinstance(doc, str) else json.dumps(doc, ensure_ascii=False, indent=1)
    open(os.path.join(d, "input.json"), "w", encoding="utf-8").write(body + ("\n" if not isinstance(doc, str) else ""))
    exp = {
        "note": note,
        "error": error,
        "users": users,
        "rejects": [{"index": i, "reason": r} for i, r in rejects],
        "derived_at": DERIVED_AT,
        "derived": [derive(u) for u in users],
    }
    open(os.path.join(d, "expected.json"), "w", encoding="utf-8").write(
        json.dumps(exp, ensure_ascii=False, indent=1) + "\n"
    )


write(
    "valid_every_nationality",
    {"results": valid, "info": info(len(valid))},
    [expect_user(r) for r in valid],
    note="One realistic 1.4 record per nationality the real API serves; credentials present in the input, never in the output.",
)

# A string street (as 1.2 and before served it), lower-case title, numeric postcode.
v13 = copy.deepcopy(valid[9])
v13["location"]["street"] = "8150 queen's road"
v13["name"]["title"] = "mr"
v13["location"]["postcode"] = 61725
v13b = copy.deepcopy(valid[0])
v13b["location"]["street"] = "mill lane"
v13b["login"]["uuid"] = U(101)
write(
    "api_v1_3_shape",
    {"results": [v13, v13b], "info": info(2, "1.3")},
    [expect_user(v13), expect_user(v13b)],
    note="location.street as a string (API 1.2 and before): kept whole as the street's name, no number guessed.",
)

traps = []
t = copy.deepcopy(valid[20])
t["login"]["uuid"] = U(201)
t["location"]["postcode"] = "01234"
traps.append(t)  # leading zero kept
t = copy.deepcopy(valid[4])
t["login"]["uuid"] = U(202)
t["location"]["postcode"] = 2826
traps.append(t)  # numeric postcode
t = copy.deepcopy(valid[10])
t["login"]["uuid"] = U(203)
t["id"] = {"name": "", "value": None}
traps.append(t)  # null id.value
t = copy.deepcopy(valid[12])
t["login"]["uuid"] = U(204)
t["name"]["first"] = "محمد\u200cرضا"
t["name"]["last"] = "\ufeffاحمدی "
traps.append(t)  # ZWNJ kept, BOM + trailing space removed
t = copy.deepcopy(valid[19])
t["login"]["uuid"] = U(205)
t["name"]["first"] = "Olеksandr"
t["location"]["city"] = "Kyiv\u00a0"
traps.append(t)  # Cyrillic е mixed in, NBSP trimmed
t = copy.deepcopy(valid[11])
t["login"]["uuid"] = U(206)
t["location"]["timezone"]["offset"] = "+5:45"
t["location"]["timezone"]["description"] = "Kathmandu"
traps.append(t)
t = copy.deepcopy(valid[1])
t["login"]["uuid"] = U(207)
t["location"]["timezone"]["offset"] = "-3:30"
t["location"]["timezone"]["description"] = "Newfoundland"
traps.append(t)
t = copy.deepcopy(valid[3])
t["login"]["uuid"] = U(208)
t["location"]["coordinates"] = {"latitude": 47.522, "longitude": -8.54}
traps.append(t)  # numeric coordinates
t = copy.deepcopy(valid[2])
t["login"]["uuid"] = U(209).upper()
t["email"] = "  Chloe.GAGNON@Example.com "
t["gender"] = "FEMALE"
t["nat"] = "ca"
traps.append(t)  # case normalised
t = copy.deepcopy(valid[7])
t["login"]["uuid"] = U(210)
t["phone"] = 3123456
t["id"]["value"] = "\ufeff  NaNNA742undefined "
traps.append(t)  # numeric phone, id trimmed before hashing
t = copy.deepcopy(valid[15])
t["login"]["uuid"] = U(211)
del t["location"]
del t["picture"]
del t["registered"]
traps.append(t)  # optional blocks absent
t = copy.deepcopy(valid[5])
t["login"]["uuid"] = U(212)
t["dob"] = "1983-07-14 07:29:45"
t["registered"] = "2010-09-24 02:10:42"
traps.append(t)  # legacy date strings
write(
    "real_payload_traps",
    {"results": traps, "info": info(len(traps))},
    [expect_user(r) for r in traps],
    note="Traps real payloads contain: string/number postcodes with leading zeros, null id.value, ZWNJ, BOMs, trailing spaces, mixed scripts, +5:45/-3:30 offsets, numeric coordinates, legacy date strings.",
)

# Edges of what the Spark job derives (see DERIVED_AT): birthdays on the commit instant, a dob
# after it, a country name the mapping does not know, different spellings of one country.
edges = []
t = copy.deepcopy(valid[0])
t["login"]["uuid"] = U(251)
t["dob"] = {"date": "2008-06-15T12:00:00.000Z", "age": 18}
edges.append(t)  # 18 at that instant
t = copy.deepcopy(valid[0])
t["login"]["uuid"] = U(252)
t["dob"] = {"date": "2008-06-15T12:00:00.001Z", "age": 17}
edges.append(t)  # 1 ms short of 18
t = copy.deepcopy(valid[0])
t["login"]["uuid"] = U(253)
t["dob"] = {"date": "1961-06-15T11:59:59.999Z", "age": 65}
edges.append(t)  # 65+
t = copy.deepcopy(valid[0])
t["login"]["uuid"] = U(254)
t["dob"] = {"date": "2027-01-01T00:00:00.000Z", "age": 0}
edges.append(t)  # after the commit: unknown
t = copy.deepcopy(valid[1])
t["login"]["uuid"] = U(255)
t["location"]["country"] = "Atlantis"
edges.append(t)  # nat wins over the country's name
t = copy.deepcopy(valid[17])
t["login"]["uuid"] = U(256)
t["location"]["country"] = "  UNITED STATES "
del t["nat"]
edges.append(t)  # no nat: the name, case and spaces aside
t = copy.deepcopy(valid[17])
t["login"]["uuid"] = U(257)
t["location"]["country"] = "Atlantis"
del t["nat"]
edges.append(t)  # neither: ZZ, unknown
t = copy.deepcopy(valid[3])
t["login"]["uuid"] = U(258)
del t["dob"]
del t["email"]
del t["name"]
edges.append(t)  # no dob: age band unknown; no name, no email
write(
    "derivation_edges",
    {"results": edges, "info": info(len(edges))},
    [expect_user(r) for r in edges],
    note="Edges of the Spark job's derivations: age on the birthday instant, a dob after the commit, nat before the country's name, unknown and oddly spelled countries, no dob, no name.",
)

bad: list[tuple[Any, str]] = []


def b(reason: str, mutate: Callable[[Any], Any], base: int = 0) -> None:
    r = copy.deepcopy(valid[base])
    r["login"]["uuid"] = U(300 + len(bad))
    mutate(r)
    bad.append((r, reason))


b("login.uuid: missing", lambda r: r["login"].pop("uuid"))
b("login.uuid: not a UUID", lambda r: r["login"].__setitem__("uuid", "not-a-uuid"))
b(
    "email: not an email address: 'charlotte.walker.example.com'",
    lambda r: r.__setitem__("email", "charlotte.walker.example.com"),
)
b("name.first: expected a string, got number", lambda r: r["name"].__setitem__("first", 42))
b("name.last: expected a string, got array", lambda r: r["name"].__setitem__("last", ["Walker"]))
b("location.city: contains control character U+0007", lambda r: r["location"].__setitem__("city", "Bendi\u0007go"))
b("name.last: longer than 256 bytes (300)", lambda r: r["name"].__setitem__("last", "x" * 300))
b(
    "location.coordinates.latitude: not a latitude: '97.5'",
    lambda r: r["location"]["coordinates"].__setitem__("latitude", "97.5"),
)
b(
    "location.coordinates.longitude: not a longitude: 'east'",
    lambda r: r["location"]["coordinates"].__setitem__("longitude", "east"),
)
b(
    "location.timezone.offset: not an offset: '+25:00'",
    lambda r: r["location"]["timezone"].__setitem__("offset", "+25:00"),
)
b("gender: expected male or female, got 'unknown'", lambda r: r.__setitem__("gender", "unknown"))
b("nat: expected a two-letter nationality, got 'AUS'", lambda r: r.__setitem__("nat", "AUS"))
b(
    "dob.date: not an ISO 8601 timestamp: '1988-02-30T06:22:31.120Z'",
    lambda r: r["dob"].__setitem__("date", "1988-02-30T06:22:31.120Z"),
)
b("location: expected an object, got string", lambda r: r.__setitem__("location", "somewhere"))
b(
    "location.postcode: expected a string or number, got object",
    lambda r: r["location"].__setitem__("postcode", {"code": 3550}),
)
b("dob.age: expected a whole number, got string", lambda r: r["dob"].__setitem__("age", "thirty"))
b("nat: expected a two-letter nationality, got 'Australia'", lambda r: r.__setitem__("nat", "Australia"))
b("login.uuid: missing", lambda r: r.pop("login"))
records = [r for r, _ in bad] + ["just a string", copy.deepcopy(valid[20])]
dup = copy.deepcopy(valid[20])
dup["name"]["first"] = "Jenny"
records.append(dup)
rejects = [(i, reason) for i, (_, reason) in enumerate(bad)] + [
    (len(bad), "record: expected an object, got string"),
    (len(bad) + 2, f"login.uuid: duplicate of record #{len(bad) + 1} in this response"),
]
write(
    "invalid_records",
    {"results": records, "info": info(len(records))},
    [expect_user(valid[20])],
    rejects,
    note="Each kind of invalid record with its reason; the one valid record of the batch still decodes; a later duplicate uuid is rejected, the first kept.",
)


# Only login.uuid is required: records of inc/exc-filtered requests, and nulls, are users.
def subset(r: dict[str, Any], keep: set[str]) -> dict[str, Any]:
    return {k: v for k, v in copy.deepcopy(r).items() if k in keep}


opt_recs = []
t = subset(valid[20], {"gender", "name", "location", "email", "login", "phone", "picture"})
t["login"]["uuid"] = U(401)
opt_recs.append(t)  # inc=gender,name,location,email,login,phone,picture
t = subset(valid[9], {"login", "nat"})
t["login"]["uuid"] = U(402)
opt_recs.append(t)  # inc=login,nat
t = subset(valid[5], {"login"})
t["login"] = {"uuid": U(403)}
opt_recs.append(t)  # the barest user there is
t = copy.deepcopy(valid[12])
t["login"]["uuid"] = U(404)
t["email"] = None
t["dob"] = None
t["gender"] = None
t["nat"] = None
t["name"]["first"] = None
opt_recs.append(t)  # nulls
t = copy.deepcopy(valid[0])
t["login"]["uuid"] = U(405)
del t["name"]
del t["location"]
opt_recs.append(t)  # exc=name,location
write(
    "optional_fields_absent",
    {"results": opt_recs, "info": info(len(opt_recs))},
    [expect_user(r) for r in opt_recs],
    note="inc/exc subsets and nulls: only login.uuid is required; what is absent is null, and the derivations still give a country code (ZZ when unknown) and an age band (unknown).",
)

# Older API shapes (the versions' generators, randomuser.me's changelog and saved payloads).
v12 = copy.deepcopy(valid[14])
v12["login"]["uuid"] = U(501)
v12["location"]["street"] = "9031 oude gracht"
del v12["location"]["country"]
v12["dob"] = {"date": "1987-08-30T21:21:21Z", "age": 31}
v12["registered"] = {"date": "2010-10-10T10:10:10Z", "age": 8}
v11: dict[str, Any] = {
    "gender": "male",
    "name": {"title": "mr", "first": "romain", "last": "hoogmoed"},
    "location": {
        "street": "1861 jan pieterszoon coenstraat",
        "city": "maasdriel",
        "state": "zeeland",
        "postcode": 69217,
    },
    "email": "romain.hoogmoed@example.com",
    "login": {
        "username": "lazyduck408",
        "password": "jokers",
        "salt": "UGtRFz4N",
        "md5": "6d83a8c084731ee73eb5f9398b923183",
        "sha1": "cb21097d8c430f2716538e365447910d90476f6e",
        "sha256": "5a9b09c86195b8d8b01ee219d7d9794e2abb6641a2351850c49c309f1fc204a0",
    },
    "dob": "1983-07-14 07:29:45",
    "registered": "2010-09-24 02:10:42",
    "phone": "(656)-976-4980",
    "cell": "(065)-247-9303",
    "id": {"name": "BSN", "value": "04242023"},
    "picture": {"large": "https://randomuser.me/api/portraits/men/83.jpg"},
    "nat": "NL",
}
v10 = copy.deepcopy(v11)
v10["dob"] = 932871968
v10["registered"] = 1102173335
v10["id"] = {"name": "SSN", "value": "287-56-2054"}
v10["nat"] = "US"
v04 = {
    "user": {
        "gender": "male",
        "name": {"title": "mr", "first": "ritthy", "last": "mendoza"},
        "location": {"street": "9791 robinson rd", "city": "vernon", "state": "idaho", "zip": "36531"},
        "email": "ritthy.mendoza70@example.com",
        "username": "orangewolf692",
        "password": "secrets",
        "salt": "WN0OWvIc",
        "md5": "f386e1203a31d6b397ec538f161d6332",
        "sha1": "188ae5ee139fe789d20207ba27ac87ea6757f3e1",
        "sha256": "176ed291eaf2f7906a053a97761b59e57a17f1444376860bb0d85917a09fbc1e",
        "registered": "1138571847",
        "dob": "353497588",
        "phone": "(837)-192-1272",
        "cell": "(744)-279-6420",
        "SSN": "287-56-2054",
        "picture": {"large": "http://api.randomuser.me/portraits/men/64.jpg"},
        "version": "0.4.1",
    },
    "seed": "06881b8ab932f441",
}
v06 = {
    "user": {
        "gender": "female",
        "name": {"title": "mrs", "first": "ava", "last": "hoffman"},
        "location": {"street": "3987 park road", "city": "exeter", "state": "berkshire", "postcode": "CI5P 3BB"},
        "email": "ava.hoffman30@example.com",
        "username": "smallostrich534",
        "password": "ramses",
        "salt": "eU3XcP3T",
        "md5": "06254d3e648f75ab73ec2ed035af89f9",
        "registered": "1378179821",
        "dob": "956494252",
        "phone": "017683 06095",
        "cell": "0709-030-050",
        "NINO": "BT 31 46 94 N",
        "picture": {"large": "http://api.randomuser.me/portraits/women/46.jpg"},
        "version": "0.6",
        "nationality": "GB",
    },
    "seed": "a1fedaf5df6a709204",
}
NO_UUID = "login.uuid: missing (API versions before 1.2 served no uuid; a user cannot be identified without one)"
write(
    "legacy_shapes",
    {"results": [v12, v11, v10, v04, v06]},
    [expect_user(v12)],
    [(1, NO_UUID), (2, NO_UUID), (3, NO_UUID), (4, NO_UUID)],
    note="API 1.2 (uuid, string street, no country) is a user; 1.1 (date strings), 1.0 (epoch seconds) and the pre-1.0 wrapper (top-level credentials, SSN/NINO, zip) have no uuid and are rejected, saying why, with no credential or national id in the reject.",
)

write(
    "api_error_body",
    {"error": "Uh oh, something has gone wrong. Please tweet us @randomapi about the issue. Thank you."},
    [],
    error="the API answered with an error",
    note="The real API can answer HTTP 200 with an error object: the whole batch is retried, not rejected.",
)
write(
    "truncated_body",
    json.dumps({"results": valid[:2], "info": info(2)}, ensure_ascii=False)[:1500],
    [],
    error="response is not valid JSON",
    note="A body cut off in transit is not JSON: the batch is retried.",
)
write("no_results_array", {"info": info(0)}, [], error="response has no results array", note="Valid JSON, wrong shape.")
write(
    "empty_results_noinfo",
    {"results": []},
    [],
    note="noinfo: no info block; an empty page is valid and ingests nothing.",
)

if CHECK:
    written = sorted(os.path.relpath(os.path.join(d, f), OUT) for d, _, fs in os.walk(OUT) for f in fs)
    committed = sorted(
        os.path.relpath(os.path.join(d, f), HERE)
        for d, _, fs in os.walk(HERE)
        for f in fs
        if f in ("input.json", "expected.json")
    )
    differ = [
        f
        for f in written
        if f not in committed or not filecmp.cmp(os.path.join(OUT, f), os.path.join(HERE, f), shallow=False)
    ]
    stale = [f for f in committed if f not in written]
    if differ or stale:
        sys.exit(
            "tests/golden: out of date with generate.py (run python3 tests/golden/generate.py and review "
            f"the diff): differs {differ}, no longer written {stale}"
        )
    print(f"tests/golden: {len(written)} files match generate.py")
else:
    print("ok")
