"""Deterministic generators of realistic collection exports.

``write_sample(kind, out, count=..., seed=...)`` streams a synthetic export
of a shipped collection schema (a gazetteer extract of BS 7666 addresses, or
a person record list) to a binary file object, one record at a time, in
constant memory.  The same kind, seed, count, version, invalid rate and
fault kinds always give byte-identical output, on any machine: every random
choice comes from :class:`random.Random` seeded from the arguments, nothing
depends on hash order, the clock or the locale, and dates (the extract date
included) derive from the seed.

With ``invalid_rate`` above zero, some records carry one deliberate fault
each (a postcode with a forbidden inward letter, a 13-digit UPRN, a family
name of 36 characters...).  The returned :class:`SampleReport` lists every
faulty record with its 1-based index, the exact line of the element a
validator should report, the fault kind and the layer that catches it
(``xsd`` for the schema, ``rules`` for the business rules).

Which records are faulty depends only on the seed and the rate, never on
the content: the fault stream is a second random generator.  Raising the
rate keeps every faulty record of the lower rate (the sets are nested), and
the records that stay valid are byte-identical whatever the rate.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, BinaryIO

from egif.errors import InputError

GZE_NS = "http://www.govtalk.gov.uk/exchange/GazetteerExtract"
PRL_NS = "http://www.govtalk.gov.uk/exchange/PersonRecordList"
BS7666_NS = "http://www.govtalk.gov.uk/people/bs7666"
APD_NS = "http://www.govtalk.gov.uk/people/AddressAndPersonalDetails"
PDT_NS = "http://www.govtalk.gov.uk/people/PersonDescriptives"

# Flush to the output once this many bytes are buffered.
_CHUNK = 1 << 18


# --------------------------------------------------------------------------
# Public data
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleKind:
    """A collection the generator can write."""

    name: str
    schema: str  # registry name of the collection schema
    versions: tuple[str, ...]
    default_version: str
    record_element: str  # local name of the record element
    namespace: str
    description: str

    def ref(self, version: str | None = None) -> str:
        return f"{self.schema}@{version or self.default_version}"


@dataclass(frozen=True)
class FaultKind:
    """One kind of deliberate error the generator can put in a record."""

    id: str
    sample: str  # SampleKind.name
    layer: str  # "xsd" (schema validation) or "rules" (business rules)
    element: str  # local name of the element a validator reports
    rule: str | None  # business-rule id for the rules layer
    description: str


@dataclass(frozen=True)
class InvalidRecord:
    """A record made invalid on purpose, and where its error shows."""

    record: int  # 1-based index among the records of the document
    line: int  # line of the element a validator reports
    kind: str  # FaultKind.id
    element: str
    layer: str
    rule: str | None
    record_line: int  # line of the record's start tag

    def to_dict(self) -> dict[str, Any]:
        return {"record": self.record, "line": self.line, "kind": self.kind,
                "element": self.element, "layer": self.layer, "rule": self.rule,
                "record_line": self.record_line}


@dataclass(frozen=True)
class SampleReport:
    """What :func:`write_sample` wrote."""

    kind: str
    schema: str  # e.g. "GazetteerExtract@1.0"
    seed: int
    records: int
    bytes: int
    lines: int
    invalid_rate: float
    fault_kinds: tuple[str, ...]
    invalid: tuple[InvalidRecord, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "schema": self.schema, "seed": self.seed,
                "records": self.records, "bytes": self.bytes, "lines": self.lines,
                "invalid_rate": self.invalid_rate, "fault_kinds": list(self.fault_kinds),
                "invalid": [r.to_dict() for r in self.invalid]}


SAMPLE_KINDS: dict[str, SampleKind] = {
    "gazetteer": SampleKind(
        "gazetteer", "GazetteerExtract", ("1.0", "1.1"), "1.0", "AddressRecord", GZE_NS,
        "gazetteer extract: BS 7666 addresses with UPRNs, logical status and dates"),
    "persons": SampleKind(
        "persons", "PersonRecordList", ("1.0",), "1.0", "PersonRecord", PRL_NS,
        "person record list: names, birth dates, gender, NI numbers, contacts, addresses"),
}

FAULT_KINDS: tuple[FaultKind, ...] = (
    # gazetteer, schema layer
    FaultKind("postcode-inward-letter", "gazetteer", "xsd", "PostCode", None,
              "an inward postcode letter from C, I, K, M, O, V (EX4 3CR)"),
    FaultKind("postcode-first-letter", "gazetteer", "xsd", "PostCode", None,
              "an outward code starting with Q, V or X"),
    FaultKind("uprn-13-digits", "gazetteer", "xsd", "UniquePropertyReferenceNumber", None,
              "a 13-digit UPRN on the record"),
    FaultKind("paon-missing", "gazetteer", "xsd", "StreetDescription", None,
              "the address has no PAON; the street is reported as unexpected"),
    FaultKind("area-order", "gazetteer", "xsd", "Locality", None,
              "Town written before Locality"),
    FaultKind("locality-36", "gazetteer", "xsd", "Locality", None,
              "a locality name of 36 characters (at most 35)"),
    FaultKind("logical-status-4", "gazetteer", "xsd", "LogicalStatus", None,
              "logical status code 4 or 7, which BS 7666 does not use"),
    FaultKind("start-date-invalid", "gazetteer", "xsd", "StartDate", None,
              "a start date that does not exist (30 February)"),
    FaultKind("aon-number-10000", "gazetteer", "xsd", "Number", None,
              "a PAON number above 9999"),
    FaultKind("aon-suffix-lowercase", "gazetteer", "xsd", "Suffix", None,
              "a lower-case PAON suffix letter"),
    # gazetteer, business rules
    FaultKind("range-backwards", "gazetteer", "rules", "EndRange", "BS7666-R1",
              "a PAON range whose end comes before its start (14-12)"),
    FaultKind("end-before-start", "gazetteer", "rules", "EndDate", "GZE-R2",
              "an end date before the start date"),
    FaultKind("duplicate-preferred", "gazetteer", "rules", "AddressRecord", "GZE-R3",
              "a second approved preferred record for an earlier UPRN"),
    # persons, schema layer
    FaultKind("ni-prefix-gb", "persons", "xsd", "NationalInsuranceNumber", None,
              "an NI number with the never-issued prefix GB"),
    FaultKind("ni-prefix-reserved", "persons", "xsd", "NationalInsuranceNumber", None,
              "an NI number with prefix BG, NK, KN, TN, NT or ZZ"),
    FaultKind("family-name-36", "persons", "xsd", "PersonFamilyName", None,
              "a family name of 36 characters (at most 35)"),
    FaultKind("given-name-36", "persons", "xsd", "PersonGivenName", None,
              "a given name of 36 characters (at most 35)"),
    FaultKind("gender-code", "persons", "xsd", "GenderCurrent", None,
              "a gender code other than 0, 1, 2, 9"),
    FaultKind("birth-date-invalid", "persons", "xsd", "PersonBirthDate", None,
              "a birth date that does not exist (30 February)"),
    FaultKind("person-postcode-inward-letter", "persons", "xsd", "PostCode", None,
              "an address postcode with an inward letter from C, I, K, M, O, V"),
    FaultKind("address-line-36", "persons", "xsd", "Line", None,
              "a postal address line of 36 characters (at most 35)"),
    FaultKind("email-no-at", "persons", "xsd", "EmailAddress", None,
              "an e-mail address without @"),
    # persons, business rules
    FaultKind("birth-in-future", "persons", "rules", "PersonBirthDate", "PDT-R1",
              "a birth date in the future"),
)

_FAULTS_BY_ID = {f.id: f for f in FAULT_KINDS}


def fault_kinds(kind: str, layer: str | None = None) -> tuple[FaultKind, ...]:
    """The fault kinds of a sample kind, optionally only one layer's."""
    sample_kind(kind)
    return tuple(f for f in FAULT_KINDS if f.sample == kind and (layer is None or f.layer == layer))


