"""Who the parties are, read from the structure real agreements share: the preamble's "by and
between X, a Delaware corporation (the "Provider"), and Y ..." (inline or laid out one party per
line on a cover page), "Party A: ..." labels, and the signature blocks ("COMPANY NAME / By: ...")
at the end. Names are kept as written, without their defined-term alias; the alias becomes the
party's role. Every name comes with the page and span it was read from."""

from __future__ import annotations

import re

from agents.legal.tools import Candidate, Pages, candidate, clean, find_parties

# where the list of parties starts and where it certainly ends
_BETWEEN = re.compile(r"\b(?:by\s+and\s+)?(?:between|among)\b\s*[:,]?", re.IGNORECASE)
_PREAMBLE_END = re.compile(
    r"\bWHEREAS\b|\bRECITALS?\b|\bBACKGROUND\b|\bWITNESSETH\b|In consideration of|"
    r"NOW,? THEREFORE|\bthe parties (?:hereto )?(?:hereby )?agree|^\s*(?:1|I|ARTICLE\s+[1I])\.?\s+"
    r"[A-Z]|\bSource:|\bdated\b|\bdate[d]? as of|\bhereby agree|(?<=\))\.(?=\s)", re.MULTILINE)
# a defined-term alias in brackets: ("WPT"), (the "Customer"), (hereinafter "EIT")
_ALIAS = re.compile(r"\((?:[^()]|\([^()]*\))*?[\"“”'‘](?P<alias>[^\"“”'’]{1,40})[\"“”'’]"
                    r"(?:[^()]|\([^()]*\))*\)")
_HEREINAFTER = re.compile(r"\(?\s*(?:hereinafter|hereafter)\b[^\n\"“]{0,40}[\"“]?"
                          r"(?P<alias>[^\"“”\n]{1,40})[\"”]?\)?", re.IGNORECASE)
_AND_SPLIT = re.compile(r"(?:^|\n)\s*and\s*(?:\n|$)|;|\n\s*and\s+|\s+and\s*\n|\)\s*,?\s*and\s+",
                        re.IGNORECASE)
# where a name ends: its description, address or alias begins
_NAME_STOP = re.compile(
    r",?\s+(?:a|an)\s+(?:[A-Z][\w.-]*\s+){0,4}(?:corporation|company|limited|partnership|"
    r"llc|bank|entity|organization|public|private|joint|general|business|society|body)\b|"
    r",\s+(?:a|an)\s|,\s*(?:with|having|whose|located|organized|incorporated|registered|"
    r"registration|represented|acting|resident|also known|d/b/a|doing business)\b|"
    r"\s+(?:with (?:an? )?(?:office|its|principal)|having (?:its|an)|located at|"
    r"organized under|incorporated (?:in|under)|represented by|whose)\b|\s*\(|\s+hereinafter\b",
    re.IGNORECASE)
_COMPANY_SUFFIX = re.compile(
    r"\b(?:Inc|Incorporated|Corp|Corporation|Co|Company|LLC|L\.L\.C|Ltd|Limited|LP|L\.P|LLP|"
    r"PLC|plc|AG|GmbH|SA|S\.A|Ltda|SAS|SpA|S\.p\.A|NV|N\.V|BV|B\.V|AB|AS|A/S|Pty|KK|Bhd|PCL|Pte|"
    r"Partners|Office|Trust|Group|Holdings|Foundation|University|Association)\b\.?",
    re.IGNORECASE)
_LABELLED = re.compile(r"^\s*(?:Party\s+[A-Z1-9]|The Covenanter|Planning Unit|Licensor|"
                       r"Licensee|Customer|Supplier|Vendor|Client|Contractor|Distributor|"
                       r"Company|Buyer|Seller)\s*:\s*(?P<name>[^\n(]{3,90})",
                       re.IGNORECASE | re.MULTILINE)
