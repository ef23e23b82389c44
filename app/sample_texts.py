"""The wording of LexLedger's sample legal documents (see app.samples, which lays them out as PDFs
and records their facts): an English master services agreement and a Thai shop-house lease. Each
document is a list of (heading, body) sections; a body's lines are paragraphs. The lists of CUAD
clause categories that the agreement does and does not contain live here next to the wording they
describe, so the two cannot drift apart.
"""

from __future__ import annotations

CONTRACT_TITLE = "MASTER SERVICES AND SUPPLY AGREEMENT"

CONTRACT_SECTIONS: list[tuple[str, str]] = [
    ("", (
        "This Master Services and Supply Agreement (the \"Agreement\") is entered into on "
        "February 15, 2024 by and between Northwind Analytics LLC, a Delaware limited liability "
        "company with its principal office at 400 Park Avenue South, New York, NY 10016 "
        "(\"Provider\"), and Harbor Freight Logistics Inc., a New Jersey corporation with its "
        "principal office at 12 Port Terminal Road, Newark, NJ 07114 (\"Customer\"). Provider and "
        "Customer are each a \"Party\" and together the \"Parties\".\n"
        "WHEREAS Provider supplies route-optimization software, data feeds and related "
        "professional services, and Customer wishes to obtain those services for its freight "
        "operations on the terms below, the Parties agree as follows."
    )),
    ("1. Definitions", (
        "\"Services\" means the hosted route-optimization platform, the daily carrier data feed, "
        "implementation, training and support described in Schedule A. \"Deliverables\" means "
        "reports, configurations and other materials Provider prepares for Customer under a "
        "statement of work. \"Confidential Information\" has the meaning given in Section 9."
    )),
    ("2. Effective Date and Term", (
        "This Agreement takes effect on March 1, 2024 (the \"Effective Date\") and continues for "
        "an initial term of thirty-six (36) months, ending on February 28, 2027 (the \"Initial "
        "Term\").\n"
        "After the Initial Term this Agreement renews automatically for successive renewal terms "
        "of twelve (12) months each, unless either Party gives the other written notice of "
        "non-renewal at least ninety (90) days before the end of the then-current term."
    )),
    ("3. Services and Supply", (
        "Provider shall perform the Services with reasonable skill and care, in accordance with "
        "the service levels in Schedule B, and shall supply the data feed each business day by "
        "6:00 a.m. Eastern Time. Provider warrants that the Services will perform materially as "
        "described in the documentation for a period of twelve (12) months after acceptance of "
        "each Deliverable; Customer's sole remedy for breach of this warranty is re-performance "
        "or, failing that, a refund of the fees paid for the non-conforming Deliverable."
    )),
    ("4. Fees and Payment Terms", (
        "Customer shall pay Provider a monthly subscription fee of USD 48,500.00 and a one-time "
        "implementation fee of USD 120,000.00, invoiced on the Effective Date. Customer commits "
        "to minimum annual purchases of USD 450,000.00 in each contract year.\n"
        "Provider shall invoice monthly in arrears. Invoices are payable within thirty (30) days "
        "of receipt. Undisputed amounts not paid when due bear interest at 1.5% per month or the "
        "highest rate permitted by law, whichever is lower. All amounts are stated and payable "
        "in United States dollars and exclude applicable sales taxes."
    )),
    ("5. Audit Rights", (
        "During the term and for two (2) years afterwards, Customer may, once per calendar year "
        "and on thirty (30) days' written notice, audit Provider's records relating to the fees "
        "charged under this Agreement. If an audit reveals an overcharge of more than five "
        "percent (5%), Provider shall refund the overcharge and reimburse the reasonable cost of "
        "the audit."
    )),
    ("6. Termination", (
        "Either Party may terminate this Agreement for convenience at any time by giving the "
        "other Party sixty (60) days' prior written notice. Either Party may terminate this "
        "Agreement immediately by written notice if the other Party materially breaches it and "
        "fails to cure the breach within thirty (30) days of notice, or becomes insolvent.\n"
        "On termination Provider shall, for up to ninety (90) days and at its then-current "
        "rates, provide reasonable transition assistance and return all Customer data in a "
        "commonly used format."
    )),
    ("7. Limitation of Liability", (
        "Except for breach of Section 9 or a Party's indemnity obligations, each Party's total "
        "liability arising out of or relating to this Agreement shall not exceed the fees paid or "
        "payable by Customer in the twelve (12) months preceding the event giving rise to the "
        "claim. Neither Party is liable for indirect, incidental, special or consequential "
        "damages, including lost profits, even if advised of their possibility."
    )),
    ("8. Insurance", (
        "Provider shall maintain, at its own cost, commercial general liability insurance of at "
        "least USD 2,000,000.00 per occurrence, professional liability (errors and omissions) "
        "insurance of at least USD 5,000,000.00 in the aggregate, and workers' compensation "
        "insurance as required by law, and shall provide certificates of insurance on request."
    )),
    ("9. Confidentiality", (
        "Each Party shall keep the other Party's Confidential Information in confidence, use it "
        "only to perform this Agreement, and disclose it only to employees and advisers who need "
        "to know it and are bound by similar duties. These obligations survive for five (5) "
        "years after termination. Confidential Information does not include information that is "
        "public through no fault of the receiving Party or was independently developed."
    )),
    ("10. Intellectual Property", (
        "Customer owns all Deliverables created specifically for Customer, and Provider hereby "
        "assigns to Customer all right, title and interest in them on payment. Provider retains "
        "ownership of its platform, tools and pre-existing materials."
    )),
    ("11. Non-Competition and Non-Solicitation", (
        "During the term and for twelve (12) months afterwards, Provider shall not provide "
        "route-optimization services to any freight forwarder operating from the Port of Newark "
        "that competes directly with Customer. During the same period neither Party shall "
        "solicit for employment any employee of the other Party who worked on the Services."
    )),
    ("12. Assignment and Change of Control", (
        "Neither Party may assign or transfer this Agreement, in whole or in part, without the "
        "prior written consent of the other Party, which shall not be unreasonably withheld. A "
        "change of control of Provider is treated as an assignment, and Customer may terminate "
        "this Agreement on thirty (30) days' notice after such a change of control."
    )),
    ("13. Force Majeure", (
        "Neither Party is liable for a delay caused by events beyond its reasonable control, "
        "such as natural disasters, war or failures of public networks, provided that it "
        "notifies the other Party promptly and resumes performance as soon as possible."
    )),
    ("14. Governing Law and Disputes", (
        "This Agreement is governed by the laws of the State of New York, without regard to its "
        "conflict-of-laws rules. The state and federal courts located in New York County, New "
        "York have exclusive jurisdiction over any dispute arising out of this Agreement."
    )),
    ("15. Data Protection and Security", (
        "Provider shall process shipment and personal data only on Customer's documented "
        "instructions, keep it in data centers located in the United States, protect it with "
        "encryption in transit and at rest, and notify Customer of any security breach affecting "
        "Customer data within seventy-two (72) hours of discovering it. Provider shall maintain "
        "an annual SOC 2 Type II report and make it available to Customer on request."
    )),
    ("16. Indemnification", (
        "Provider shall defend and indemnify Customer against third-party claims that the "
        "Services infringe a United States patent, copyright or trademark, and against claims "
        "arising from Provider's gross negligence or willful misconduct. Customer shall defend "
        "and indemnify Provider against claims arising from data Customer supplies in breach of "
        "law. The indemnified Party must give prompt notice of the claim and reasonable "
        "cooperation, and the indemnifying Party controls the defense and any settlement."
    )),
    ("17. Notices and General", (
        "Notices must be in writing and delivered by hand, by courier or by email with "
        "confirmation to the addresses above. This Agreement, with its Schedules, is the entire "
        "agreement between the Parties and may be amended only in writing signed by both.\n"
        "IN WITNESS WHEREOF, the Parties have executed this Agreement as of the date first "
        "written above.\n"
        "NORTHWIND ANALYTICS LLC    By: Daniel Okafor, Chief Executive Officer\n"
        "HARBOR FREIGHT LOGISTICS INC.    By: Maria Castellano, Vice President, Operations"
    )),
]