def sample_kind(kind: str) -> SampleKind:
    try:
        return SAMPLE_KINDS[kind]
    except KeyError:
        known = ", ".join(SAMPLE_KINDS)
        raise InputError(f"unknown sample kind {kind!r} (known: {known})") from None


_SIZE_RE = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([kKmMgG]i?[bB]?|[bB])?\s*")
_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "kib": 2**10, "m": 10**6, "mb": 10**6,
          "mib": 2**20, "g": 10**9, "gb": 10**9, "gib": 2**30, "ki": 2**10, "mi": 2**20, "gi": 2**30}


def parse_size(text: str) -> int:
    """``"100MB"`` -> 100_000_000; ``"64MiB"`` -> 67_108_864; plain numbers are bytes."""
    m = _SIZE_RE.fullmatch(text)
    if not m:
        raise InputError(f"size {text!r}: expected a number with an optional unit (kB, MB, GB, MiB...)")
    value = float(m.group(1)) * _UNITS[(m.group(2) or "").lower()]
    if value < 1:
        raise InputError(f"size {text!r}: must be at least one byte")
    return int(value)


# --------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------

# (town, post town, administrative area, outward codes, localities)
# The outward codes cover every shape: AN, ANN, AAN, AANN, ANA, AANA.
_TOWNS: tuple[tuple[str, str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("London", "LONDON", "City of London", ("EC1A", "EC2V", "EC4M", "EC1V", "EC3N"),
     ("Barbican", "Smithfield", "Aldgate")),
    ("London", "LONDON", "City of Westminster", ("SW1A", "SW1P", "SW1H", "W1A", "W1D", "WC2H", "WC1E",
                                                  "W2", "W11", "NW1", "NW8"),
     ("Mayfair", "Soho", "Pimlico", "Marylebone", "Bayswater", "St John's Wood")),
    ("London", "LONDON", "Tower Hamlets", ("E1W", "E1", "E14", "E3"),
     ("Wapping", "Poplar", "Bow", "Whitechapel", "Limehouse")),
    ("London", "LONDON", "Islington", ("N1C", "N1", "N7", "N19"),
     ("Canonbury", "Highbury", "Holloway", "Archway")),
    ("Birmingham", "BIRMINGHAM", "Birmingham City Council", ("B1", "B15", "B33", "B5"),
     ("Edgbaston", "Digbeth", "Stechford", "Moseley")),
    ("Manchester", "MANCHESTER", "Manchester City Council", ("M1", "M60", "M14", "M20"),
     ("Ancoats", "Fallowfield", "Didsbury", "Rusholme")),
    ("Glasgow", "GLASGOW", "Glasgow City Council", ("G1", "G12", "G41"),
     ("Hillhead", "Shawlands", "Merchant City", "Pollokshields")),
    ("Liverpool", "LIVERPOOL", "Liverpool City Council", ("L1", "L18", "L8"),
     ("Allerton", "Toxteth", "Mossley Hill")),
    ("Sheffield", "SHEFFIELD", "Sheffield City Council", ("S1", "S10", "S11"),
     ("Broomhill", "Crookes", "Ecclesall", "Nether Edge")),
    ("Exeter", "EXETER", "Exeter City Council", ("EX1", "EX2", "EX4"),
     ("Heavitree", "St Thomas", "Pennsylvania", "Alphington", "Pinhoe")),
    ("Sidmouth", "SIDMOUTH", "East Devon District Council", ("EX10",),
     ("Sidford", "Sidbury", "Salcombe Regis")),
    ("Cardiff", "CARDIFF", "Cardiff Council", ("CF10", "CF14", "CF24"),
     ("Cathays", "Roath", "Llandaff", "Whitchurch", "Splott")),
    ("Leeds", "LEEDS", "Leeds City Council", ("LS1", "LS6", "LS11", "LS17"),
     ("Headingley", "Beeston", "Moortown", "Chapel Allerton")),
    ("Bristol", "BRISTOL", "Bristol City Council", ("BS1", "BS8", "BS16"),
     ("Clifton", "Redland", "Fishponds", "Bedminster")),
    ("Norwich", "NORWICH", "Norwich City Council", ("NR1", "NR2", "NR14"),
     ("Thorpe Hamlet", "Eaton", "Mile Cross")),
    ("Doncaster", "DONCASTER", "City of Doncaster Council", ("DN1", "DN4", "DN55"),
     ("Balby", "Bessacarr", "Wheatley")),
    ("Croydon", "CROYDON", "Croydon", ("CR0", "CR2"),
     ("Addiscombe", "South Croydon", "Shirley", "Selsdon")),
    ("Oxford", "OXFORD", "Oxford City Council", ("OX1", "OX2", "OX4"),
     ("Jericho", "Headington", "Cowley", "Summertown")),
    ("York", "YORK", "City of York Council", ("YO1", "YO10", "YO31"),
     ("Heworth", "Fulford", "Clifton", "Acomb")),
    ("Edinburgh", "EDINBURGH", "City of Edinburgh Council", ("EH1", "EH3", "EH10"),
     ("Morningside", "Stockbridge", "Leith", "Bruntsfield")),
    ("Bath", "BATH", "Bath and North East Somerset", ("BA1", "BA2"),
     ("Widcombe", "Larkhall", "Oldfield Park", "Combe Down")),
    ("Inverness", "INVERNESS", "The Highland Council", ("IV1", "IV2", "IV3"),
     ("Crown", "Culloden", "Dalneigh")),
    ("Truro", "TRURO", "Cornwall Council", ("TR1",),
     ("Kenwyn", "Malpas", "Threemilestone")),
    ("Newcastle upon Tyne", "NEWCASTLE UPON TYNE", "Newcastle City Council", ("NE1", "NE6", "NE99"),
     ("Jesmond", "Heaton", "Byker", "Gosforth")),
)

# The authorities whose gazetteers a sample claims to be, with custodian codes.
_AUTHORITIES: tuple[tuple[str, int], ...] = (
    ("Exeter City Council", 1110), ("Leeds City Council", 4720), ("Bristol City Council", 116),
    ("Cardiff Council", 6815), ("City of Edinburgh Council", 9064), ("Norwich City Council", 2620),
    ("City of York Council", 2741), ("Oxford City Council", 3110), ("Cornwall Council", 840),
    ("London Borough of Islington", 5570),
)

_STREET_STEMS = (
    "High", "Church", "Station", "Mill", "Park", "Victoria", "Albert", "London", "Manor", "School",
    "North", "South", "West", "East", "Green", "Kings", "Queens", "New", "Main", "Chapel", "Bridge",
    "Market", "Castle", "Springfield", "Grange", "Orchard", "Meadow", "Oak", "Elm", "Beech", "Ash",
    "Willow", "Cedar", "Holly", "Rowan", "Hawthorn", "Windsor", "York", "Richmond", "Stanley",
    "Cromwell", "Nelson", "Wellington", "Marlborough", "Alexandra", "George", "St John's",
    "St Mary's", "Priory", "Abbey", "Tannery", "Brewery", "Foundry", "Ropewalk", "Quarry", "Moor",
    "Heath", "Forest", "Riverside", "Canal", "Harbour", "Sandy", "Long", "Broad", "Cherry",
    "Chestnut", "Sycamore", "Larch", "Poplar", "Juniper", "Bramble", "Foxglove", "Primrose",
    "Bluebell", "Lavender", "Heather", "Fore", "Sidwell", "Magdalen", "Blackboy", "Cowick",
    "Coombe", "Trafalgar", "Jubilee", "Coronation", "Tudor", "Kingsway", "Lime Kiln", "Fairfield",
    "Woodland", "Hillside", "Valley", "Brook", "Well", "Spring", "Pound", "Tithe Barn", "Rectory",
)
_STREET_TYPES = (
    "Street", "Street", "Road", "Road", "Road", "Lane", "Lane", "Avenue", "Close", "Close", "Drive",
    "Way", "Crescent", "Gardens", "Terrace", "Place", "Grove", "Hill", "Row", "Mews", "Walk", "Court",
    "Rise", "View", "Square",
)
_HOUSE_NAMES = (
    "Rose Cottage", "The Old Rectory", "Mill House", "Orchard View", "Holly Lodge", "The Barn",
    "Stable Cottage", "Fern Bank", "Ivy House", "The Coach House", "Meadowside", "Woodlands",
    "Greystones", "Hillcrest", "Southview", "The Old School House", "Keeper's Cottage",
    "Lilac Cottage", "The Granary", "Applegarth", "Brook House", "The Laurels", "Tanglewood",
)
_BUILDING_NAMES = (
    "Victoria House", "Albion Court", "Crown Buildings", "Kingsway House", "Riverside Mill",
    "Clarence Mansions", "Jubilee Court", "Empire House", "Sovereign Point", "Maple Lodge",
    "Wharf House", "The Maltings", "Regent Court", "Phoenix House",
)
_FLAT_WORDS = ("Flat", "Flat", "Flat", "Apartment", "Unit", "Studio")

_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # never C, I, K, M, O, V
_BAD_INWARD = "CIKMOV"

_GIVEN_F = (
    "Olivia", "Amelia", "Isla", "Ava", "Emily", "Sophie", "Grace", "Ruby", "Chloe", "Charlotte",
    "Hannah", "Lucy", "Jessica", "Eilidh", "Aoife", "Niamh", "Siân", "Ffion", "Rhiannon", "Zoë",
    "Priya", "Aisha", "Fatima", "Mei", "Anna-Maria", "Margaret", "Elizabeth", "Susan", "Joan",
    "Patricia", "Catrin", "Bethan", "Maryam", "Zainab", "Chloé", "Ellie-Mae",
)
_GIVEN_M = (
    "Oliver", "George", "Harry", "Jack", "Noah", "Charlie", "Thomas", "James", "William", "Oscar",
    "Alfie", "Muhammad", "Mohammed", "Arjun", "Rhys", "Dafydd", "Iwan", "Callum", "Euan", "Seán",
    "Oisín", "Liam", "David", "John", "Peter", "Michael", "Robert", "Kwame", "Tomasz", "Jean-Luc",
    "Ravi", "Hamish", "Ciarán", "Gareth", "Ibrahim", "Daniel",
)
_FAMILY = (
    "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas", "Johnson",
    "Roberts", "Robinson", "Thompson", "Wright", "Walker", "White", "Edwards", "Hughes", "Green",
    "Hall", "Lewis", "Harris", "Clarke", "Patel", "Jackson", "Wood", "Turner", "Martin", "Cooper",
    "Hill", "Ward", "Morris", "Moore", "Clark", "Lee", "King", "Baker", "Harrison", "Morgan", "Allen",
    "James", "Scott", "Phillips", "Watson", "Davis", "Parker", "Price", "Bennett", "Young",
    "Griffiths", "Mitchell", "Kelly", "Cook", "Carter", "Richardson", "Bailey", "Collins", "Bell",
    "Shaw", "Murphy", "Miller", "Cox", "Richards", "Khan", "Marshall", "Anderson", "Simpson", "Ellis",
    "Adams", "Singh", "Begum", "Ali", "Hussain", "Ahmed", "O'Brien", "O'Connor", "MacDonald",
    "McLeod", "Campbell", "Stewart", "Fraser", "Llewellyn", "Pritchard", "Nowak", "Kowalski",
    "Okafor", "Mensah", "Nguyen", "Chen", "Müller", "Ó Súilleabháin", "ap Rhys", "Da Silva",
)
_TITLES_F = ("Mrs", "Ms", "Miss", "Dr", "Mx")
_TITLES_M = ("Mr", "Mr", "Dr", "Rev", "Mx")
_NAME_SUFFIXES = ("Jr", "Sr", "OBE", "MBE", "BEM")
_MAIL_DOMAINS = ("example.org", "example.com", "example.net", "mail.example.co.uk")
_PHONE_AREAS = ("1392", "20", "121", "161", "141", "151", "114", "29", "113", "117", "1603",
                "1302", "1865", "1904", "131", "1225", "1463", "1872", "191")

# NI prefix rules (GDSC): first letter never D, F, I, Q, U, V; second never
# D, F, I, O, Q, U, V; GB, NK, TN, ZZ and their reversals are never issued.
_NI_FIRST = "ABCEGHJKLMNOPRSTWXYZ"
_NI_SECOND = "ABCEGHJKLMNPRSTWXYZ"
_NI_REFUSED = frozenset({"GB", "BG", "NK", "KN", "TN", "NT", "ZZ"})
NI_PREFIXES: tuple[str, ...] = tuple(
    a + b for a in _NI_FIRST for b in _NI_SECOND if a + b not in _NI_REFUSED)


def random_postcode(rng: random.Random, outward: str | None = None) -> str:
    """A well-formed postcode; a random outward code of any shape unless given."""
    if outward is None:
        outward = _random_outward(rng)
    return f"{outward} {rng.randrange(10)}{rng.choice(_INWARD_LETTERS)}{rng.choice(_INWARD_LETTERS)}"


_OUT_FIRST = "ABCDEFGHIJKLMNOPRSTUWYZ"  # not Q, V, X
_OUT_SECOND = "ABCDEFGHKLMNOPQRSTUVWXY"  # not I, J, Z
_OUT_THIRD = "ABCDEFGHJKSTUW"
_OUT_FOURTH = "ABEHMNPRVWXY"


def _random_outward(rng: random.Random) -> str:
    shape = rng.choice(("AN", "ANN", "AAN", "AANN", "ANA", "AANA"))
    a1 = rng.choice(_OUT_FIRST)
    if shape == "AN":
        return f"{a1}{rng.randrange(1, 10)}"
    if shape == "ANN":
        return f"{a1}{rng.randrange(10, 100)}"
    if shape == "ANA":
        return f"{a1}{rng.randrange(1, 10)}{rng.choice(_OUT_THIRD)}"
    a2 = rng.choice(_OUT_SECOND)
    if shape == "AAN":
        return f"{a1}{a2}{rng.randrange(1, 10)}"
    if shape == "AANN":
        return f"{a1}{a2}{rng.randrange(10, 100)}"
    return f"{a1}{a2}{rng.randrange(1, 10)}{rng.choice(_OUT_FOURTH)}"


def _exact(text: str, length: int, filler: str) -> str:
    """*text* cut or extended with *filler* words to exactly *length* characters, no edge spaces."""
    while len(text) < length:
        text = f"{text} {filler}"
    text = text[:length]
    if text.endswith(" "):
        text = text[:-1] + "s"
    return text


def _bad_date(rng: random.Random, year: int) -> str:
    month, day = rng.choice(((2, 30), (2, 31), (4, 31), (6, 31), (9, 31), (11, 31)))
    return f"{year:04d}-{month:02d}-{day:02d}"


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isascii() and (c.isalnum() or c in "-")).lower()


