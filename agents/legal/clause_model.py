"""The clause classifier: for each CUAD category, a sparse logistic regression over a passage's
words and word pairs, its section heading and which of the category rules it matches; a
category is present in a contract when its best passage scores above the category's threshold,
and that passage (with the next best above it) is the citation. Weights and thresholds are
learned by ``agents.legal.clause_training`` from labelled contracts and stored in
``data/clause_model.json``; a category with too few labelled contracts to learn from keeps the
rules' decision. Scoring a 50-page contract takes a few hundred milliseconds of CPU."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer

from agents.legal.passages import Passage

MODEL_FILE = Path(__file__).with_name("data") / "clause_model.json"
FEATURES = 2 ** 18
# answered from the extracted fields, never learned
FIELD_CATEGORIES = {"Document Name": "title", "Parties": "parties",
                    "Agreement Date": "agreement_date", "Effective Date": "effective_date"}
# a section heading that names the category is evidence of its own
HEADING_CUES: dict[str, str] = {
    "Renewal Term": r"renew|term",
    "Notice Period to Terminate Renewal": r"renew|term",
    "Expiration Date": r"\bterm\b|duration|expir",
    "Governing Law": r"governing law|applicable law|choice of law",
    "Most Favored Nation": r"most favou?red|pricing",
    "Non-Compete": r"non-?compet|restrictive covenant|exclusiv|competi",
    "Competitive Restriction Exception": r"non-?compet|restrictive covenant|exclusiv|competi",
    "Exclusivity": r"exclusiv",
    "No-Solicit of Customers": r"solicit",
    "No-Solicit of Employees": r"solicit|hiring|employees",
    "Non-Disparagement": r"disparag|publicity",
    "Termination for Convenience": r"terminat",
    "Rofr/Rofo/Rofn": r"first (?:refusal|offer|negotiation)|option",
    "Change of Control": r"change (?:of|in) control|assignment",
    "Anti-Assignment": r"assign|transfer|successors",
    "Revenue/Profit Sharing": r"royalt|revenue|profit|payment|compensation",
    "Price Restrictions": r"pric",
    "Minimum Commitment": r"minimum|purchase|forecast|guarantee",
    "Volume Restriction": r"volume|capacity|quantit|forecast|users",
    "IP Ownership Assignment": r"ownership|intellectual property|inventions|work product",
    "Joint IP Ownership": r"joint|ownership|inventions",
    "License Grant": r"licen[cs]e|grant",
    "Non-Transferable License": r"licen[cs]e|grant",
    "Affiliate License-Licensor": r"licen[cs]e|grant",
    "Affiliate License-Licensee": r"licen[cs]e|grant|sublicens",
    "Unlimited/All-You-Can-Eat-License": r"licen[cs]e|grant",
    "Irrevocable or Perpetual License": r"licen[cs]e|grant",
    "Source Code Escrow": r"escrow|source code",
    "Post-Termination Services": r"effect of (?:termination|expiration)|consequences|"
                                 r"transition|survival|after termination|sell-?off",
    "Audit Rights": r"audit|records|inspection|books",
    "Uncapped Liability": r"limitation|liabilit|damages|exclusion",
    "Cap on Liability": r"limitation|liabilit|damages",
    "Liquidated Damages": r"liquidated|damages|penalt|delay",
    "Warranty Duration": r"warrant",
    "Insurance": r"insurance",
    "Covenant Not to Sue": r"covenant|trademark|challenge|no challenge",
    "Third Party Beneficiary": r"third[- ]party beneficiar|beneficiar",
}
_HEADING_CUES = {c: re.compile(p, re.IGNORECASE) for c, p in HEADING_CUES.items()}


@dataclass
class CategoryModel:
    """One category's weights (feature index -> weight), bias and decision threshold on the
    best passage's score; ``threshold`` None means the rules decide this category, and
    ``trust_rules`` that a rule match counts as well (the rules proved precise for it)."""

    bias: float = 0.0
    weights: dict[int, float] = field(default_factory=dict)
    threshold: float | None = None
    trust_rules: bool = False


@dataclass
class ClauseModel:
    """Every learned category's model, and what it was learned from."""

    categories: dict[str, CategoryModel]
    trained_on: list[str] = field(default_factory=list)

    def scores(self, passages: list[Passage], rule_hits: list[set[str]]) -> dict[str, np.ndarray]:
        """Each category's score for every passage (log-odds)."""
        if not passages or not self.categories:
            return {name: np.zeros(len(passages)) for name in self.categories}
        names, weights, bias = self._stacked
        out = np.asarray((featurize(passages, rule_hits) @ weights).todense()) + bias
        return {name: out[:, col] for col, name in enumerate(names)}

    @cached_property
    def _stacked(self) -> tuple[list[str], sparse.csr_matrix, np.ndarray]:
        """Every category's weights as one sparse matrix (built once per model)."""
        names = list(self.categories)
        rows, cols, values = [], [], []
        for col, name in enumerate(names):
            for index, weight in self.categories[name].weights.items():
                rows.append(index)
                cols.append(col)
                values.append(weight)
        weights = sparse.csr_matrix((values, (rows, cols)), shape=(FEATURES, len(names)))
        return names, weights, np.array([self.categories[n].bias for n in names])

    def to_json(self) -> dict[str, Any]:
        return {"trained_on": self.trained_on, "features": FEATURES,
                "categories": {name: {"bias": round(m.bias, 6), "threshold": m.threshold,
                                      "trust_rules": m.trust_rules,
                                      "weights": {str(i): round(w, 5)
                                                  for i, w in sorted(m.weights.items())}}
                               for name, m in self.categories.items()}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ClauseModel:
        return cls(categories={name: CategoryModel(bias=m["bias"], threshold=m["threshold"],
                                                   trust_rules=m.get("trust_rules", False),
                                                   weights={int(i): w for i, w in
                                                            m["weights"].items()})
                               for name, m in data["categories"].items()},
                   trained_on=list(data.get("trained_on", [])))


@lru_cache(maxsize=1)
def shipped_model() -> ClauseModel | None:
    """The model shipped with LexLedger, or None when it has not been trained."""
    if not MODEL_FILE.exists():
        return None
    return ClauseModel.from_json(json.loads(MODEL_FILE.read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def _vectorizer() -> HashingVectorizer:
    return HashingVectorizer(n_features=FEATURES, ngram_range=(1, 2), alternate_sign=False,
                             norm="l2", lowercase=True)


def describe(text: str, heading: str, hits: set[str]) -> str:
    """A passage as the classifier reads it: its words, its heading's words marked as heading
    words, and one token per category whose rule or heading cue it matches."""
    words = re.sub(r"\[\*+\]|\*\*", " ", text)
    marks = [f"head_{w}" for w in re.findall(r"[a-z]{3,}", heading)]
    marks += [f"rule_{_slug(c)}" for c in sorted(hits)]
    marks += [f"cue_{_slug(c)}" for c, cue in _HEADING_CUES.items() if heading and
              cue.search(heading)]
    return f"{words} {' '.join(marks)}"


def featurize(passages: list[Passage], rule_hits: list[set[str]]) -> sparse.csr_matrix:
    """The passages' feature rows."""
    texts = [describe(p.text, p.heading, hits) for p, hits in zip(passages, rule_hits,
                                                                    strict=True)]
    return _vectorizer().transform(texts).tocsr()


def _slug(category: str) -> str:
    return re.sub(r"[^a-z]+", "_", category.lower()).strip("_")
