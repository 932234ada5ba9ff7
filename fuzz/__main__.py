"""``python -m fuzz``: atheris (libFuzzer) sessions on the fuzz targets, with a summary.

Examples::

    python -m fuzz --seconds 600                    # both targets, 300 s each
    python -m fuzz --target gzip --seconds 60
    python -m fuzz --target inflated --keep-going   # restart after each finding
    python -m fuzz --target inflated --replay build/fuzz/inflated/crash-...

Each session runs in a child process. Working corpora, artifacts and logs go to
``build/fuzz/<target>/``. An input that breaks the contract (``fuzz.contract``), raises,
runs past ``--timeout`` seconds or pushes the process past ``--rss-limit-mb`` ends the
session and is saved there as ``crash-*``, ``timeout-*`` or ``oom-*``; turn it into a
fixture under ``tests/data/fuzz/`` and a test. The summary line per target gives the
executions, the seconds and the findings, for ``docs/robustness.md``.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import re
import subprocess
import sys
import time

from .seeds import REPO, write_seeds

TARGETS = ("inflated", "gzip")


def _arguments(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    p = argparse.ArgumentParser(
        prog="python -m fuzz", description="Fuzz vitalproc.read against its failure contract."
    )
    p.add_argument("--target", choices=(*TARGETS, "all"), default="all")
    p.add_argument(
        "--seconds",
        type=int,
        default=600,
        help="total run time (split evenly between targets for 'all')",
    )
    p.add_argument("--timeout", type=int, default=10, help="per-input time limit, s")
    p.add_argument("--rss-limit-mb", type=int, default=1536)
    p.add_argument("--max-len", type=int, default=1 << 17, help="largest input, bytes")
    p.add_argument("--workdir", default=str(REPO / "build" / "fuzz"))
    p.add_argument(
        "--keep-going",
        action="store_true",
        help="after a finding, start a new session until the time is spent",
    )
    p.add_argument(
        "--replay",
        nargs="+",
        metavar="INPUT",
        help="run these inputs once each (a finding, a corpus file) and stop",
    )
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return p.parse_known_args(argv)


def main(argv: list[str]) -> int:
    args, libfuzzer_options = _arguments(argv)
    if args.child or args.replay:
        return _session(args, libfuzzer_options)
    targets = TARGETS if args.target == "all" else (args.target,)
    worst = 0
    for target in targets:
        worst = max(worst, _drive(args, target, args.seconds // len(targets), libfuzzer_options))
    return worst


def _drive(args: argparse.Namespace, target: str, seconds: int, options: list[str]) -> int:
    """Run sessions of one target for ``seconds``; print and log the summary."""
    work = pathlib.Path(args.workdir) / target
    work.mkdir(parents=True, exist_ok=True)
    log = work / "fuzz.log"
    runs, findings, rc = 0, [], 0
    start = time.monotonic()
    while (left := int(seconds - (time.monotonic() - start))) > 0:
        before = set(work.glob("*-*"))
        cmd = [
            sys.executable,
            "-m",
            "fuzz",
            "--child",
            "--target",
            target,
            "--seconds",
            str(left),
            "--timeout",
            str(args.timeout),
            "--rss-limit-mb",
            str(args.rss_limit_mb),
            "--max-len",
            str(args.max_len),
            "--workdir",
            args.workdir,
            *options,
        ]
        with open(log, "a") as out:
            out.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(cmd)}\n")
            out.flush()
            offset = out.tell()
            rc = subprocess.call(cmd, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
        text = log.read_text(errors="replace")[offset:]
        counts = re.findall(r"stat::number_of_executed_units: (\d+)", text)
        runs += int(counts[-1]) if counts else 0
        new = sorted(
            p.name
            for p in set(work.glob("*-*")) - before
            if p.name.split("-")[0] in ("crash", "timeout", "oom", "slow")
        )
        findings += new
        if rc == 0 or not args.keep_going:
            break
        if not new:  # no artifact: the session itself failed; do not spin
            break
    elapsed = time.monotonic() - start
    line = (
        f"{target}: {runs} executions in {elapsed:.0f} s "
        f"({runs / max(elapsed, 1e-9):.0f}/s), findings: {len(findings)}"
        + "".join(f"\n  {work / f}" for f in findings)
    )
    print(line)
    with open(work / "summary.log", "a") as out:
        out.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {line}\n")
    return rc


def _session(args: argparse.Namespace, options: list[str]) -> int:
    import atheris

    # Imported under instrumentation, before the oracle imports them, so that atheris
    # sees their branches (the compiled walk itself is not instrumented).
    with atheris.instrument_imports(include=["vitalproc"]):
        pass
    from . import contract

    kind = "inflated" if args.target == "all" else args.target
    work = pathlib.Path(args.workdir) / kind
    corpus, seeds = work / "corpus", work / "seeds"
    corpus.mkdir(parents=True, exist_ok=True)
    write_seeds(seeds, kind)

    def one_input(data: bytes) -> None:
        contract.check(data[1:], kind, data[0] if data else 0)

    argv = [
        sys.argv[0],
        f"-timeout={args.timeout}",
        f"-rss_limit_mb={args.rss_limit_mb}",
        f"-max_len={args.max_len}",
        f"-artifact_prefix={work}{os.sep}",
        "-print_final_stats=1",
        *options,
    ]
    if args.replay:
        argv += args.replay
    else:
        argv += [f"-max_total_time={args.seconds}", str(corpus), str(seeds)]
    atheris.Setup(argv, one_input)
    atheris.Fuzz()
    return 0  # pragma: no cover - atheris.Fuzz exits the process


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