def _days(rng: random.Random, first: date, last: date) -> date:
    span = (last - first).days
    return first + timedelta(days=rng.randrange(span + 1)) if span > 0 else first


# --------------------------------------------------------------------------
# The driver
# --------------------------------------------------------------------------


class _Sink:
    """Buffered writer that counts bytes and lines."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.parts: list[bytes] = []
        self.buffered = 0
        self.bytes = 0
        self.lines = 0  # complete lines written so far

    def write_lines(self, lines: list[str]) -> None:
        data = ("\n".join(lines) + "\n").encode("utf-8")
        self.parts.append(data)
        self.buffered += len(data)
        self.bytes += len(data)
        self.lines += len(lines)
        if self.buffered >= _CHUNK:
            self.flush()

    def flush(self) -> None:
        if self.parts:
            self.out.write(b"".join(self.parts))
            self.parts = []
            self.buffered = 0


class _Generator:
    """One collection kind: header, records and footer as lists of lines."""

    def __init__(self, seed: int, version: str) -> None:
        self.seed = seed
        self.version = version
        self.rng = random.Random(seed)

    def header(self, count: int | None) -> list[str]:
        raise NotImplementedError

    def footer(self) -> list[str]:
        raise NotImplementedError

    def record(self, index: int, fault: str | None) -> tuple[list[str], int | None]:
        """The record's lines, and the 0-based line of its fault (None if not applied)."""
        raise NotImplementedError


