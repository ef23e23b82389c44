"""How the clause classifier learns, and how well it does on contracts it has not seen.

Labelled contracts (``lexledger eval`` labels with ``clauses_present`` and the annotated
``clause_text`` of each category) are cut into passages; a passage is a positive example of a
category when most of its word triples lie inside a passage the annotators marked for it, and a
negative one otherwise. The project's own example clauses (``data/clause_examples.jsonl``,
written from the category definitions) are positives in every fit. Each category with labelled
positives in at least ``MIN_CONTRACTS`` contracts gets an L1-regularised logistic regression;
its threshold on the best passage's score is the one that maximises F1 over held-out
contracts (leave-one-contract-out inside the training set), so no threshold is chosen on
scores a contract's own passages were fitted to. ``cross_validate`` repeats all of that with
each contract left out in turn and scores the contract left out: the honest estimate."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from agents.legal.clause_model import (
    FIELD_CATEGORIES,
    CategoryModel,
    ClauseModel,
    featurize,
)
from agents.legal.clauses import cuad_categories, decide_categories, rule_hits
from agents.legal.passages import Passage, split_passages

EXAMPLES_FILE = Path(__file__).with_name("data") / "clause_examples.jsonl"
MIN_CONTRACTS = 3
REGULARISATION_C = 1.0
SHINGLE = 3
POSITIVE_SHARE = 0.5
RULE_PRECISION = 0.8


@dataclass
class LabelledContract:
    """A contract's pages with its clause labels."""

    name: str
    pages: list[tuple[int, str]]
    present: set[str]
    clause_text: dict[str, list[str]]


@dataclass
class Prepared:
    """A contract's passages, their features and, per category, which passages are labelled."""

    name: str
    passages: list[Passage]
    features: sparse.csr_matrix
    positives: dict[str, np.ndarray]
    present: set[str]
    ruled: set[str]  # categories a rule matches somewhere in the contract


def learnable_categories() -> list[str]:
    return [c for c in cuad_categories() if c not in FIELD_CATEGORIES]


def prepare(contract: LabelledContract) -> Prepared:
    passages = split_passages(contract.pages)
    hits = rule_hits([p.text for p in passages])
    positives = {}
    for category in learnable_categories():
        marked = _shingle_set(contract.clause_text.get(category, []))
        positives[category] = np.array([_share_inside(p.text, marked) >= POSITIVE_SHARE
                                        for p in passages], dtype=bool)
    return Prepared(contract.name, passages, featurize(passages, hits), positives,
                    set(contract.present), set().union(*hits) if hits else set())


def example_rows() -> tuple[sparse.csr_matrix, list[str]]:
    """The project's own example clauses as feature rows, with their categories."""
    rows = [json.loads(line) for line in EXAMPLES_FILE.read_text(encoding="utf-8").splitlines()
            if line.strip()]
    passages = [Passage(0, 0, len(r["text"]), r["text"], "") for r in rows]
    return featurize(passages, rule_hits([p.text for p in passages])), [r["category"]
                                                                         for r in rows]


def fit(prepared: list[Prepared], *, progress: Callable[[str], None] | None = None
        ) -> ClauseModel:
    """A model from ``prepared`` contracts, thresholds chosen on held-out contracts."""
    examples, example_categories = example_rows()
    model = ClauseModel(categories={}, trained_on=[p.name for p in prepared])
    for category in learnable_categories():
        if progress:
            progress(category)
        with_positives = [p for p in prepared if p.positives[category].any()]
        if len(with_positives) < MIN_CONTRACTS:
            model.categories[category] = CategoryModel()  # the rules decide
            continue
        scores, truth = [], []
        for held_out in range(len(prepared)):
            rest = prepared[:held_out] + prepared[held_out + 1:]
            inner = _fit_category(rest, category, examples, example_categories)
            scores.append(_best_score(inner, prepared[held_out].features))
            truth.append(category in prepared[held_out].present)
        final = _fit_category(prepared, category, examples, example_categories)
        final.threshold = choose_threshold(scores, truth)
        final.trust_rules = rules_are_precise(prepared, category)
        model.categories[category] = final
    return model


def rules_are_precise(prepared: list[Prepared], category: str) -> bool:
    """Whether the category's rules, where they matched in these contracts, were right at least
    ``RULE_PRECISION`` of the time (and at least once): then a rule match is evidence enough,
    beside the classifier's score."""
    matched = [p for p in prepared if category in p.ruled]
    right = sum(category in p.present for p in matched)
    return right >= 1 and right >= RULE_PRECISION * len(matched)


def _fit_category(prepared: list[Prepared], category: str, examples: sparse.csr_matrix,
                  example_categories: list[str]) -> CategoryModel:
    matrix = sparse.vstack([p.features for p in prepared] + [examples]).tocsr()
    labels = np.concatenate([p.positives[category] for p in prepared] +
                            [np.array([c == category for c in example_categories])])
    if labels.all() or not labels.any():
        return CategoryModel()
    regression = LogisticRegression(l1_ratio=1.0, solver="liblinear", C=REGULARISATION_C,
                                    class_weight="balanced", max_iter=1000)
    columns = np.unique(matrix.indices)  # liblinear's time grows with the unused columns too
    regression.fit(matrix[:, columns], labels)
    coefficients = regression.coef_[0]
    nonzero = np.flatnonzero(coefficients)
    return CategoryModel(bias=float(regression.intercept_[0]),
                         weights={int(columns[i]): float(coefficients[i]) for i in nonzero})


