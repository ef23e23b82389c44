"""Text the project writes itself: English and Thai sentences in the register of contracts,
leases, NDAs and financial statements, assembled from templates with a seeded generator. It
trains the tiny model's tokenizer and feeds the FP8 fine-tuning runs and the precision report
(a training split and a held-out split that never share a seed)."""

from __future__ import annotations

import random

_PARTIES_EN = [
    "Siam Harbour Logistics Co., Ltd.", "Chao Phraya Capital Public Company Limited",
    "Northern Rice Traders Ltd.", "Bangkok Office Towers REIT", "Andaman Marine Insurance plc",
    "Lanna Software Co., Ltd.", "Eastern Seaboard Industrial Estate", "Mekong Agro Holdings",
    "the Lessor", "the Lessee", "the Disclosing Party", "the Receiving Party", "the Borrower",
    "the Lender", "the Guarantor", "the Contractor", "the Employer", "the Company",
]
_CLAUSES_EN = [
    "This Agreement shall be governed by and construed in accordance with the laws of {law}.",
    "The term of this Lease commences on {date} and expires on {date2} unless renewed.",
    "{party} shall pay a monthly rent of {amount} baht on or before the {day} day of each month.",
    "Either party may terminate this Agreement by giving {days} days prior written notice.",
    "The aggregate liability of {party} shall not exceed {amount} baht in any contract year.",
    "{party} shall keep all Confidential Information strictly confidential for {years} years.",
    "Any dispute shall be finally settled by arbitration in {city} under the rules of {forum}.",
    "This Agreement renews automatically for successive terms of {years} years.",
    "{party} shall indemnify {party2} against all losses arising from a breach of warranty.",
    "Late payments bear interest at {rate} percent per annum until paid in full.",
    "Neither party may assign this Agreement without the prior written consent of the other.",
    "A security deposit equal to {months} months of rent is payable upon signing.",
    "Force majeure includes flood, epidemic, war and acts of government beyond control.",
    "{party} grants {party2} a non-exclusive licence to use the software in {city}.",
]
_FINANCE_EN = [
    "Total assets were {amount} million baht as at 31 December {year}.",
    "Revenue for the year ended 31 December {year} rose {rate} percent to {amount} million baht.",
    "Net profit attributable to owners of the parent was {amount} million baht in {year}.",
    "Total liabilities of {amount} million baht and equity of {amount2} million baht.",
    "Cash and cash equivalents at the end of the period amounted to {amount} thousand baht.",
    "Trade and other receivables decreased to {amount} million baht in Q{quarter} {year}.",
    "The current ratio improved from {ratio} to {ratio2} compared with the prior year.",
    "Earnings per share were {eps} baht, against {eps2} baht in {year}.",
    "Operating cash flow was {amount} million baht; capital expenditure {amount2} million baht.",
    "The auditor issued an unqualified opinion on the consolidated financial statements.",
    "Interest-bearing debt to equity stood at {ratio} times at year end.",
    "Gross margin was {rate} percent and selling and administrative expenses rose {rate2} percent.",
    "Dividends of {eps} baht per share were approved by the annual general meeting.",
]
_PARTIES_TH = [
    "บริษัท สยามฮาร์เบอร์ โลจิสติกส์ จำกัด", "บริษัท เจ้าพระยา แคปปิตอล จำกัด (มหาชน)",
    "ผู้ให้เช่า", "ผู้เช่า", "ผู้เปิดเผยข้อมูล", "ผู้รับข้อมูล", "ผู้กู้", "ผู้ให้กู้",
    "ผู้ค้ำประกัน", "ผู้รับจ้าง", "ผู้ว่าจ้าง", "บริษัท ล้านนา ซอฟต์แวร์ จำกัด",
]
_CLAUSES_TH = [
    "สัญญานี้ให้ใช้บังคับและตีความตามกฎหมายแห่งราชอาณาจักรไทย",
    "สัญญาเช่านี้มีระยะเวลา {years} ปี นับตั้งแต่วันที่ {date}",
    "{party} ตกลงชำระค่าเช่าเดือนละ {amount} บาท ภายในวันที่ {day} ของทุกเดือน",
    "คู่สัญญาฝ่ายใดฝ่ายหนึ่งอาจบอกเลิกสัญญาโดยแจ้งเป็นหนังสือล่วงหน้าไม่น้อยกว่า {days} วัน",
    "ความรับผิดรวมของ{party}ไม่เกิน {amount} บาท",
    "{party} ต้องเก็บรักษาข้อมูลที่เป็นความลับไว้เป็นความลับเป็นเวลา {years} ปี",
    "ข้อพิพาทใดๆ ให้ระงับโดยอนุญาโตตุลาการ ณ กรุงเทพมหานคร",
    "{party} ต้องวางเงินประกันเท่ากับค่าเช่า {months} เดือน ในวันทำสัญญา",
    "หากชำระเงินล่าช้า ต้องเสียดอกเบี้ยในอัตราร้อยละ {rate} ต่อปี",
    "ห้ามมิให้โอนสิทธิตามสัญญานี้โดยไม่ได้รับความยินยอมเป็นหนังสือจาก{party}",
    "สัญญานี้ต่ออายุโดยอัตโนมัติคราวละ {years} ปี",
    "เหตุสุดวิสัย ได้แก่ อุทกภัย โรคระบาด สงคราม และการกระทำของรัฐ",
]
_FINANCE_TH = [
    "สินทรัพย์รวม ณ วันที่ 31 ธันวาคม {year} เท่ากับ {amount} ล้านบาท",
    "รายได้รวมสำหรับปี {year} เพิ่มขึ้นร้อยละ {rate} เป็น {amount} ล้านบาท",
    "กำไรสุทธิส่วนที่เป็นของผู้ถือหุ้นของบริษัทใหญ่เท่ากับ {amount} ล้านบาท",
    "หนี้สินรวม {amount} ล้านบาท และส่วนของผู้ถือหุ้น {amount2} ล้านบาท",
    "เงินสดและรายการเทียบเท่าเงินสด ณ วันสิ้นงวด {amount} พันบาท",
    "ลูกหนี้การค้าและลูกหนี้อื่นลดลงเป็น {amount} ล้านบาท ในไตรมาสที่ {quarter} ปี {year}",
    "อัตราส่วนสภาพคล่องเพิ่มขึ้นจาก {ratio} เป็น {ratio2} เท่า",
    "กำไรต่อหุ้นเท่ากับ {eps} บาท เทียบกับ {eps2} บาท ในปีก่อน",
    "ผู้สอบบัญชีแสดงความเห็นอย่างไม่มีเงื่อนไขต่องบการเงินรวม",
    "งบแสดงฐานะการเงิน งบกำไรขาดทุนเบ็ดเสร็จ และงบกระแสเงินสด",
    "ที่ประชุมผู้ถือหุ้นอนุมัติการจ่ายเงินปันผลหุ้นละ {eps} บาท",
]
_LAWS = ["Thailand", "England and Wales", "Singapore", "the State of New York", "Hong Kong"]
_CITIES = ["Bangkok", "Chiang Mai", "Singapore", "London", "Phuket", "Khon Kaen"]
_FORUMS = ["the Thai Arbitration Institute", "SIAC", "the ICC", "UNCITRAL"]
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"]