def write_sample(kind: str, out: BinaryIO, *, count: int | None = None, size: int | None = None,
                 seed: int = 0, invalid_rate: float = 0.0, version: str | None = None,
                 faults: tuple[str, ...] | list[str] | None = None) -> SampleReport:
    """Stream a synthetic export of *kind* to *out*; see the module documentation.

    Give either *count* (records) or *size* (bytes: records are added until
    the document reaches at least that size; the header then carries no
    record count).  *faults* chooses the fault kinds sprinkled at
    *invalid_rate*; by default all schema-layer kinds of *kind*.
    """
    spec = sample_kind(kind)
    version = version or spec.default_version
    if version not in spec.versions:
        raise InputError(f"{kind}: no version {version!r} (known: {', '.join(spec.versions)})")
    if (count is None) == (size is None):
        raise InputError("give either a record count or a size, not both")
    if count is not None and count < 1:
        raise InputError(f"record count {count}: must be at least 1")
    if size is not None and size < 1:
        raise InputError(f"size {size}: must be at least one byte")
    if not isinstance(seed, int) or seed < 0:
        raise InputError(f"seed {seed!r}: must be a whole number, 0 or more")
    if not 0.0 <= invalid_rate <= 1.0:
        raise InputError(f"invalid rate {invalid_rate}: must be between 0 and 1")
    chosen = _choose_faults(kind, faults)

    gen: _Generator = _GENERATORS[kind](seed, version)
    fault_rng = random.Random(f"egif-sample-faults/{seed}")
    sink = _Sink(out)
    sink.write_lines(gen.header(count))
    footer = gen.footer()
    footer_bytes = len(("\n".join(footer) + "\n").encode())
    invalid: list[InvalidRecord] = []
    index = 0
    while True:
        if count is not None:
            if index >= count:
                break
        elif index and sink.bytes + footer_bytes >= (size or 0):
            break
        index += 1
        draw = fault_rng.random()
        pick = fault_rng.random()
        fault = chosen[int(pick * len(chosen))] if chosen and draw < invalid_rate else None
        lines, at = gen.record(index, fault)
        if fault is not None and at is not None:
            fk = _FAULTS_BY_ID[fault]
            invalid.append(InvalidRecord(index, sink.lines + 1 + at, fault, fk.element, fk.layer,
                                         fk.rule, sink.lines + 1))
        sink.write_lines(lines)
    sink.write_lines(footer)
    sink.flush()
    return SampleReport(kind, spec.ref(version), seed, index, sink.bytes, sink.lines, invalid_rate,
                        chosen, tuple(invalid))