def _best_score(model: CategoryModel, features: sparse.csr_matrix) -> float:
    if features.shape[0] == 0:
        return float("-inf")
    weights = np.zeros(features.shape[1])
    for index, weight in model.weights.items():
        weights[index] = weight
    return float((features @ weights).max() + model.bias)


def choose_threshold(scores: list[float], truth: list[bool]) -> float | None:
    """The threshold with the best F1 over held-out contracts (ties: the higher threshold,
    which claims less); halfway to the next lower score, so a held-out score near it counts.
    None (the rules decide) when no held-out contract had the category, or when no threshold
    does better than calling every contract positive."""
    if not any(truth):
        return None
    ordered = sorted(set(scores), reverse=True)
    best, best_f1, claims_all = ordered[0], -1.0, False
    for index, threshold in enumerate(ordered):
        tp = sum(s >= threshold and t for s, t in zip(scores, truth, strict=True))
        fp = sum(s >= threshold and not t for s, t in zip(scores, truth, strict=True))
        fn = sum(s < threshold and t for s, t in zip(scores, truth, strict=True))
        f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        if f1 > best_f1:
            lower = ordered[index + 1] if index + 1 < len(ordered) else threshold - 1.0
            best, best_f1 = (threshold + max(lower, threshold - 1.0)) / 2, f1
            claims_all = index == len(ordered) - 1
    if claims_all and not all(truth):
        return None  # best when claiming every contract: the scores do not discriminate
    return round(best, 4)


def cross_validate(prepared: list[Prepared], *,
                   progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Leave-one-contract-out: each contract scored by a model (and thresholds) fitted to the
    others. Per contract: the learned categories predicted present; per category and overall:
    true/false positives and negatives, precision and recall (learned categories only)."""
    predictions: dict[str, dict[str, list[str]]] = {}
    for index, contract in enumerate(prepared):
        if progress:
            progress(contract.name)
        model = fit(prepared[:index] + prepared[index + 1:])
        decided = decide_categories(model, contract.passages,
                                    rule_hits([p.text for p in contract.passages]))
        predictions[contract.name] = {
            "present": sorted(c for c, d in decided.items() if d.present),
            "model_trained_on": model.trained_on}
    counts: dict[str, dict[str, int]] = {c: {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
                                         for c in learnable_categories()}
    for contract in prepared:
        found = set(predictions[contract.name]["present"])
        for category in learnable_categories():
            key = ("tp" if category in contract.present else "fp") if category in found else (
                "fn" if category in contract.present else "tn")
            counts[category][key] += 1
    return {"predictions": predictions, "counts": counts}


def _tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.casefold())


def _shingles(tokens: list[str]) -> set[tuple[str, ...]]:
    return {tuple(tokens[i:i + SHINGLE]) for i in range(max(0, len(tokens) - SHINGLE + 1))}


def _shingle_set(texts: list[str]) -> set[tuple[str, ...]]:
    marked: set[tuple[str, ...]] = set()
    for text in texts:
        for part in text.split("<omitted>"):
            marked |= _shingles(_tokens(part))
    return marked


def _share_inside(text: str, marked: set[tuple[str, ...]]) -> float:
    if not marked:
        return 0.0
    own = _shingles(_tokens(text))
    return len(own & marked) / len(own) if own else 0.0


def load_labelled(folder: Path, labels: list[dict[str, Any]]) -> list[LabelledContract]:
    """The labelled contracts of ``folder``: label rows with clause labels whose PDF is there,
    their pages read as the ingest stage reads them."""
    from agents.ingest import extract_pages
    from app.core.settings import get_settings

    contracts = []
    for row in labels:
        path = folder / row["file"]
        if not (row.get("clauses_present") or row.get("clauses_absent")) or not path.is_file():
            continue
        pages = [(p.number, p.text) for p in extract_pages(path, limits=get_settings().limits)]
        contracts.append(LabelledContract(row["file"], pages, set(row.get("clauses_present", [])),
                                          dict(row.get("clause_text") or {})))
    return contracts


def cross_validation_report(contracts: list[LabelledContract], *,
                            progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """``cross_validate`` with precision/recall per category and overall (micro), and macro
    recall over the categories present in at least one contract."""
    prepared = [prepare(c) for c in contracts]
    outcome = cross_validate(prepared, progress=progress)
    per_category = {name: _scores(c) for name, c in outcome["counts"].items()}
    total = {k: sum(c[k] for c in outcome["counts"].values()) for k in ("tp", "fp", "fn", "tn")}
    recalls = [s["recall"] for s in per_category.values() if s["recall"] is not None]
    return {"contracts": [c.name for c in contracts], "method": "leave-one-contract-out",
            "categories": "the learned (non-field) categories",
            "overall": _scores(total),
            "macro_recall": round(sum(recalls) / len(recalls), 4) if recalls else None,
            "per_category": per_category, "predictions": outcome["predictions"]}


def _scores(c: dict[str, int]) -> dict[str, Any]:
    precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else None
    recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else None
    f1 = (2 * precision * recall / (precision + recall)
          if precision and recall else None)
    return {**c, "precision": None if precision is None else round(precision, 4),
            "recall": None if recall is None else round(recall, 4),
            "f1": None if f1 is None else round(f1, 4)}
