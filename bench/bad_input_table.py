"""Generate the README table "What postguard does with bad input" from the test corpus.

Runs every case of tests/badinputs.py through `postguard check DRAFT --out OUT` (in-process, the
real command line; an "unreadable" case runs the installed command in a child process, as the
test does, since root ignores permission bits) and writes one row per case between the table
markers in README.md: the input, the exit code, and the first line the user reads (the stderr
line for exit 2, the first blocking finding otherwise).
Usage: .venv/bin/python bench/bad_input_table.py [--write]
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from badinputs import CASES, Case, made_unreadable, unreadable_command  # noqa: E402
from postguard.cli import run  # noqa: E402

README = ROOT / "README.md"
START, END = "<!-- bad-input:start -->", "<!-- bad-input:end -->"
OUTCOME = {0: "checked normally", 1: "blocked", 2: "input error"}


def outcome(case: Case, folder: Path) -> tuple[int, str]:
    draft = case.build(folder / "in")
    args = ["check", str(draft), "--out", str(folder / "out"), "--format", "json"]
    if case.register:
        args += ["--register", str(case.register(folder / "reg"))]
    if case.unreadable is not None:
        target = draft if case.unreadable == "." else draft / case.unreadable
        with made_unreadable(target, case.unreadable_mode):
            done = subprocess.run(
                [*unreadable_command(), *args], capture_output=True, encoding="utf-8", check=False
            )
        code, out, err = done.returncode, done.stdout, done.stderr
    else:
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = run(args)
        out, err = stdout.getvalue(), stderr.getvalue()
    if code == 2:
        said = err.strip().replace(str(folder) + "/", "")
    elif code == 1:
        report = json.loads(out)
        said = next(f["message"] for f in report["findings"] if f["severity"] == "error")
        said = said.replace(str(folder) + "/", "")
    else:
        said = json.loads(out)["verdict"]
    return code, said


def main() -> int:
    rows = ["| input | exit | what the user is told |", "|---|---|---|"]
    for case in CASES:
        with tempfile.TemporaryDirectory() as tmp:
            code, said = outcome(case, Path(tmp))
        rows.append(f"| {case.what} | {code} ({OUTCOME[code]}) | {said.replace('|', '/')} |")
    table = "\n".join(rows)
    print(table)
    if "--write" in sys.argv[1:]:
        text = README.read_text(encoding="utf-8")
        head, _, rest = text.partition(START)
        _, _, tail = rest.partition(END)
        README.write_text(f"{head}{START}\n{table}\n{END}{tail}", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
