"""Score extract output against gold files (the measures of ../shared/eval-dev/README.md).

Fields absent from the gold are not scored; every measure reports how many items it counted, so
a number is never read without its base.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from borderwatch.errors import EvalError
from borderwatch.models import LEGACY_TYPES

_WORD = re.compile(r"\w+", re.UNICODE)


def read_jsonl(path: Path) -> dict[str, dict[str, Any]]:
    """Lines keyed by id; a malformed line is an EvalError naming the file and line."""
    out: dict[str, dict[str, Any]] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise EvalError(f"cannot read: {exc.strerror}", source=str(path)) from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalError(f"invalid JSON: {exc.msg}", source=f"{path}:{number}") from exc
        if not isinstance(record, dict) or not isinstance(record.get("id"), str):
            raise EvalError("each line must be an object with a string id", source=f"{path}:{number}")
        out[record["id"]] = record
    return out


def _norm_type(value: str) -> str:
    return LEGACY_TYPES.get(value, value)


def _current(event: dict[str, Any]) -> bool:
    return not (event.get("historical") or event.get("negated") or event.get("hypothetical"))


def _prf(tp: int, fp: int, fn: int) -> dict[str, float | int]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "tp": tp, "fp": fp, "fn": fn}


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance on a 6371 km sphere (good to ~0.5% for these thresholds)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(a)))


def _shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    words = [w.lower() for w in _WORD.findall(text)]
    return Counter(tuple(words[i : i + n]) for i in range(max(0, len(words) - n + 1)))


@dataclass
class Report:
    """All measures that applied to one gold file."""

    gold: str
    documents: int
    predicted: int
    errors: int
    sections: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "gold": self.gold,
            "documents": self.documents,
            "predicted": self.predicted,
            "errors": self.errors,
            **self.sections,
        }


def _score_types(gold: dict[str, dict], pred: dict[str, dict]) -> dict[str, Any] | None:
    docs = [i for i, g in gold.items() if any("type" in e for e in g.get("events") or [])]
    if not docs:
        return None
    per_type: dict[str, Counter[str]] = {}
    actor_hits = actor_total = 0
    for doc_id in docs:
        gold_events = [e for e in gold[doc_id]["events"] if "type" in e]
        g_types = {_norm_type(e["type"]) for e in gold_events}
        p_events = [e for e in (pred.get(doc_id, {}).get("events") or []) if _current(e)]
        p_types = {_norm_type(e["type"]) for e in p_events}
        for t in g_types | p_types:
            c = per_type.setdefault(t, Counter())
            c["tp" if t in g_types and t in p_types else "fn" if t in g_types else "fp"] += 1
        for g in gold_events:
            codes = {a["code"] for a in g.get("actors") or [] if a.get("code")}
            matched = [p for p in p_events if _norm_type(p["type"]) == _norm_type(g["type"])]
            if codes and matched:
                actor_total += 1
                predicted = {a["code"] for p in matched for a in p.get("actors") or []}
                actor_hits += bool(codes & predicted)
    totals = Counter()
    for c in per_type.values():
        totals.update(c)
    by_type = {t: _prf(c["tp"], c["fp"], c["fn"]) for t, c in sorted(per_type.items())}
    scored = [v["f1"] for t, v in by_type.items() if per_type[t]["tp"] + per_type[t]["fn"]]
    return {
        "documents": len(docs),
        "micro": _prf(totals["tp"], totals["fp"], totals["fn"]),
        "macro_f1": round(sum(scored) / len(scored), 4) if scored else 0.0,
        "per_type": by_type,
        "actor_agreement": round(actor_hits / actor_total, 4) if actor_total else None,
        "actor_pairs": actor_total,
    }


def _score_type_any(gold: dict[str, dict], pred: dict[str, dict]) -> dict[str, Any] | None:
    positive = {i: g for i, g in gold.items() if any("type_any" in e for e in g.get("events") or [])}
    negative = [i for i, g in gold.items() if g.get("events") == []]
    if not positive and not negative:
        return None
    alarm_types = {t for g in positive.values() for e in g["events"] for t in e.get("type_any", [])}
    found = 0
    for doc_id, g in positive.items():
        p_types = {_norm_type(e["type"]) for e in pred.get(doc_id, {}).get("events") or [] if _current(e)}
        found += any(p_types & set(e["type_any"]) for e in g["events"] if "type_any" in e)
    quiet = sum(
        not any(
            _current(e) and _norm_type(e["type"]) in alarm_types
            for e in pred.get(doc_id, {}).get("events") or []
        )
        for doc_id in negative
    )
    return {
        "documents": len(positive),
        "found": found,
        "found_share": round(found / len(positive), 4) if positive else None,
        "non_event_documents": len(negative),
        "quiet_share": round(quiet / len(negative), 4) if negative else None,
    }


def _score_places(gold: dict[str, dict], pred: dict[str, dict]) -> dict[str, Any] | None:
    docs = [i for i, g in gold.items() if "places" in g]
    if not docs:
        return None
    tp = fp = fn = 0
    distances: list[float] = []
    for doc_id in docs:
        g_places = list(gold[doc_id]["places"])
        p_places = list(pred.get(doc_id, {}).get("places") or [])
        used: set[int] = set()
        for g in g_places:
            match = next(
                (
                    k
                    for k, p in enumerate(p_places)
                    if k not in used and p["start"] < g["end"] and g["start"] < p["end"]
                ),
                None,
            )
            if match is None:
                fn += 1
                continue
            used.add(match)
            tp += 1
            p = p_places[match]
            if None not in (g.get("lat"), g.get("lon")):
                if p.get("lat") is None or p.get("lon") is None:
                    distances.append(math.inf)
                else:
                    distances.append(haversine_km(g["lat"], g["lon"], p["lat"], p["lon"]))
        fp += len(p_places) - len(used)
    return {
        "documents": len(docs),
        **_prf(tp, fp, fn),
        "resolved_pairs": len(distances),
        "within_25km": round(sum(d <= 25 for d in distances) / len(distances), 4) if distances else None,
        "within_161km": round(sum(d <= 161 for d in distances) / len(distances), 4) if distances else None,
    }


def _score_event_places(gold: dict[str, dict], pred: dict[str, dict]) -> dict[str, Any] | None:
    distances: list[float] = []
    for doc_id, g in gold.items():
        for e in g.get("events") or []:
            place = e.get("place") or {}
            if place.get("lat") is None or place.get("lon") is None:
                continue
            best = math.inf
            for p in pred.get(doc_id, {}).get("events") or []:
                pp = p.get("place") or {}
                if _current(p) and pp.get("lat") is not None and pp.get("lon") is not None:
                    best = min(best, haversine_km(place["lat"], place["lon"], pp["lat"], pp["lon"]))
            distances.append(best)
    if not distances:
        return None
    return {
        "events": len(distances),
        "within_25km": round(sum(d <= 25 for d in distances) / len(distances), 4),
        "within_100km": round(sum(d <= 100 for d in distances) / len(distances), 4),
    }


def _score_dates(gold: dict[str, dict], pred: dict[str, dict]) -> dict[str, Any] | None:
    total = hits = 0
    for doc_id, g in gold.items():
        for e in g.get("events") or []:
            when = e.get("date") or {}
            if not when.get("start"):
                continue
            total += 1
            lo = date.fromisoformat(when["start"]) - timedelta(days=1)
            hi = date.fromisoformat(when.get("end") or when["start"]) + timedelta(days=1)
            for p in pred.get(doc_id, {}).get("events") or []:
                start = (p.get("date") or {}).get("start")
                if _current(p) and start and lo <= date.fromisoformat(start[:10]) <= hi:
                    hits += 1
                    break
    if not total:
        return None
    return {"events": total, "agreement": round(hits / total, 4)}


def _score_clean_text(gold: dict[str, dict], pred: dict[str, dict]) -> dict[str, Any] | None:
    docs = [i for i, g in gold.items() if isinstance(g.get("clean_text"), str)]
    if not docs:
        return None
    ps, rs, fs = [], [], []
    for doc_id in docs:
        g = _shingles(gold[doc_id]["clean_text"])
        p = _shingles(pred.get(doc_id, {}).get("clean_text") or "")
        overlap = sum((g & p).values())
        precision = overlap / sum(p.values()) if p else 0.0
        recall = overlap / sum(g.values()) if g else 0.0
        ps.append(precision)
        rs.append(recall)
        fs.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    n = len(docs)
    return {
        "documents": n,
        "precision": round(sum(ps) / n, 4),
        "recall": round(sum(rs) / n, 4),
        "f1": round(sum(fs) / n, 4),
    }


def _status_current(event: dict[str, Any]) -> bool:
    """Current news: not background, forecast, conditional or negated (articles' SOURCE.md)."""
    return _current(event) and not event.get("future")


def _codes(actors: list[dict[str, Any]] | None) -> set[str]:
    return {a["code"] for a in actors or [] if a.get("code")}


def _event_types(event: dict[str, Any]) -> set[str]:
    return {_norm_type(t) for t in [event["type"], *(event.get("alt_types") or [])]}


def _same_actor(gold_event: dict[str, Any], pred_event: dict[str, Any]) -> bool:
    """An actorless gold event matches on type alone; otherwise an actor code is shared."""
    codes = _codes(gold_event.get("actors"))
    return not codes or bool(codes & _codes(pred_event.get("actors")))


def _date_agrees(gold_event: dict[str, Any], pred_event: dict[str, Any]) -> bool | None:
    when = gold_event.get("date") or {}
    if not when.get("start"):
        return None
    start = (pred_event.get("date") or {}).get("start")
    if not start:
        return False
    lo = date.fromisoformat(when["start"]) - timedelta(days=1)
    hi = date.fromisoformat(when.get("end") or when["start"]) + timedelta(days=1)
    return lo <= date.fromisoformat(start[:10]) <= hi


def _place_agrees(gold_event: dict[str, Any], pred_event: dict[str, Any]) -> bool | None:
    """Within max(50 km, the gold radius) of the gold point, or in the same admin-1 region."""
    gold = gold_event.get("place") or {}
    if gold.get("lat") is None or gold.get("lon") is None:
        return None
    pred = pred_event.get("place") or {}
    if gold.get("admin1") and pred.get("admin1") == gold["admin1"]:
        return True
    if pred.get("lat") is None or pred.get("lon") is None:
        return False
    limit = max(50.0, float(gold.get("radius_km") or 0.0))
    return haversine_km(gold["lat"], gold["lon"], pred["lat"], pred["lon"]) <= limit


def _squash(text: str) -> str:
    return " ".join(text.split())


def _share(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def _score_articles(gold: dict[str, dict], pred: dict[str, dict]) -> dict[str, Any] | None:
    """Whole-article scoring (../shared/eval-dev/articles/SOURCE.md): current events matched
    one-to-one by type (or an alternative type) and a shared actor, history leaks, agreement of
    the matched events' fields, chrome removed and article evidence kept."""
    docs = [
        i for i, g in gold.items()
        if "removed_substrings" in g or any("evidence_text" in e for e in g.get("events") or [])
    ]
    if not docs:
        return None
    counts: Counter[str] = Counter()
    for doc_id in docs:
        g, p = gold[doc_id], pred.get(doc_id, {})
        g_events = g.get("events") or []
        p_current = [e for e in p.get("events") or [] if _status_current(e)]
        used: set[int] = set()
        for event in (e for e in g_events if _status_current(e)):
            counts["gold_current"] += 1
            match = next(
                (k for k, cand in enumerate(p_current)
                 if k not in used and _norm_type(cand["type"]) in _event_types(event)
                 and _same_actor(event, cand)),
                None,
            )
            if match is None:
                continue
            used.add(match)
            counts["matched"] += 1
            cand = p_current[match]
            recipients = _codes(event.get("recipients"))
            if recipients:
                counts["recipient_total"] += 1
                counts["recipient_hits"] += bool(recipients & _codes(cand.get("recipients")))
            stance = (event.get("claim") or {}).get("stance")
            if stance:
                counts["stance_total"] += 1
                counts["stance_hits"] += (cand.get("claim") or {}).get("stance") == stance
            for name, agrees in (("date", _date_agrees(event, cand)), ("place", _place_agrees(event, cand))):
                if agrees is not None:
                    counts[f"{name}_total"] += 1
                    counts[f"{name}_hits"] += agrees
        counts["predicted_current"] += len(p_current)
        background = [e for e in g_events if e.get("historical")]
        counts["history_leaks"] += sum(
            any(_norm_type(cand["type"]) in _event_types(h) and _same_actor(h, cand) for h in background)
            for k, cand in enumerate(p_current) if k not in used
        )
        clean = _squash(p.get("clean_text") or "")
        for chrome in g.get("removed_substrings") or []:
            if len(chrome) >= 12:
                counts["chrome_total"] += 1
                counts["chrome_removed"] += _squash(chrome) not in clean
        for event in g_events:
            if _status_current(event) and event.get("evidence_text"):
                counts["evidence_total"] += 1
                counts["evidence_kept"] += _squash(event["evidence_text"]) in clean
    return {
        "documents": len(docs),
        "gold_current": counts["gold_current"],
        "predicted_current": counts["predicted_current"],
        "matched": counts["matched"],
        "recall": _share(counts["matched"], counts["gold_current"]),
        "precision": _share(counts["matched"], counts["predicted_current"]),
        "history_leaks": counts["history_leaks"],
        **{
            f"{name}_agreement": _share(counts[f"{name}_hits"], counts[f"{name}_total"])
            for name in ("recipient", "stance", "date", "place")
        },
        "chrome_removed": _share(counts["chrome_removed"], counts["chrome_total"]),
        "evidence_kept": _share(counts["evidence_kept"], counts["evidence_total"]),
    }


SCORERS = {
    "event_types": _score_types,
    "event_found": _score_type_any,
    "places": _score_places,
    "event_places": _score_event_places,
    "event_dates": _score_dates,
    "clean_text": _score_clean_text,
    "articles": _score_articles,
}


def score(gold: dict[str, dict], pred: dict[str, dict], gold_name: str = "gold") -> Report:
    """Every measure whose gold fields are present."""
    report = Report(
        gold=gold_name,
        documents=len(gold),
        predicted=sum(1 for i in gold if i in pred),
        errors=sum(1 for i in gold if pred.get(i, {}).get("error")),
    )
    for name, scorer in SCORERS.items():
        result = scorer(gold, pred)
        if result is not None:
            report.sections[name] = result
    return report