def _choose_faults(kind: str, faults: tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    if faults is None:
        return tuple(f.id for f in fault_kinds(kind, "xsd"))
    out: list[str] = []
    for name in faults:
        if name in ("xsd", "rules", "all"):
            out.extend(f.id for f in fault_kinds(kind, None if name == "all" else name))
            continue
        fk = _FAULTS_BY_ID.get(name)
        if fk is None or fk.sample != kind:
            known = ", ".join(f.id for f in fault_kinds(kind))
            raise InputError(f"unknown fault kind {name!r} for {kind} (known: {known}, or xsd, rules, all)")
        out.append(name)
    if not out:
        raise InputError("no fault kinds chosen")
    return tuple(dict.fromkeys(out))


# --------------------------------------------------------------------------
# Gazetteer extract
# --------------------------------------------------------------------------


@dataclass(slots=True)
class _Street:
    name: str
    usrn: int
    town: int  # index into _TOWNS
    locality: str | None
    outward: str
    sector: int
    units: tuple[str, ...]


@dataclass(slots=True)
class _Aon:
    start: int | None = None
    start_suffix: str | None = None
    end: int | None = None
    end_suffix: str | None = None
    text: str | None = None


@dataclass(slots=True)
class _Address:
    uprn: int
    status: int
    start: date | None
    end: date | None
    updated: date | None
    saon: _Aon | None
    paon: _Aon
    street: _Street
    show_usrn: bool
    area: list[tuple[str, str]]
    post_town: str | None
    postcode: str
    show_postcode: bool
    show_uprn: bool
    grid: tuple[int, int] | None


_B = "bs7666:"


class _Gazetteer(_Generator):
    N_STREETS = 1500

    def __init__(self, seed: int, version: str) -> None:
        super().__init__(seed, version)
        r = self.rng
        self.extract_date = _days(r, date(2018, 1, 1), date(2025, 12, 31))
        self.authority, self.custodian = r.choice(_AUTHORITIES)
        self.streets = [self._street(r, i) for i in range(self.N_STREETS)]
        # The Girobank address, for the special postcode GIR 0AA: one run of
        # houses among the first 150 runs, then one in every 200 or so.
        self.girobank = _Street("Bridle Road", 8700001, 7, "Bootle", "GIR", 0, ("AA",))
        self.girobank_run = r.randrange(1, 150)
        self.runs = 0
        self.uprn = r.randrange(10_000_000_000, 200_000_000_000)
        self.current: _Address | None = None
        self.last_preferred: int | None = None
        self.left = 0
        self.number = 0
        self.step = 1
        self.street = self.streets[0]
        self.oldest = date(1970, 1, 1)

    @staticmethod
    def _street(r: random.Random, i: int) -> _Street:
        town = r.randrange(len(_TOWNS))
        _, _, _, outwards, localities = _TOWNS[town]
        name = f"{r.choice(_STREET_STEMS)} {r.choice(_STREET_TYPES)}"
        locality = r.choice(localities) if r.random() < 0.6 else None
        units = tuple(r.choice(_INWARD_LETTERS) + r.choice(_INWARD_LETTERS)
                      for _ in range(r.randint(1, 4)))
        return _Street(name, 10_000_000 + i * 37 + r.randrange(37), town, locality,
                       r.choice(outwards), r.randrange(10), units)

    def header(self, count: int | None) -> list[str]:
        lines = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            f"<!-- Synthetic gazetteer extract written by egif sample, seed {self.seed}. Not real data. -->",
            f'<GazetteerExtract xmlns="{GZE_NS}" xmlns:bs7666="{BS7666_NS}" version="{self.version}"'
            f' custodianCode="{self.custodian}" extractDate="{self.extract_date.isoformat()}">',
            "  <ExtractHeader>",
            f"    <Originator>{self.authority} local land and property gazetteer</Originator>",
            "    <ExtractDescription>Synthetic full supply of addresses generated for testing; "
            "not a real gazetteer.</ExtractDescription>",
        ]
        if count is not None:
            lines.append(f"    <RecordCount>{count}</RecordCount>")
        lines.append("  </ExtractHeader>")
        return lines

    def footer(self) -> list[str]:
        return ["</GazetteerExtract>"]

    # -- content ---------------------------------------------------------

    def _next_address(self) -> _Address:
        r = self.rng
        cur = self.current
        if cur is not None and r.random() < 0.05:
            # An alternative address of the same property: its house name
            # instead of (or beside) its number.
            alt = _Address(
                cur.uprn, r.choice((2, 2, 3)), cur.start, None, cur.updated, cur.saon,
                _Aon(cur.paon.start, cur.paon.start_suffix, cur.paon.end, cur.paon.end_suffix,
                     r.choice(_HOUSE_NAMES)),
                cur.street, cur.show_usrn, cur.area, cur.post_town, cur.postcode, cur.show_postcode,
                False, cur.grid)
            return alt
        if self.left <= 0:
            self.runs += 1
            gir = self.runs == self.girobank_run or r.random() < 0.005
            self.street = self.girobank if gir else r.choice(self.streets)
            self.number = r.randrange(0, 120)
            self.left = r.randint(4, 60) if not gir else 1
            self.step = r.choice((1, 2, 2))
        self.left -= 1
        self.number += self.step
        street = self.street
        self.uprn += r.randint(1, 40)
        status = r.choices((1, 5, 6, 8, 9), (90, 2, 3, 4, 1))[0]
        start = _days(r, self.oldest, self.extract_date - timedelta(days=30)) if r.random() < 0.9 else None
        first = start or self.oldest
        end = _days(r, first + timedelta(days=1), self.extract_date) if status == 8 else None
        updated = _days(r, first, self.extract_date) if r.random() < 0.7 else None

        saon: _Aon | None = None
        shape = r.random()
        n = self.number
        if shape < 0.10:
            saon = _Aon(r.randint(1, 24), None, None, None, r.choice(_FLAT_WORDS)) if r.random() < 0.5 \
                else _Aon(None, None, None, None, f"{r.choice(_FLAT_WORDS)} {r.randint(1, 40)}")
            paon = _Aon(n, None, None, None, r.choice(_BUILDING_NAMES)) if r.random() < 0.5 \
                else _Aon(None, None, None, None, r.choice(_BUILDING_NAMES))
        elif shape < 0.70:
            paon = _Aon(n)
        elif shape < 0.78:
            paon = _Aon(n, r.choice("ABCD"))
        elif shape < 0.84:
            width = r.choice((1, 2, 4))
            paon = _Aon(n, None, n + width, r.choice((None, None, "A")))
            self.number += width
        elif shape < 0.96:
            paon = _Aon(None, None, None, None, r.choice(_HOUSE_NAMES))
        else:
            paon = _Aon(n, None, None, None, r.choice(_HOUSE_NAMES))

        town, post_town, admin, _, _ = _TOWNS[street.town]
        loc = street.locality
        a = r.random()
        area: list[tuple[str, str]]
        if a < 0.35 or (loc is None and a < 0.75):
            area = [("Town", town)]
        elif a < 0.65:
            area = [("Locality", loc or town), ("Town", town)]
        elif a < 0.80:
            area = [("Town", town), ("AdministrativeArea", admin)]
        elif a < 0.90:
            area = [("Locality", loc or town), ("Town", town), ("AdministrativeArea", admin)]
        elif a < 0.95:
            area = [("Locality", loc or town), ("AdministrativeArea", admin)]
        else:
            area = [("AdministrativeArea", admin)]
        postcode = (f"{street.outward} {street.sector}{r.choice(street.units)}"
                    if street.outward != "GIR" else "GIR 0AA")
        grid = None
        if self.version != "1.0" and r.random() < 0.6:
            grid = (r.randrange(8_000_000, 65_500_000), r.randrange(1_000_000, 120_000_000))
        addr = _Address(self.uprn, status, start, end, updated, saon, paon, street,
                        r.random() < 0.6, area, post_town if r.random() < 0.7 else None, postcode,
                        r.random() < 0.93 or street is self.girobank, r.random() < 0.2, grid)
        self.current = addr
        return addr

    # -- rendering ---------------------------------------------------------

    def record(self, index: int, fault: str | None) -> tuple[list[str], int | None]:
        addr = self._next_address()
        prev_preferred = self.last_preferred
        fr = random.Random(f"{self.seed}/{index}") if fault else None
        at: int | None = None
        uprn = str(addr.uprn)
        status = str(addr.status)
        start = addr.start.isoformat() if addr.start else None
        end = addr.end.isoformat() if addr.end else None
        paon = addr.paon
        area = addr.area
        postcode = addr.postcode if addr.show_postcode else None
        mark = ""  # which element carries the fault
        if fr is not None:
            if fault == "uprn-13-digits":
                uprn, mark = str(fr.randrange(10**12, 10**13)), "uprn"
            elif fault == "logical-status-4":
                status, mark = fr.choice(("4", "7")), "status"
            elif fault == "start-date-invalid":
                start, mark = _bad_date(fr, (addr.start or self.extract_date).year), "start"
            elif fault == "end-before-start":
                s = addr.start or self.extract_date - timedelta(days=400)
                start, end, mark = s.isoformat(), (s - timedelta(days=fr.randint(1, 900))).isoformat(), "end"
                status = "8"
            elif fault in ("postcode-inward-letter", "postcode-first-letter"):
                pc = addr.postcode
                if fault == "postcode-first-letter":
                    postcode = fr.choice("QVX") + pc[1:]
                else:
                    i = len(pc) - fr.randint(1, 2)
                    postcode = pc[:i] + fr.choice(_BAD_INWARD) + pc[i + 1:]
                mark = "postcode"
            elif fault == "paon-missing":
                paon, mark = _Aon(), "street"
            elif fault == "area-order":
                towns = [v for k, v in area if k == "Town"] or [_TOWNS[addr.street.town][0]]
                locs = [v for k, v in area if k == "Locality"] or [
                    addr.street.locality or fr.choice(_TOWNS[addr.street.town][4])]
                admin = [("AdministrativeArea", v) for k, v in area if k == "AdministrativeArea"]
                area, mark = [("Town", towns[0]), ("Locality", locs[0]), *admin], "Locality"
            elif fault == "locality-36":
                base = addr.street.locality or fr.choice(_TOWNS[addr.street.town][4])
                long_name = _exact(f"{base} and {fr.choice(_STREET_STEMS)} Garden Village", 36, "Estate")
                area = [("Locality", long_name)] + [(k, v) for k, v in area if k != "Locality"]
                mark = "Locality"
            elif fault in ("aon-number-10000", "aon-suffix-lowercase", "range-backwards"):
                n = paon.start or fr.randint(1, 200)
                if fault == "aon-number-10000":
                    paon, mark = _Aon(fr.randrange(10000, 100000), None, None, None, paon.text), "number"
                elif fault == "aon-suffix-lowercase":
                    paon, mark = _Aon(n, fr.choice("abcd"), None, None, paon.text), "suffix"
                else:
                    paon, mark = _Aon(n + fr.randint(1, 6), None, n, None, paon.text), "endrange"
            elif fault == "duplicate-preferred" and prev_preferred is not None:
                uprn, status, mark = str(prev_preferred), "1", "record"

        if status == "1" and uprn == str(addr.uprn):
            # This record is, as written, the approved preferred address of
            # its UPRN: a later duplicate-preferred fault may repeat it.
            self.last_preferred = addr.uprn
        out = ["  <AddressRecord>"]
        if mark == "record":
            at = 0
        if mark == "uprn":
            at = len(out)
        out.append(f"    <{_B}UniquePropertyReferenceNumber>{uprn}</{_B}UniquePropertyReferenceNumber>")
        if mark == "status":
            at = len(out)
        out.append(f"    <{_B}LogicalStatus>{status}</{_B}LogicalStatus>")
        if start is not None:
            if mark == "start":
                at = len(out)
            out.append(f"    <{_B}StartDate>{start}</{_B}StartDate>")
        if end is not None:
            if mark == "end":
                at = len(out)
            out.append(f"    <{_B}EndDate>{end}</{_B}EndDate>")
        if addr.updated is not None:
            out.append(f"    <{_B}LastUpdateDate>{addr.updated.isoformat()}</{_B}LastUpdateDate>")
        out.append(f"    <{_B}BS7666Address>")
        if addr.saon is not None:
            _render_aon(out, "SAON", addr.saon, "")
        if paon.start is not None or paon.text is not None:
            hit = _render_aon(out, "PAON", paon, mark)
            if hit is not None:
                at = hit
        if mark == "street":
            at = len(out)
        out.append(f"      <{_B}StreetDescription>{addr.street.name}</{_B}StreetDescription>")
        if addr.show_usrn:
            out.append(f"      <{_B}UniqueStreetReferenceNumber>{addr.street.usrn}"
                       f"</{_B}UniqueStreetReferenceNumber>")
        for tag, value in area:
            if tag == mark:
                at = len(out)
            out.append(f"      <{_B}{tag}>{value}</{_B}{tag}>")
        if addr.post_town is not None:
            out.append(f"      <{_B}PostTown>{addr.post_town}</{_B}PostTown>")
        if postcode is not None or mark == "postcode":
            if mark == "postcode":
                at = len(out)
            out.append(f"      <{_B}PostCode>{postcode}</{_B}PostCode>")
        if addr.show_uprn:
            out.append(f"      <{_B}UniquePropertyReferenceNumber>{addr.uprn}"
                       f"</{_B}UniquePropertyReferenceNumber>")
        out.append(f"    </{_B}BS7666Address>")
        if addr.grid is not None:
            x, y = addr.grid
            out.append(f"    <{_B}GridReference>")
            out.append(f"      <{_B}XCoordinate>{x // 100}.{x % 100:02d}</{_B}XCoordinate>")
            out.append(f"      <{_B}YCoordinate>{y // 100}.{y % 100:02d}</{_B}YCoordinate>")
            out.append(f"    </{_B}GridReference>")
        out.append("  </AddressRecord>")
        return out, at


