"""What the bot says and how it fits LINE's limits: the canned messages in Thai and English,
citations written as "(document, p. N)", and long answers split into text messages under LINE's
5,000-character limit (counted in UTF-16 units, as LINE counts them), five messages per call."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from agents.line.language import Language

MAX_TEXT_UNITS = 5000
MAX_MESSAGES_PER_CALL = 5

CANNED: dict[str, dict[Language, str]] = {
    "welcome": {
        "en": "Hello! I answer questions about your documents, with the page each answer comes "
              "from. Ask me anything, or send a PDF and I will analyse it.",
        "th": "สวัสดีค่ะ ฉันตอบคำถามเกี่ยวกับเอกสารของคุณ พร้อมระบุหน้าที่มาของคำตอบ "
              "ถามได้เลย หรือส่งไฟล์ PDF มาให้วิเคราะห์ได้ค่ะ",
    },
    "rate_limited": {
        "en": "You are sending messages faster than I can answer. Please wait a minute and "
              "ask again. Thank you for your patience!",
        "th": "ขออภัยค่ะ คุณส่งข้อความเร็วเกินกว่าที่ฉันจะตอบได้ทัน "
              "กรุณารอสักครู่แล้วถามใหม่อีกครั้งนะคะ ขอบคุณค่ะ",
    },
    "file_received": {
        "en": "Thank you, I received {name}. I am analysing it and will message you when the "
              "summary is ready.",
        "th": "ได้รับไฟล์ {name} แล้วค่ะ กำลังวิเคราะห์ จะส่งสรุปให้เมื่อเสร็จนะคะ",
    },
    "not_a_pdf": {
        "en": "I can only analyse PDF files. Please send {name} as a PDF.",
        "th": "ขออภัยค่ะ ฉันวิเคราะห์ได้เฉพาะไฟล์ PDF กรุณาส่ง {name} เป็นไฟล์ PDF นะคะ",
    },
    "file_failed": {
        "en": "Sorry, I could not analyse {name}: {reason}",
        "th": "ขออภัยค่ะ ไม่สามารถวิเคราะห์ไฟล์ {name} ได้: {reason}",
    },
    "file_slow": {
        "en": "{name} is taking longer than expected. You can ask about it once it is ready.",
        "th": "ไฟล์ {name} ใช้เวลาวิเคราะห์นานกว่าปกติ เมื่อเสร็จแล้วสามารถถามเกี่ยวกับไฟล์นี้ได้ค่ะ",
    },
    "summary": {
        "en": "{name} is ready: {doc_type}, {pages} pages.",
        "th": "วิเคราะห์ {name} เสร็จแล้วค่ะ: {doc_type} จำนวน {pages} หน้า",
    },
    "unsupported": {
        "en": "I can read text messages and PDF files. Please type your question.",
        "th": "ฉันอ่านได้เฉพาะข้อความและไฟล์ PDF ค่ะ กรุณาพิมพ์คำถามนะคะ",
    },
    "error": {
        "en": "Sorry, something went wrong while answering. Please try again in a moment.",
        "th": "ขออภัยค่ะ เกิดข้อผิดพลาดระหว่างตอบคำถาม กรุณาลองใหม่อีกครั้งค่ะ",
    },
}

DOC_TYPE_NAMES: dict[str, dict[Language, str]] = {
    "contract": {"en": "contract", "th": "สัญญา"},
    "lease": {"en": "lease", "th": "สัญญาเช่า"},
    "nda": {"en": "non-disclosure agreement", "th": "สัญญาไม่เปิดเผยข้อมูล"},
    "financial_report": {"en": "financial report", "th": "รายงานทางการเงิน"},
    "financial_statement": {"en": "financial statement", "th": "งบการเงิน"},
    "annual_report": {"en": "annual report", "th": "รายงานประจำปี"},
    "other": {"en": "document", "th": "เอกสาร"},
}


def canned(key: str, language: Language, **values: object) -> str:
    """The canned message ``key`` in ``language`` with ``values`` filled in."""
    return CANNED[key][language].format(**values)


def doc_type_name(doc_type: str | None, language: Language) -> str:
    names = DOC_TYPE_NAMES.get(doc_type or "other", DOC_TYPE_NAMES["other"])
    return names[language]


def format_citation(document: str, page: int) -> str:
    return f"({document}, p. {page})"


def with_citations(text: str, citations: Iterable[tuple[str, int]]) -> str:
    """The answer followed by its citations, each once, in the order given."""
    seen: list[tuple[str, int]] = []
    for citation in citations:
        if citation not in seen:
            seen.append(citation)
    if not seen:
        return text
    return text.rstrip() + "\n\n" + "\n".join(format_citation(d, p) for d, p in seen)


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT_UNITS) -> list[str]:
    """``text`` as parts of at most ``limit`` UTF-16 units, broken at a paragraph, line,
    sentence or word boundary when one lies in the last fifth of a part."""
    parts: list[str] = []
    rest = text.strip()
    while rest:
        if utf16_units(rest) <= limit:
            parts.append(rest)
            break
        cut = _longest_prefix(rest, limit)
        parts.append(rest[:_break_before(rest, cut)].rstrip())
        rest = rest[len(parts[-1]):].lstrip()
    return [part for part in parts if part]


def _longest_prefix(text: str, limit: int) -> int:
    units = 0
    for index, ch in enumerate(text):
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def _break_before(text: str, cut: int) -> int:
    floor = cut - cut // 5
    for separator in ("\n\n", "\n", ". ", "。", " "):
        found = text.rfind(separator, floor, cut)
        if found > 0:
            return found + len(separator.rstrip()) if separator.strip() else found
    return cut


def batches(parts: Sequence[str],
            size: int = MAX_MESSAGES_PER_CALL) -> list[list[str]]:
    """The parts grouped into calls of at most ``size`` messages."""
    return [list(parts[i:i + size]) for i in range(0, len(parts), size)]
