"""An address-list export for benchmarks: small records (~300 bytes) checked mostly by patterns.

The gazetteer and person exports of ``egif sample`` have records of 800 bytes to
1 KB with deep structure; many real address lists are flat and short, so the
per-record cost of a validator (and of its business rules) weighs more.  This
module holds a small schema written for the benchmark (``AddressList`` 1.0, its
own namespace, pattern facets on every field), two business rules, and a
deterministic writer that plants faults of both layers and reports the line of
each one.

    write(path, size_bytes, seed=7, invalid_rate=0.001) -> (records, faults)

Each fault is ``(record, line, layer)``: the line of the element a validator
reports (the record's own start tag for the rule faults).
"""

from __future__ import annotations

import random
from pathlib import Path

NAMESPACE = "http://www.govtalk.gov.uk/exchange/AddressList"
NAME, VERSION = "AddressList", "1.0"
ROOT = f"{{{NAMESPACE}}}AddressList"

_POSTCODE = ("[A-PR-UWYZ]([0-9]{1,2}|[A-HK-Y][0-9]{1,2}|[0-9][A-HJKSTUW]|[A-HK-Y][0-9][ABEHMNPRVWXY]) "
             "[0-9][ABD-HJLNP-UW-Z]{2}")
SCHEMA = f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- A flat address list written for egif's benchmarks: short records, a pattern on each field. -->
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:al="{NAMESPACE}"
           targetNamespace="{NAMESPACE}" elementFormDefault="qualified" version="1.0">
  <xs:element name="AddressList">
    <xs:complexType>
      <xs:sequence>
        <xs:element ref="al:Address" maxOccurs="unbounded"/>
      </xs:sequence>
      <xs:attribute name="supplier" type="al:CodeType" use="required"/>
    </xs:complexType>
  </xs:element>
  <xs:element name="Address">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="UPRN" type="al:UPRNType"/>
        <xs:element name="Line" type="al:LineType" minOccurs="2" maxOccurs="4"/>
        <xs:element name="Town" type="al:TownType"/>
        <xs:element name="PostCode" type="al:PostCodeType"/>
        <xs:element name="Phone" type="al:PhoneType" minOccurs="0"/>
        <xs:element name="Updated" type="xs:date"/>
      </xs:sequence>
      <xs:attribute name="id" type="al:IdType" use="required"/>
    </xs:complexType>
  </xs:element>
  <xs:simpleType name="CodeType"><xs:restriction base="xs:string">
    <xs:pattern value="[A-Z]{{2}}[0-9]{{4}}"/></xs:restriction></xs:simpleType>
  <xs:simpleType name="IdType"><xs:restriction base="xs:string">
    <xs:pattern value="A[0-9]{{7}}"/></xs:restriction></xs:simpleType>
  <xs:simpleType name="UPRNType"><xs:restriction base="xs:string">
    <xs:pattern value="[1-9][0-9]{{0,11}}"/></xs:restriction></xs:simpleType>
  <xs:simpleType name="LineType"><xs:restriction base="xs:string">
    <xs:pattern value="[A-Za-z0-9][A-Za-z0-9 ,.'\\-]{{0,34}}"/></xs:restriction></xs:simpleType>
  <xs:simpleType name="TownType"><xs:restriction base="xs:string">
    <xs:pattern value="[A-Z][A-Z \\-]{{0,29}}"/></xs:restriction></xs:simpleType>
  <xs:simpleType name="PostCodeType"><xs:restriction base="xs:string">
    <xs:pattern value="{_POSTCODE}"/>
  </xs:restriction></xs:simpleType>
  <xs:simpleType name="PhoneType"><xs:restriction base="xs:string">
    <xs:pattern value="\\+?[0-9]{{7,15}}"/></xs:restriction></xs:simpleType>
</xs:schema>
"""

RULES = f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- Address-list rules for egif's benchmarks. -->
<sch:schema xmlns:sch="http://purl.oclc.org/dsdl/schematron" queryBinding="xslt">
  <sch:ns prefix="al" uri="{NAMESPACE}"/>
  <sch:ns prefix="egif" uri="urn:egif:schematron"/>
  <sch:pattern id="one-address-per-uprn">
    <sch:rule context="al:Address">
      <sch:assert id="AL-R1" test="not(egif:seen('uprn', normalize-space(al:UPRN)))">UPRN
        <sch:value-of select="al:UPRN"/> has an address earlier in the list</sch:assert>
    </sch:rule>
  </sch:pattern>
  <sch:pattern id="lines-differ">
    <sch:rule context="al:Address[al:Line[2]]">
      <sch:assert id="AL-R2" test="not(al:Line[1] = al:Line[2])">the first two address lines are
        the same: <sch:value-of select="al:Line[1]"/></sch:assert>
    </sch:rule>
  </sch:pattern>
</sch:schema>
"""