_SIGNATURE_BY = re.compile(r"^\s*By\s*:", re.IGNORECASE | re.MULTILINE)
_NOT_A_NAME = re.compile(
    r"^(?:this|such|each|either|any|all|its|their|his|her|said|following|parties|party|"
    r"witness|signatures?\s*(?:page|block)?\s*$|name|title|date|address|attention|agreement|exhibit|schedule|section|"
    r"article|page|source|execution|in witness)\b|\b(?:agreement|hereto|hereof|herein|"
    r"whereas|shall|will|means)\b", re.IGNORECASE)
PREAMBLE_CHARS = 2500


def find_all_parties(pages: Pages) -> list[Candidate]:
    """The parties named by defined-term roles (``find_parties``), then those the preamble,
    labels and signature blocks name, each party once."""
    by_role = [c for c in find_parties(pages) if looks_like_name(c["value"]["name"])]
    return unique_parties(by_role + find_named_parties(pages))


def find_named_parties(pages: Pages) -> list[Candidate]:
    """Parties from the preamble, then from "Party A:" labels and signature blocks, each name
    once. Value: ``{"name", "role"}`` (the role is the defined-term alias, or None)."""
    found: list[Candidate] = []
    for number, text in pages[:3]:
        found += _preamble_parties(number, text)
        if found:
            break
    for number, text in pages[:3] + pages[-3:]:
        found += _labelled_parties(number, text)
    for number, text in pages[-4:]:
        found += _signature_parties(number, text)
    return unique_parties(found)


def unique_parties(items: list[Candidate]) -> list[Candidate]:
    """The first mention of each name (names that contain one another are one party)."""
    kept: list[Candidate] = []
    for item in items:
        key = name_key(item["value"]["name"])
        if not key:
            continue
        duplicate = next((k for k in kept if _same_name(key, name_key(k["value"]["name"]))),
                         None)
        if duplicate is None:
            # a signature page printing two names side by side reads as one line of both
            if not any(len(k) >= 4 and (other := name_key(k["value"]["name"])) and other in key
                       for k in kept):
                kept.append(item)
        elif not duplicate["value"].get("role") and item["value"].get("role"):
            duplicate["value"]["role"] = item["value"]["role"]
    return kept


def _same_name(a: str, b: str) -> bool:
    """One name is the other, or the other with a few letters more ("Acme" / "Acme Inc")."""
    short, long = sorted((a, b), key=len)
    return bool(short) and short in long and len(short) >= 0.75 * len(long)


def name_key(name: str) -> str:
    """A name reduced for comparison: case, punctuation and company suffixes ignored."""
    reduced = _COMPANY_SUFFIX.sub(" ", name)
    return re.sub(r"[^0-9a-z\u0e00-\u0e7f]+", "", reduced.casefold())


def looks_like_name(name: str) -> bool:
    """A party name: 2-120 characters, starting with a capital or digit, at most 14 words, not
    a sentence or a heading of the agreement."""
    words = name.split()
    return (2 <= len(name) <= 120 and 1 <= len(words) <= 14
            and bool(re.match(r"[A-Z0-9\u0e00-\u0e7f]", name))
            and not _NOT_A_NAME.search(name) and not re.match(r"[Tt]he\s+[a-z]", name)
            and sum(ch.isalpha() for ch in name) >= 2)


def _preamble_parties(number: int, text: str) -> list[Candidate]:
    between = _BETWEEN.search(text[:6000])
    if not between:
        return []
    start = between.end()
    end_match = _PREAMBLE_END.search(text, start + 3, start + PREAMBLE_CHARS)
    end = end_match.start() if end_match else min(len(text), start + PREAMBLE_CHARS)
    out: list[Candidate] = []
    # cut the preamble into one piece per party: at each alias, then at "and" / ";"
    pieces: list[tuple[int, int, str | None]] = []
    cursor = start
    for alias in list(_ALIAS.finditer(text, start, end)) + [None]:
        stop = alias.start() if alias else end
        role = clean(alias.group("alias")) if alias else None
        segment_pieces = _split_and(text, cursor, stop)
        for index, (a, b) in enumerate(segment_pieces):
            pieces.append((a, b, role if index == len(segment_pieces) - 1 else None))
        cursor = alias.end() if alias else end
    for a, b, role in pieces:
        span = _name_span(text, a, b)
        if span is None:
            continue
        name = clean(text[span[0]:span[1]])
        if role:
            role = re.sub(r"(?i)^the\s+", "", role).strip(" ,")
        if looks_like_name(name):
            out.append(candidate({"name": name, "role": role}, number, text, span[0], span[1],
                                 5.0))
    return out