def _render_aon(out: list[str], tag: str, aon: _Aon, mark: str) -> int | None:
    """Append an addressable object; return the line index of the marked part, if any."""
    at: int | None = None
    out.append(f"      <{_B}{tag}>")
    if aon.start is not None:
        out.append(f"        <{_B}StartRange>")
        if mark == "number":
            at = len(out)
        out.append(f"          <{_B}Number>{aon.start}</{_B}Number>")
        if aon.start_suffix is not None:
            if mark == "suffix":
                at = len(out)
            out.append(f"          <{_B}Suffix>{aon.start_suffix}</{_B}Suffix>")
        out.append(f"        </{_B}StartRange>")
        if aon.end is not None:
            if mark == "endrange":
                at = len(out)
            out.append(f"        <{_B}EndRange>")
            out.append(f"          <{_B}Number>{aon.end}</{_B}Number>")
            if aon.end_suffix is not None:
                out.append(f"          <{_B}Suffix>{aon.end_suffix}</{_B}Suffix>")
            out.append(f"        </{_B}EndRange>")
    if aon.text is not None:
        out.append(f"        <{_B}Description>{aon.text}</{_B}Description>")
    out.append(f"      </{_B}{tag}>")
    return at


# --------------------------------------------------------------------------
# Person record list
# --------------------------------------------------------------------------


