"""``cohort``: inclusion rules over a clinical table, track presence and quality metrics,
and the exclusion flow a paper reports.

A rules file (TOML)::

    title = "Arterial pressure cohort"
    clinical = "clinical.csv"        # CSV or Parquet, one row per case (paths relative
    qc = "qc.parquet"                # to this file); qc: a table or a dataset folder
    caseid = "caseid"                # the case id column (default "caseid")

    [tracks]                         # names with fallbacks: the first present counts
    ART = ["SNUADC/ART", "SNUADC/FEM"]

    [[rule]]
    name = "Adults"
    require = "age >= 18"

    [[rule]]
    name = "Arterial line covering anaesthesia"
    require = "ART coverage >= 0.9 during anaesthesia and ART flatline < 0.05"

Every case of the clinical table starts in the cohort; rules apply in order, and a case
is counted at the first rule it fails. ``rules.py`` describes the conditions.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import rules as R
from .clinical import Clinical, read_clinical
from .errors import QualityInputError

RULE_KEYS = {"name", "require", "note"}
TOP_KEYS = {"title", "clinical", "qc", "caseid", "tracks", "rule"}


@dataclass
class Step:
    """One rule of the flow: how many cases it removed, and how many remain."""

    rule: str
    require: str
    removed: int
    remaining: int


@dataclass
class Cohort:
    """The included cases and the exclusion flow."""

    title: str
    start: int
    steps: list[Step]
    included: list[str]
    excluded: dict[str, str] = field(default_factory=dict)  # caseid -> first rule failed
    outputs: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "start": self.start,
            "steps": [vars(s) for s in self.steps],
            "included": len(self.included),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def to_text(self) -> str:
        width = max([len(s.rule) for s in self.steps] + [len("Cases")])
        lines = [self.title, "", f"{'Cases':<{width}}  {self.start:>8}"]
        for s in self.steps:
            lines.append(f"{s.rule:<{width}}  {-s.removed:>8}  {s.remaining:>8} remain")
        lines.append(f"{'Included':<{width}}  {len(self.included):>8}")
        return "\n".join(lines) + "\n"

    def to_markdown(self) -> str:
        lines = [
            f"# {self.title}",
            "",
            "| step | rule | excluded | remaining |",
            "|---|---|---:|---:|",
            f"| 0 | all cases |  | {self.start} |",
        ]
        for i, s in enumerate(self.steps, 1):
            rule = s.rule.replace("|", "\\|")
            require = s.require.replace("|", "\\|")
            lines.append(f"| {i} | {rule} (`{require}`) | {s.removed} | {s.remaining} |")
        lines.append(f"|  | **included** |  | **{len(self.included)}** |")
        return "\n".join(lines) + "\n"


# ---- the rules file --------------------------------------------------------------------


def _load_toml(path: str) -> dict[str, Any]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ModuleNotFoundError as exc:
            raise ImportError(
                "rules files need tomli on Python 3.10: pip install 'vitalproc[quality]'"
            ) from exc
    with open(path, "rb") as f:
        try:
            return tomllib.load(f)
        except tomllib.TOMLDecodeError as exc:
            raise QualityInputError(f"{path}: not valid TOML ({exc})") from None


def _check_rules(spec: Mapping[str, Any], path: str) -> list[dict[str, Any]]:
    unknown = set(spec) - TOP_KEYS
    if unknown:
        raise QualityInputError(
            f"{path}: unknown key(s) {', '.join(sorted(unknown))} "
            f"(known: {', '.join(sorted(TOP_KEYS))})"
        )
    tracks = spec.get("tracks", {})
    if not isinstance(tracks, dict) or not all(
        (isinstance(v, list) and v and all(isinstance(x, str) for x in v)) or isinstance(v, str)
        for v in tracks.values()
    ):
        raise QualityInputError(f"{path}: [tracks] maps a name to a list of track names")
    rules = spec.get("rule", [])
    if not isinstance(rules, list) or not rules:
        raise QualityInputError(f"{path}: no [[rule]] tables")
    for i, rule in enumerate(rules, 1):
        where = f"{path}: rule {i}"
        if not isinstance(rule, dict):
            raise QualityInputError(f"{where}: not a table")
        bad = set(rule) - RULE_KEYS
        if bad:
            raise QualityInputError(
                f"{where}: unknown key(s) {', '.join(sorted(bad))} "
                f"(known: {', '.join(sorted(RULE_KEYS))})"
            )
        if not isinstance(rule.get("require"), str) or not rule["require"].strip():
            raise QualityInputError(f"{where}: 'require' (the condition) is missing")
        rule.setdefault("name", rule["require"])
    return rules


# ---- the qc table, by case ------------------------------------------------------------


class QcIndex:
    """The metrics table by case and track, and what it can answer."""

    def __init__(self, source: Any):
        import pyarrow as pa

        from .runner import DATASET_TABLE
        from .table import read_table

        if isinstance(source, pa.Table):
            rows = source.to_pylist()
            self.name = "the qc table"
        else:
            path = os.fspath(source)
            if os.path.isdir(path):
                path = os.path.join(path, DATASET_TABLE)
            if not os.path.exists(path):
                raise QualityInputError(f"no qc table at {path!r} (run vitalproc qc first)")
            rows = read_table(path)
            self.name = path
            if not rows:
                import pyarrow.parquet as pq

                cols = pq.read_schema(path).names if path.endswith(".parquet") else []
                if "settings" not in cols:
                    raise QualityInputError(f"{path}: not a table vitalproc qc wrote")
        self.metrics: set[str] = set()
        self.by_case: dict[str, dict[str, dict[str, Any]]] = {}
        self.short: dict[str, set[str]] = {}  # track name without device -> full names
        self.tracks: set[str] = set()
        for row in rows:
            if not self.metrics:
                self.metrics = {
                    k
                    for k in row
                    if k
                    not in (
                        "caseid",
                        "track",
                        "kind",
                        "type",
                        "status",
                        "error",
                        "source",
                        "settings",
                    )
                }
            if row.get("track") is None or row.get("status") != "ok":
                continue
            caseid = str(row["caseid"])
            self.by_case.setdefault(caseid, {})[row["track"]] = row
            self.tracks.add(row["track"])
            self.short.setdefault(row["track"].rsplit("/", 1)[-1], set()).add(row["track"])

    def knows(self, name: str) -> bool:
        return name in self.tracks or name in self.short

    def find(self, caseid: str, candidates: Sequence[str]) -> dict[str, Any] | None:
        """The row of the first candidate track the case has."""
        have = self.by_case.get(caseid, {})
        for name in candidates:
            if name in have:
                return have[name]
            if "/" not in name:
                for full in sorted(self.short.get(name, ())):
                    if full in have:
                        return have[full]
        return None


# ---- evaluation --------------------------------------------------------------------------


def _validate(
    tree: Any, where: str, clinical: Clinical, qc: QcIndex | None, tracks: Mapping[str, list[str]]
) -> None:
    for leaf in R.names(tree):
        if isinstance(leaf, (R.Compare, R.IsNull)):
            if leaf.column not in clinical.columns:
                hint = (
                    " (a track? name it in [tracks] or check the qc table)"
                    if isinstance(leaf, R.Compare)
                    else ""
                )
                raise QualityInputError(
                    f"{where}: unknown column {leaf.column!r} in {clinical.name}{hint}; "
                    f"columns: {', '.join(clinical.columns)}"
                )
            continue
        if qc is None:
            raise QualityInputError(
                f"{where}: track conditions need a qc table (qc = ... in the rules, or --qc)"
            )
        if leaf.track not in tracks and not qc.knows(leaf.track):
            raise QualityInputError(
                f"{where}: unknown track {leaf.track!r}: not in "
                f"[tracks] and in no case of {qc.name}"
            )
        if isinstance(leaf, R.Metric) and leaf.metric not in qc.metrics:
            windows = sorted(m[len("coverage_") :] for m in qc.metrics if m.startswith("coverage_"))
            metrics = sorted(m for m in qc.metrics if not m.startswith("coverage_"))
            raise QualityInputError(
                f"{where}: unknown metric {leaf.metric!r} of {qc.name}; metrics: "
                f"{', '.join(metrics)}; windows (coverage ... during W): "
                f"{', '.join(windows) or 'none'}"
            )


def _evaluate(
    node: Any,
    row: Mapping[str, Any],
    caseid: str,
    qc: QcIndex | None,
    tracks: Mapping[str, list[str]],
) -> bool:
    if isinstance(node, R.BoolOp):
        if node.op == "and":
            return all(_evaluate(n, row, caseid, qc, tracks) for n in node.items)
        if node.op == "or":
            return any(_evaluate(n, row, caseid, qc, tracks) for n in node.items)
        return not _evaluate(node.items[0], row, caseid, qc, tracks)
    if isinstance(node, R.Compare):
        return R.compare(row.get(node.column), node.op, node.value)
    if isinstance(node, R.IsNull):
        value = row.get(node.column)
        null = value is None or (isinstance(value, float) and math.isnan(value))
        return null != node.negate
    assert qc is not None
    found = qc.find(caseid, tracks.get(node.track, [node.track]))
    if isinstance(node, R.Present):
        return found is not None
    return found is not None and R.compare(found.get(node.metric), node.op, node.value)


def cohort(
    rules: str | os.PathLike,
    output: str | os.PathLike | None = None,
    *,
    clinical: Any = None,
    qc: Any = None,
    figure: bool | None = None,
) -> Cohort:
    """Apply inclusion rules in order; the included cases and the exclusion flow.

    Parameters
    ----------
    rules
        The rules file (TOML; see the module's documentation and ``docs/quality.md``).
    output
        A folder for ``cases.csv`` (column ``caseid``: the included cases, what the
        window builder takes as its case list), ``excluded.csv`` (each excluded case and
        the first rule it failed), ``flow.txt``, ``flow.md``, ``flow.json`` and the
        diagram ``flow.png``/``flow.svg``.
    clinical, qc
        Override the rules file's ``clinical`` and ``qc`` (paths, or tables).
    figure
        Draw the diagram (needs matplotlib); None: when matplotlib is installed.

    Returns
    -------
    Cohort

    Raises
    ------
    QualityInputError
        A rule that does not parse or names an unknown column, metric or track; a
        clinical table without its case id column; unknown keys in the rules file.
    """
    path = os.fspath(rules)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such rules file: {path!r}")
    spec = _load_toml(path)
    steps_spec = _check_rules(spec, path)
    here = os.path.dirname(os.path.abspath(path))

    def located(value: Any, key: str) -> Any:
        if value is None:
            value = spec.get(key)
            if isinstance(value, str):
                value = os.path.join(here, value)
        return value

    clinical_src = located(clinical, "clinical")
    if clinical_src is None:
        raise QualityInputError(f"{path}: no clinical table (clinical = ... or --clinical)")
    caseid_col = spec.get("caseid", "caseid")
    table = read_clinical(clinical_src, caseid_col)
    qc_src = located(qc, "qc")
    index = QcIndex(qc_src) if qc_src is not None else None
    tracks = {k: [v] if isinstance(v, str) else list(v) for k, v in spec.get("tracks", {}).items()}

    def is_track(name: str) -> bool:
        return (
            name in tracks
            or (index is not None and index.knows(name))
            or (name not in table.columns)
        )

    trees = []
    for i, rule in enumerate(steps_spec, 1):
        where = f"{path}: rule {i} ({rule['name']!r})"
        tree = R.parse(rule["require"], is_track, where)
        _validate(tree, where, table, index, tracks)
        trees.append(tree)

    rows = table.table.to_pylist()
    remaining = [(cid, row) for cid, row in zip(table.caseids, rows) if cid is not None]
    start = len(remaining)
    steps, excluded = [], {}
    for rule, tree in zip(steps_spec, trees):
        kept = []
        for cid, row in remaining:
            if _evaluate(tree, row, cid, index, tracks):
                kept.append((cid, row))
            else:
                excluded[cid] = rule["name"]
        steps.append(Step(rule["name"], rule["require"], len(remaining) - len(kept), len(kept)))
        remaining = kept
    result = Cohort(
        str(spec.get("title", "Cohort")), start, steps, [cid for cid, _ in remaining], excluded
    )
    if output is not None:
        result.outputs = write_cohort(result, os.fspath(output), figure)
    return result


def write_cohort(result: Cohort, folder: str, figure: bool | None = None) -> list[str]:
    """Write a cohort's files into ``folder``; returns their paths."""
    from .._files import atomic_file

    os.makedirs(folder, exist_ok=True)
    written = []

    def put(name: str, text: str) -> None:
        target = os.path.join(folder, name)
        with atomic_file(target) as f:
            f.write(text.encode("utf-8"))
        written.append(target)

    put("cases.csv", "caseid\n" + "".join(f"{_csv(c)}\n" for c in result.included))
    put(
        "excluded.csv",
        "caseid,rule\n" + "".join(f"{_csv(c)},{_csv(r)}\n" for c, r in result.excluded.items()),
    )
    put("flow.txt", result.to_text())
    put("flow.md", result.to_markdown())
    put("flow.json", result.to_json())
    if figure is not False:
        from .flowchart import draw

        try:
            written += draw(result, folder)
        except ImportError:
            if figure:
                raise
    return written


def _csv(text: str) -> str:
    if any(c in text for c in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text