_STREETS = ["High Street", "Church Road", "Station Road", "Mill Lane", "Park Avenue", "Victoria Road",
            "Queen Street", "North Street", "Chapel Close", "Fore Street", "Orchard Way", "The Crescent"]
_PLACES = ["Heavitree", "St Thomas", "Pinhoe", "Topsham", "Alphington", "Exwick", "Whipton", "Wonford"]
_TOWNS = ["EXETER", "EXMOUTH", "CREDITON", "TIVERTON", "HONITON"]
_OUTWARD = ["EX1", "EX2", "EX4", "EX5", "EX8", "EX10", "EX14", "EX16", "EX17"]
_INWARD = "ABDEFGHJLNPQRSTUWXYZ"
XSD_FAULTS = ("postcode", "uprn", "phone")
RULE_FAULTS = ("duplicate-uprn", "same-lines")


def header() -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<AddressList xmlns="{NAMESPACE}" supplier="EX1110">\n')


FOOTER = "</AddressList>\n"


def record(i: int, rnd: random.Random, fault: str | None, earlier_uprn: int) -> tuple[str, int]:
    """One record and the offset (in lines, from its first) of the line its fault shows on."""
    uprn = 100040000000 + i
    at = 0
    if fault == "uprn":
        uprn, at = 1000400000000 + i, 1
    elif fault == "duplicate-uprn":
        uprn = earlier_uprn
    line1 = f"Flat {rnd.randint(1, 40)}, {rnd.choice(_PLACES)} Court"
    line2 = f"{rnd.randint(1, 250)} {rnd.choice(_STREETS)}" if fault != "same-lines" else line1
    postcode = f"{rnd.choice(_OUTWARD)} {rnd.randint(0, 9)}{rnd.choice(_INWARD)}{rnd.choice(_INWARD)}"
    if fault == "postcode":
        postcode, at = f"EX4 {rnd.randint(0, 9)}CR", 6
    phone = f"+44139{rnd.randint(2000000, 9999999)}"
    if fault == "phone":
        phone, at = "01392 TEN", 7
    text = (f'  <Address id="A{i:07d}">\n'
            f"    <UPRN>{uprn}</UPRN>\n"
            f"    <Line>{line1}</Line>\n"
            f"    <Line>{line2}</Line>\n"
            f"    <Line>{rnd.choice(_PLACES)}</Line>\n"
            f"    <Town>{rnd.choice(_TOWNS)}</Town>\n"
            f"    <PostCode>{postcode}</PostCode>\n"
            f"    <Phone>{phone}</Phone>\n"
            f"    <Updated>20{rnd.randint(10, 25)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}</Updated>\n"
            "  </Address>\n")
    return text, at


def write(path: Path, size: int, *, seed: int = 7, invalid_rate: float = 0.001,
          rules: bool = True) -> tuple[int, list[tuple[int, int, str]]]:
    """Write about *size* bytes; returns the record count and every planted fault."""
    rnd = random.Random(seed)
    faults_rnd = random.Random(f"addresslist-faults/{seed}")
    kinds = XSD_FAULTS + (RULE_FAULTS if rules else ())
    planted: list[tuple[int, int, str]] = []
    line = 3  # the first record's first line
    written = 0
    i = 0
    with path.open("w", encoding="utf-8", newline="\n") as out:
        head = header()
        out.write(head)
        written += len(head)
        batch: list[str] = []
        own_uprn: set[int] = set()  # records that carry their own, unique UPRN
        while written + len(FOOTER) < size:
            i += 1
            fault = kinds[faults_rnd.randrange(len(kinds))] if faults_rnd.random() < invalid_rate and i > 1 else None
            earlier = 0
            if fault == "duplicate-uprn":
                earlier = faults_rnd.randrange(1, i)
                while earlier not in own_uprn:
                    earlier = faults_rnd.randrange(1, i)
            if fault not in ("uprn", "duplicate-uprn"):
                own_uprn.add(i)
            text, at = record(i, rnd, fault, 100040000000 + earlier)
            if fault is not None:
                planted.append((i, line + at, "rules" if fault in RULE_FAULTS else "xsd"))
            batch.append(text)
            written += len(text)
            line += text.count("\n")
            if len(batch) >= 4000:
                out.write("".join(batch))
                batch.clear()
        out.write("".join(batch))
        out.write(FOOTER)
    return i, planted