@dataclass(slots=True)
class _Person:
    ident: str
    titles: list[str]
    given: list[str]
    family: str
    suffix: str | None
    requested: str | None
    birth: date | None
    verification: str | None
    gender: str | None
    ni: str | None
    phone: tuple[str, str | None] | None
    email: str | None
    lines: list[str] | None
    postcode: str | None
    qualifier: str


class _Persons(_Generator):
    def __init__(self, seed: int, version: str) -> None:
        super().__init__(seed, version)
        r = self.rng
        self.extract_date = _days(r, date(2018, 1, 1), date(2025, 12, 31))
        self.source, _ = r.choice(_AUTHORITIES)
        self.prefix = "".join(w[0] for w in self.source.split() if w[0].isupper())[:4] or "SRC"
        self.next_id = r.randrange(1, 500_000)

    def header(self, count: int | None) -> list[str]:
        rc = f' RecordCount="{count}"' if count is not None else ""
        return [
            '<?xml version="1.0" encoding="UTF-8"?>',
            f"<!-- Synthetic person record list written by egif sample, seed {self.seed}. Not real people. -->",
            f'<prl:PersonRecordList xmlns:prl="{PRL_NS}" xmlns:apd="{APD_NS}" xmlns:pdt="{PDT_NS}"'
            f' xmlns:bs7666="{BS7666_NS}"',
            f'    Source="{self.source}" ExtractDate="{self.extract_date.isoformat()}"{rc}'
            f' version="{self.version}">',
        ]

    def footer(self) -> list[str]:
        return ["</prl:PersonRecordList>"]

    def _next_person(self) -> _Person:
        r = self.rng
        self.next_id += r.randint(1, 9)
        female = r.random() < 0.5
        given = [r.choice(_GIVEN_F if female else _GIVEN_M)]
        if r.random() < 0.3:
            given.append(r.choice(_GIVEN_F if female else _GIVEN_M))
        family = r.choice(_FAMILY)
        if r.random() < 0.05:
            family = f"{family}-{r.choice(_FAMILY)}"
        titles = [r.choice(_TITLES_F if female else _TITLES_M)] if r.random() < 0.4 else []
        suffix = r.choice(_NAME_SUFFIXES) if r.random() < 0.02 else None
        requested = f"{given[0]} {family}" if r.random() < 0.05 else None
        birth = None
        if r.random() < 0.85:
            birth = _days(r, date(1925, 1, 1), self.extract_date - timedelta(days=16 * 366))
        verification = r.choice(("Level 0", "Level 1", "Level 2", "Level 3")) if r.random() < 0.3 else None
        gender = r.choices(("1", "2", "0", "9"), (48, 48, 2, 2))[0] if r.random() < 0.8 else \
            None
        if gender in ("1", "2"):
            gender = "2" if female else "1"
        ni = None
        if r.random() < 0.75:
            ni = f"{r.choice(NI_PREFIXES)}{r.randrange(1_000_000):06d}{r.choice('ABCD')}"
        phone: tuple[str, str | None] | None = None
        if r.random() < 0.5:
            if r.random() < 0.5:
                phone = (f"7{r.randrange(100_000_000, 1_000_000_000)}", "44")
            else:
                area = r.choice(_PHONE_AREAS)
                phone = (f"0{area}{r.randrange(10 ** (9 - len(area)), 10 ** (10 - len(area)))}", None)
        email = None
        if r.random() < 0.4:
            email = f"{_ascii(given[0])}.{_ascii(family)}{r.randrange(100)}@{r.choice(_MAIL_DOMAINS)}"
        lines = None
        postcode = None
        if r.random() < 0.8:
            town, _, _, outwards, localities = r.choice(_TOWNS)
            street = f"{r.randint(1, 250)} {r.choice(_STREET_STEMS)} {r.choice(_STREET_TYPES)}"
            lines = [street]
            if r.random() < 0.2:
                lines.insert(0, f"Flat {r.randint(1, 30)}")
            if r.random() < 0.4:
                lines.append(r.choice(localities))
            lines.append(town)
            postcode = random_postcode(r, r.choice(outwards)) if r.random() < 0.95 else None
        qualifier = r.choices(("residential", "correspondence", "business"), (85, 10, 5))[0]
        return _Person(f"{self.prefix}-{self.next_id:08d}", titles, given, family, suffix, requested,
                       birth, verification, gender, ni, phone, email, lines, postcode, qualifier)

    def record(self, index: int, fault: str | None) -> tuple[list[str], int | None]:
        p = self._next_person()
        fr = random.Random(f"{self.seed}/{index}") if fault else None
        mark = ""
        given = p.given
        family = p.family
        birth = p.birth.isoformat() if p.birth else None
        gender = p.gender
        ni = p.ni
        email = p.email
        lines = p.lines
        postcode = p.postcode
        if fr is not None:
            if fault == "ni-prefix-gb":
                ni, mark = f"GB{fr.randrange(1_000_000):06d}{fr.choice('ABCD')}", "ni"
            elif fault == "ni-prefix-reserved":
                pre = fr.choice(sorted(_NI_REFUSED - {"GB"}))
                ni, mark = f"{pre}{fr.randrange(1_000_000):06d}{fr.choice('ABCD')}", "ni"
            elif fault == "family-name-36":
                family, mark = _exact(f"{family}-{fr.choice(_FAMILY)}-{fr.choice(_FAMILY)}", 36,
                                      "Montgomery"), "family"
            elif fault == "given-name-36":
                given = [_exact(f"{given[0]}-{fr.choice(_GIVEN_F)}", 36, "Rosalind"), *given[1:]]
                mark = "given"
            elif fault == "gender-code":
                gender, mark = fr.choice(("3", "5", "M", "F")), "gender"
            elif fault == "birth-date-invalid":
                birth, mark = _bad_date(fr, p.birth.year if p.birth else 1970), "birth"
            elif fault == "birth-in-future":
                birth, mark = f"{fr.randint(2090, 2150)}-{fr.randint(1, 12):02d}-{fr.randint(1, 28):02d}", \
                    "birth"
            elif fault == "person-postcode-inward-letter":
                if lines is None:
                    lines = [f"{fr.randint(1, 99)} {fr.choice(_STREET_STEMS)} Road", "Exeter"]
                pc = postcode or random_postcode(fr)
                i = len(pc) - fr.randint(1, 2)
                postcode, mark = pc[:i] + fr.choice(_BAD_INWARD) + pc[i + 1:], "postcode"
            elif fault == "address-line-36":
                if lines is None:
                    lines = [f"{fr.randint(1, 99)} {fr.choice(_STREET_STEMS)} Road", "Exeter"]
                lines = [_exact(f"{lines[0]} {fr.choice(_STREET_STEMS)} Trading Estate", 36, "Yard"),
                         *lines[1:]]
                mark = "line"
            elif fault == "email-no-at":
                email = f"{_ascii(given[0])}.{_ascii(family)}.{fr.choice(_MAIL_DOMAINS)}"
                mark = "email"

        at: int | None = None
        out = ["  <prl:PersonRecord>", f"    <prl:RecordIdentifier>{p.ident}</prl:RecordIdentifier>",
               "    <apd:PersonDetails>", "      <pdt:PersonName>"]
        for t in p.titles:
            out.append(f"        <pdt:PersonNameTitle>{t}</pdt:PersonNameTitle>")
        for i, g in enumerate(given):
            if mark == "given" and i == 0:
                at = len(out)
            out.append(f"        <pdt:PersonGivenName>{g}</pdt:PersonGivenName>")
        if mark == "family":
            at = len(out)
        out.append(f"        <pdt:PersonFamilyName>{family}</pdt:PersonFamilyName>")
        if p.suffix is not None:
            out.append(f"        <pdt:PersonNameSuffix>{p.suffix}</pdt:PersonNameSuffix>")
        if p.requested is not None:
            out.append(f"        <pdt:PersonRequestedName>{p.requested}</pdt:PersonRequestedName>")
        out.append("      </pdt:PersonName>")
        if birth is not None:
            out.append("      <pdt:BirthDate>")
            if mark == "birth":
                at = len(out)
            out.append(f"        <pdt:PersonBirthDate>{birth}</pdt:PersonBirthDate>")
            if p.verification is not None:
                out.append(f"        <pdt:VerificationLevel>{p.verification}</pdt:VerificationLevel>")
            out.append("      </pdt:BirthDate>")
        if gender is not None or mark == "gender":
            if mark == "gender":
                at = len(out)
            out.append(f"      <pdt:GenderCurrent>{gender}</pdt:GenderCurrent>")
        if ni is not None:
            if mark == "ni":
                at = len(out)
            out.append(f"      <apd:NationalInsuranceNumber>{ni}</apd:NationalInsuranceNumber>")
        if p.phone is not None or email is not None:
            out.append("      <apd:ContactDetails>")
            if p.phone is not None:
                number, country = p.phone
                attrs = ' TelMobile="yes"' if country else ' TelUse="home"'
                out.append(f"        <apd:Telephone{attrs}>")
                out.append(f"          <apd:TelNationalNumber>{number}</apd:TelNationalNumber>")
                if country is not None:
                    out.append(f"          <apd:TelCountryCode>{country}</apd:TelCountryCode>")
                out.append("        </apd:Telephone>")
            if email is not None:
                out.append('        <apd:Email EmailPreferred="yes">')
                if mark == "email":
                    at = len(out)
                out.append(f"          <apd:EmailAddress>{email}</apd:EmailAddress>")
                out.append("        </apd:Email>")
            out.append("      </apd:ContactDetails>")
        if lines is not None:
            out.append(f'      <apd:Address AddressQualifier="{p.qualifier}">')
            out.append("        <apd:UKAddress>")
            out.append("          <apd:UKPostalAddress>")
            for i, line in enumerate(lines):
                if mark == "line" and i == 0:
                    at = len(out)
                out.append(f"            <apd:Line>{line}</apd:Line>")
            if postcode is not None:
                if mark == "postcode":
                    at = len(out)
                out.append(f"            <bs7666:PostCode>{postcode}</bs7666:PostCode>")
            out.append("          </apd:UKPostalAddress>")
            out.append("        </apd:UKAddress>")
            out.append("      </apd:Address>")
        out.append("    </apd:PersonDetails>")
        out.append("  </prl:PersonRecord>")
        return out, at


_GENERATORS: dict[str, Callable[[int, str], _Generator]] = {
    "gazetteer": _Gazetteer,
    "persons": _Persons,
}