def _split_and(text: str, start: int, end: int) -> list[tuple[int, int]]:
    pieces, cursor = [], start
    for match in _AND_SPLIT.finditer(text, start, end):
        pieces.append((cursor, match.start()))
        cursor = match.end()
    pieces.append((cursor, end))
    return [(a, b) for a, b in pieces if text[a:b].strip()]


def _name_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The name at the head of a party's piece of the preamble."""
    lead = re.match(r"[\s,;:.]*(?:and\b|by\b(?!\s+and)|the following parties\s*:?|"
                    r"parties to this agreement|(?:the )?covenanter\s*:)?[\s,;:]*",
                    text[start:end], re.IGNORECASE)
    if lead:
        start += lead.end()
    while True:  # skip a line that introduces the list ("Parties to this agreement")
        line_end = text.find("\n", start, end)
        line = text[start:line_end if line_end != -1 else end].strip()
        if line_end != -1 and re.fullmatch(r"(?i)(?:parties(?: to this agreement)?|"
                                           r"the following parties):?", line):
            start = line_end + 1
            continue
        break
    stop = _NAME_STOP.search(text, start, end)
    name_end = stop.start() if stop else end
    # a name laid out on its own line ends with that line when an address or alias follows
    newline = text.find("\n", start, name_end)
    while newline != -1:
        head = text[start:newline].strip(" ,")
        following = text[newline + 1:name_end].lstrip()
        if _COMPANY_SUFFIX.search(head[-14:]) or re.match(r"[\d(]|hereinafter|c/o|address",
                                                           following, re.IGNORECASE):
            name_end = newline
            break
        newline = text.find("\n", newline + 1, name_end)
    while name_end > start and text[name_end - 1] in " \n,;:":
        name_end -= 1
    while start < name_end and text[start] in " \n":
        start += 1
    return (start, name_end) if name_end - start >= 2 else None


def _labelled_parties(number: int, text: str) -> list[Candidate]:
    out = []
    for match in _LABELLED.finditer(text):
        name = match.group("name")
        cut = re.search(r"\s*(?:,\s*(?:a|an)\s|\(|hereinafter)", name, re.IGNORECASE)
        if cut:
            name = name[:cut.start()]
        stripped = name.strip(" ,;")
        if looks_like_name(stripped):
            start = match.start("name") + match.group("name").index(stripped)
            label = match.group(0).split(":")[0].strip()
            role = label if re.match(r"(?i)party\s", label) else None
            out.append(candidate({"name": clean(stripped), "role": role}, number, text, start,
                                 start + len(stripped), 3.0))
    return out


def _signature_parties(number: int, text: str) -> list[Candidate]:
    """Company names printed just above a "By:" line of a signature block."""
    out = []
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    for match in _SIGNATURE_BY.finditer(text):
        row = text.count("\n", 0, match.start())
        for back in range(1, 4):
            if row - back < 0:
                break
            line = lines[row - back].strip()
            if not line or re.match(r"(?i)in witness|signature|/s/|by\b", line):
                continue
            line = re.sub(r"^(?:[A-Z][\w ]{0,20}:\s*)", "", line)  # "Licensor: ACME INC."
            if looks_like_name(line) and (_COMPANY_SUFFIX.search(line) or line.isupper()):
                start = offsets[row - back] + lines[row - back].index(line)
                out.append(candidate({"name": clean(line), "role": None}, number, text, start,
                                     start + len(line), 2.0))
                break
    return out
