"""The web page's words in English and Thai. The language comes from the ``lang`` cookie, else
from the browser's Accept-Language; a key missing in Thai falls back to English."""

from __future__ import annotations

from collections.abc import Callable

LANGUAGES = ("en", "th")

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "app": "LexLedger", "sign_in": "Sign in", "sign_out": "Sign out",
        "api_key": "API key", "api_key_help": "Paste the API key you were given (llk_...).",
        "bad_key": "That API key was not accepted.",
        "upload": "Upload", "drop_here": "Drop PDFs here, or choose files",
        "choose": "Choose files", "uploading": "Uploading...",
        "several_make_batch": "Several files become one batch with live progress.",
        "documents": "Documents", "batches": "Batches", "file": "File", "status": "Status",
        "type": "Type", "pages": "Pages", "created": "Created", "name": "Name",
        "progress": "Progress", "no_documents": "No documents yet.",
        "no_batches": "No batches yet.", "document": "Document", "batch": "Batch",
        "result": "Result", "no_result": "No result yet.", "reason": "Reason",
        "page": "Page", "cited": "cited", "verified": "verified", "unverified": "unverified",
        "flags": "Page flags", "ask": "Ask a question about this document",
        "ask_button": "Ask", "answer": "Answer", "asking": "Thinking...",
        "ask_unavailable": "Questions are not available on this server yet.",
        "cancel": "Cancel", "retry": "Retry failed", "export": "Export",
        "throughput": "documents/min", "eta": "ETA", "back": "Back",
        "model_note": "Model", "language": "Language", "highlight": "Cited text is highlighted.",
        "sections.doc_type": "Document type", "sections.legal": "Legal",
        "sections.fields": "Key fields", "sections.clauses": "Clauses",
        "sections.risk_flags": "Risk flags", "sections.summary": "Summary",
        "sections.financial": "Financial", "sections.statements": "Statements",
        "sections.line_items": "Financial items", "sections.checks": "Checks",
        "sections.ratios": "Ratios",
        "status.queued": "queued", "status.parsing": "parsing", "status.analysing": "analysing",
        "status.verifying": "verifying", "status.done": "done", "status.failed": "failed",
        "status.cancelled": "cancelled", "status.running": "running",
    },
    "th": {
        "sign_in": "เข้าสู่ระบบ", "sign_out": "ออกจากระบบ", "api_key": "คีย์ API",
        "api_key_help": "วางคีย์ API ที่ได้รับ (llk_...)",
        "bad_key": "คีย์ API นี้ใช้ไม่ได้",
        "upload": "อัปโหลด", "drop_here": "ลากไฟล์ PDF มาวางที่นี่ หรือเลือกไฟล์",
        "choose": "เลือกไฟล์", "uploading": "กำลังอัปโหลด...",
        "several_make_batch": "หลายไฟล์จะรวมเป็นชุดเดียวพร้อมแสดงความคืบหน้า",
        "documents": "เอกสาร", "batches": "ชุดเอกสาร", "file": "ไฟล์", "status": "สถานะ",
        "type": "ประเภท", "pages": "หน้า", "created": "สร้างเมื่อ", "name": "ชื่อ",
        "progress": "ความคืบหน้า", "no_documents": "ยังไม่มีเอกสาร",
        "no_batches": "ยังไม่มีชุดเอกสาร", "document": "เอกสาร", "batch": "ชุดเอกสาร",
        "result": "ผลการวิเคราะห์", "no_result": "ยังไม่มีผลการวิเคราะห์", "reason": "เหตุผล",
        "page": "หน้า", "cited": "อ้างอิง", "verified": "ตรวจสอบแล้ว",
        "unverified": "ยังไม่ได้ยืนยัน", "flags": "ข้อสังเกตของหน้า",
        "ask": "ถามคำถามเกี่ยวกับเอกสารนี้", "ask_button": "ถาม", "answer": "คำตอบ",
        "asking": "กำลังคิด...", "ask_unavailable": "เซิร์ฟเวอร์นี้ยังไม่รองรับการถามคำถาม",
        "cancel": "ยกเลิก", "retry": "ลองใหม่เฉพาะที่ล้มเหลว", "export": "ส่งออก",
        "throughput": "เอกสาร/นาที", "eta": "เวลาที่เหลือโดยประมาณ", "back": "กลับ",
        "model_note": "โมเดล", "language": "ภาษา", "highlight": "ข้อความที่อ้างอิงถูกไฮไลต์ไว้",
        "sections.doc_type": "ประเภทเอกสาร", "sections.legal": "กฎหมาย",
        "sections.fields": "ข้อมูลสำคัญ", "sections.clauses": "ข้อสัญญา",
        "sections.risk_flags": "ความเสี่ยง", "sections.summary": "สรุป",
        "sections.financial": "การเงิน", "sections.statements": "งบการเงิน",
        "sections.line_items": "รายการทางการเงิน", "sections.checks": "การตรวจสอบ",
        "sections.ratios": "อัตราส่วน",
        "status.queued": "รอคิว", "status.parsing": "กำลังอ่านไฟล์",
        "status.analysing": "กำลังวิเคราะห์", "status.verifying": "กำลังตรวจสอบ",
        "status.done": "เสร็จแล้ว", "status.failed": "ล้มเหลว", "status.cancelled": "ยกเลิกแล้ว",
        "status.running": "กำลังทำงาน",
    },
}


def pick_language(cookie: str | None, accept_language: str | None) -> str:
    """The language to show: the cookie's choice, else Thai for browsers that ask for it."""
    if cookie in LANGUAGES:
        return cookie
    if accept_language and accept_language.lower().lstrip().startswith("th"):
        return "th"
    return "en"


def translator(lang: str) -> Callable[[str], str]:
    """``t(key)`` for the templates: the word in ``lang``, else English, else a readable key."""
    table, english = STRINGS.get(lang, {}), STRINGS["en"]

    def t(key: str) -> str:
        if key in table:
            return table[key]
        if key in english:
            return english[key]
        return key.rsplit(".", 1)[-1].replace("_", " ").capitalize()

    return t