# CUAD categories the agreement above contains, and a selection it deliberately lacks
CONTRACT_CLAUSES_PRESENT = [
    "Document Name", "Parties", "Agreement Date", "Effective Date", "Expiration Date",
    "Renewal Term", "Notice Period To Terminate Renewal", "Governing Law", "Non-Compete",
    "No-Solicit Of Employees", "Termination For Convenience", "Change Of Control",
    "Anti-Assignment", "Minimum Commitment", "Ip Ownership Assignment", "Audit Rights",
    "Cap On Liability", "Warranty Duration", "Insurance", "Post-Termination Services",
    # the cap's carve-outs (breach of confidentiality, indemnities) leave those uncapped
    "Uncapped Liability",
]
CONTRACT_CLAUSES_ABSENT = [
    "Most Favored Nation", "Exclusivity", "Revenue/Profit Sharing", "Price Restrictions",
    "Rofr/Rofo/Rofn", "Joint Ip Ownership", "License Grant", "Source Code Escrow",
    "Liquidated Damages", "Covenant Not To Sue",
    "Third Party Beneficiary", "Non-Disparagement", "Volume Restriction",
]

LEASE_TITLE = "สัญญาเช่าอาคารพาณิชย์"

LEASE_SECTIONS: list[tuple[str, str]] = [
    ("", (
        "สัญญาฉบับนี้ทำขึ้นที่ จังหวัดเชียงใหม่ เมื่อวันที่ 15 พฤษภาคม พ.ศ. 2567 ระหว่าง "
        "นางสาวพิมพ์ชนก ศรีสุวรรณ อยู่บ้านเลขที่ 21 ถนนห้วยแก้ว ตำบลสุเทพ อำเภอเมืองเชียงใหม่ "
        "ซึ่งต่อไปในสัญญานี้เรียกว่า \"ผู้ให้เช่า\" ฝ่ายหนึ่ง กับ บริษัท ลานนา ดิจิทัล จำกัด "
        "โดย นายธนกร วงศ์ใหญ่ กรรมการผู้มีอำนาจ ซึ่งต่อไปในสัญญานี้เรียกว่า \"ผู้เช่า\" อีกฝ่ายหนึ่ง "
        "ทั้งสองฝ่ายตกลงทำสัญญากันดังมีข้อความต่อไปนี้"
    )),
    ("ข้อ ๑ ทรัพย์สินที่เช่า", (
        "ผู้ให้เช่าตกลงให้เช่า และผู้เช่าตกลงเช่า อาคารพาณิชย์เลขที่ 88/12 ถนนนิมมานเหมินท์ "
        "ตำบลสุเทพ อำเภอเมืองเชียงใหม่ จังหวัดเชียงใหม่ สูง ๓ ชั้น พื้นที่ใช้สอยประมาณ ๒๔๐ "
        "ตารางเมตร พร้อมที่จอดรถ ๒ คัน เพื่อใช้เป็นสำนักงานของผู้เช่าเท่านั้น"
    )),
    ("ข้อ ๒ ระยะเวลาการเช่า", (
        "สัญญาเช่านี้มีกำหนดระยะเวลา ๓ ปี เริ่มตั้งแต่วันที่ 1 มิถุนายน พ.ศ. 2567 "
        "และสิ้นสุดวันที่ 31 พฤษภาคม พ.ศ. 2570"
    )),
    ("ข้อ ๓ ค่าเช่าและการชำระเงิน", (
        "ผู้เช่าตกลงชำระค่าเช่าเป็นรายเดือน เดือนละ 35,000 บาท (สามหมื่นห้าพันบาทถ้วน) "
        "หรือ ๓๕,๐๐๐ บาท ภายในวันที่ ๕ ของทุกเดือน โดยโอนเข้าบัญชีธนาคารของผู้ให้เช่า\n"
        "หากผู้เช่าชำระค่าเช่าล่าช้า ผู้เช่าตกลงชำระค่าปรับวันละ 500 บาท "
        "นับแต่วันครบกำหนดชำระจนถึงวันที่ชำระครบถ้วน ค่าน้ำประปา ค่าไฟฟ้า "
        "และค่าโทรศัพท์ ผู้เช่าเป็นผู้ชำระตามจำนวนที่ใช้จริง"
    )),
    ("ข้อ ๔ เงินประกันการเช่า", (
        "ในวันทำสัญญานี้ ผู้เช่าได้วางเงินประกันการเช่าเป็นจำนวน 105,000 บาท "
        "(หนึ่งแสนห้าพันบาทถ้วน) เท่ากับค่าเช่า ๓ เดือน ผู้ให้เช่าจะคืนเงินประกัน "
        "ภายใน ๓๐ วัน นับแต่วันที่สัญญาสิ้นสุดและผู้เช่าได้ส่งมอบทรัพย์สินคืนในสภาพเรียบร้อย "
        "หักด้วยค่าเสียหายหรือหนี้ค้างชำระ (ถ้ามี)"
    )),
    ("ข้อ ๕ หน้าที่ของผู้เช่า", (
        "ผู้เช่าต้องดูแลรักษาทรัพย์สินที่เช่าเสมือนวิญญูชนจะพึงสงวนทรัพย์สินของตนเอง "
        "จะไม่ดัดแปลงต่อเติมโดยไม่ได้รับความยินยอมเป็นหนังสือจากผู้ให้เช่า "
        "และจะไม่นำทรัพย์สินที่เช่าออกให้ผู้อื่นเช่าช่วงหรือโอนสิทธิการเช่า "
        "โดยไม่ได้รับความยินยอมเป็นหนังสือจากผู้ให้เช่า"
    )),
    ("ข้อ ๖ การต่อสัญญา", (
        "หากผู้เช่าประสงค์จะต่อสัญญาเช่า ผู้เช่าต้องแจ้งเป็นหนังสือให้ผู้ให้เช่าทราบ "
        "ล่วงหน้าไม่น้อยกว่า ๖๐ วัน ก่อนวันสิ้นสุดสัญญา โดยคู่สัญญาจะตกลงอัตราค่าเช่าใหม่ "
        "ซึ่งต้องไม่เพิ่มขึ้นเกินร้อยละ ๕ ของค่าเช่าเดิม"
    )),
    ("ข้อ ๗ การเลิกสัญญา", (
        "หากผู้เช่าผิดนัดชำระค่าเช่าติดต่อกันเกิน ๒ เดือน หรือผิดสัญญาข้อหนึ่งข้อใด "
        "ผู้ให้เช่ามีสิทธิบอกเลิกสัญญาได้ทันทีโดยแจ้งเป็นหนังสือ\n"
        "ผู้เช่าอาจบอกเลิกสัญญาก่อนครบกำหนดได้ โดยแจ้งเป็นหนังสือล่วงหน้าไม่น้อยกว่า ๙๐ วัน "
        "ในกรณีนี้ผู้ให้เช่ามีสิทธิริบเงินประกันการเช่าหนึ่งเดือน"
    )),
    ("ข้อ ๘ การซ่อมแซมและการประกันภัย", (
        "ผู้ให้เช่าเป็นผู้รับผิดชอบการซ่อมแซมใหญ่ เช่น โครงสร้างอาคาร หลังคา "
        "และระบบท่อประปาหลัก ส่วนการซ่อมแซมเล็กน้อยและการบำรุงรักษาตามปกติ "
        "ผู้เช่าเป็นผู้รับผิดชอบค่าใช้จ่ายเอง\n"
        "ผู้ให้เช่าจะจัดให้มีการประกันอัคคีภัยสำหรับตัวอาคาร ส่วนผู้เช่าจะจัดให้มี "
        "การประกันภัยทรัพย์สินของผู้เช่าที่อยู่ภายในอาคารด้วยค่าใช้จ่ายของผู้เช่าเอง"
    )),
    ("ข้อ ๙ ภาษีและค่าธรรมเนียม", (
        "ภาษีที่ดินและสิ่งปลูกสร้างเป็นภาระของผู้ให้เช่า ส่วนค่าอากรแสตมป์ "
        "และค่าธรรมเนียมการจดทะเบียนการเช่า (ถ้ามี) คู่สัญญาตกลงออกคนละครึ่ง"
    )),
    ("ข้อ ๑๐ การส่งมอบทรัพย์สินคืน", (
        "เมื่อสัญญาสิ้นสุดลงไม่ว่าด้วยเหตุใด ผู้เช่าต้องขนย้ายทรัพย์สินของตนออก "
        "และส่งมอบอาคารคืนแก่ผู้ให้เช่าในสภาพเดียวกับที่รับไป เว้นแต่การเสื่อมสภาพตามปกติ "
        "ภายใน ๑๕ วัน นับแต่วันที่สัญญาสิ้นสุด"
    )),
    ("ข้อ ๑๑ กฎหมายที่ใช้บังคับ", (
        "สัญญานี้อยู่ภายใต้บังคับแห่งกฎหมายไทย คู่สัญญาได้อ่านและเข้าใจข้อความในสัญญานี้โดยตลอดแล้ว "
        "จึงได้ลงลายมือชื่อไว้เป็นสำคัญต่อหน้าพยาน\n"
        "ลงชื่อ ผู้ให้เช่า (นางสาวพิมพ์ชนก ศรีสุวรรณ)\n"
        "ลงชื่อ ผู้เช่า (นายธนกร วงศ์ใหญ่) บริษัท ลานนา ดิจิทัล จำกัด\n"
        "ลงชื่อ พยาน (นายสมชาย ใจดี)"
    )),
]