def _fill(template: str, rng: random.Random, parties: list[str]) -> str:
    year = rng.randint(2015, 2026)
    values = {
        "party": rng.choice(parties), "party2": rng.choice(parties),
        "law": rng.choice(_LAWS), "city": rng.choice(_CITIES), "forum": rng.choice(_FORUMS),
        "date": f"{rng.randint(1, 28)} {rng.choice(_MONTHS)} {year}",
        "date2": f"{rng.randint(1, 28)} {rng.choice(_MONTHS)} {year + rng.randint(1, 5)}",
        "amount": f"{rng.randint(1, 99_999):,}", "amount2": f"{rng.randint(1, 99_999):,}",
        "day": str(rng.randint(1, 28)), "days": str(rng.choice([7, 15, 30, 60, 90])),
        "years": str(rng.randint(1, 10)), "months": str(rng.randint(1, 6)),
        "rate": f"{rng.uniform(0.5, 25):.1f}", "rate2": f"{rng.uniform(0.5, 25):.1f}",
        "ratio": f"{rng.uniform(0.3, 3):.2f}", "ratio2": f"{rng.uniform(0.3, 3):.2f}",
        "eps": f"{rng.uniform(0.05, 12):.2f}", "eps2": f"{rng.uniform(0.05, 12):.2f}",
        "year": str(year), "quarter": str(rng.randint(1, 4)),
    }
    return template.format(**values)


def sentences(count: int, *, seed: int) -> list[str]:
    """``count`` sentences, about half English and half Thai, legal and financial."""
    rng = random.Random(seed)
    pools = [
        (_CLAUSES_EN, _PARTIES_EN), (_FINANCE_EN, _PARTIES_EN),
        (_CLAUSES_TH, _PARTIES_TH), (_FINANCE_TH, _PARTIES_TH),
    ]
    out = []
    for _ in range(count):
        templates, parties = rng.choice(pools)
        out.append(_fill(rng.choice(templates), rng, parties))
    return out


def training_text(count: int = 4000) -> list[str]:
    """The training split: tokenizer training and fine-tuning read this."""
    return sentences(count, seed=1)


def held_out_text(count: int = 200) -> list[str]:
    """The held-out split: perplexity and evaluation loss read this, never training."""
    return sentences(count, seed=2)
