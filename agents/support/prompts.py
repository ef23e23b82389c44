"""What the support agent says: the model's instructions, and the fixed sentences for an answer
quoted straight from the evidence or for evidence that is not there, in each language."""

from __future__ import annotations

LANGUAGE_NAMES = {"en": "English", "th": "Thai", "zh": "Chinese", "ja": "Japanese"}

SYSTEM = (
    "You answer customers' questions about their own legal and financial documents. Use only "
    "the numbered evidence passages. Answer in {language}, in at most four short sentences. "
    "End every sentence that states a fact with the number of the passage that says it, like "
    "[1] or [2]. Copy numbers, dates and names exactly as the passage writes them. If the "
    "passages do not contain the answer, reply exactly: NOT_FOUND"
)

EVIDENCE_HEADER = "Evidence passages:"

NOT_FOUND = {
    "en": "I could not find this in your documents.",
    "th": "ไม่พบข้อมูลนี้ในเอกสารของคุณ",
    "zh": "在您的文件中没有找到这方面的信息。",
    "ja": "お客様の書類にはこの情報が見つかりませんでした。",
}

# an answer quoted from the evidence when no model answer is available or verifiable
QUOTED = {
    "en": "According to {filename}, page {page}: \u201c{quote}\u201d",
    "th": "ตามเอกสาร {filename} หน้า {page}: \u201c{quote}\u201d",
    "zh": "根据 {filename} 第 {page} 页：\u201c{quote}\u201d",
    "ja": "{filename} の {page} ページによると：\u201c{quote}\u201d",
}

# a figure read from a statement: "233,715 (in millions): Net sales, fiscal year 2015 (...)"
FIGURE = {
    "en": "{figure}, in {filename}",
    "th": "{figure} ตามเอกสาร {filename} หน้า {page}",
    "zh": "{figure}，见 {filename} 第 {page} 页",
    "ja": "{figure}（{filename} の {page} ページ）",
}

# the periods a document's statements cover, after "not found"
COVERED = {
    "en": " Its statements cover: {periods}.",
    "th": " งบการเงินในเอกสารครอบคลุม: {periods}",
    "zh": " 其报表涵盖：{periods}。",
    "ja": " 財務諸表の対象期間：{periods}。",
}

# statements that may be on pages whose text cannot be read (no text layer OCR could read, or
# a garbled one), after "not found"
UNREADABLE = {
    "en": " These pages could not be read: {pages}.",
    "th": " หน้าเหล่านี้อ่านข้อความไม่ได้: {pages}",
    "zh": " 以下页面无法读取：{pages}。",
    "ja": " 次のページは読み取れませんでした：{pages}。",
}

COLUMNS = {
    "en": " (columns: {periods})",
    "th": " (คอลัมน์: {periods})",
    "zh": "（栏目：{periods}）",
    "ja": "（列：{periods}）",
}

FOLLOW_UP = "Earlier in this conversation the customer asked: {question}\nYou answered: {answer}"
