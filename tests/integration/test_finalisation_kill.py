"""A suite run killed at each step of its finalisation never passes for a finished, intact, CONFORMANT run.

The run is a real `pytest` of the suite (in a process of its own, forked: tests/support/suite_process.py),
signed with a lab key, on a DUT profile that claims only the mandatory PICS (so the run is complete, CONFORMANT,
with the cases of joining, attributes and key establishment alone). A small plugin, loaded with ``-p`` from
the test's own folder (nothing in the product knows about it), numbers every step of the session's end, each
``os.replace`` of an output and the journal's end record, and dies with ``os._exit`` (no flush, no cleanup,
as SIGKILL) at step k. A control run first lists the steps, then the run is repeated once per step.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest

from harness.results import read_journal
from reports.__main__ import main
from reports.manifest import keygen
from tests.support.suite_process import ROOT, run_pytest, suite_env

KILLED = 137

KILLER = textwrap.dedent('''
    """Dies at one numbered step of the session's end (KILL_AT; 0: never), logging every step to KILL_LOG."""
    import os

    import pytest

    from harness.results import Journal

    _count = 0


    def _step(name):
        global _count
        _count += 1
        with open(os.environ["KILL_LOG"], "a") as log:
            log.write(f"{_count} {name}\\n")
        if _count == int(os.environ["KILL_AT"]):
            os._exit(137)


    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_sessionfinish(session, exitstatus):
        _step("session finishing")  # before pytest writes junit.xml
        real_replace, real_close = os.replace, Journal.close

        def replace(source, target, *args, **kwargs):
            _step(f"replace {os.path.basename(target)}")
            return real_replace(source, target, *args, **kwargs)

        def close(self, *args, **kwargs):
            _step("journal end record")
            return real_close(self, *args, **kwargs)

        os.replace, Journal.close = replace, close
        yield
''')


def _minimal_profile(path: Path) -> Path:
    """The reference IHD's profile claiming only what an SE device must (Basic server, Key Establishment): every
    other cluster, attribute and command claim (SE.MSG.C.C00.Rx too) false."""
    text = (ROOT / "profiles" / "dut" / "sim-ihd.yaml").read_text()

    def unclaim(match: re.Match[str]) -> str:
        key = match.group(1).strip()
        return match.group(0) if key.startswith(("SE.BASIC.S", "SE.KE.")) else f"{match.group(1)}: false"

    path.write_text(re.sub(r"(\n  SE\.[A-Za-z0-9.]+): true", unclaim, text))
    return path


def _run(tmp_path: Path, name: str, kill_at: int, lab_key: Path, profile: Path) -> tuple[Path, list[str], int]:
    (tmp_path / "killer").mkdir(exist_ok=True)
    (tmp_path / "killer" / "se_kill_finalisation.py").write_text(KILLER)
    artifacts, log = tmp_path / name, tmp_path / f"{name}.steps"
    env = suite_env({"KILL_AT": str(kill_at), "KILL_LOG": str(log), "SE_REPORTS_LAB_KEY": str(lab_key)})
    done = run_pytest("-p", "se_kill_finalisation", "-q", f"--artifacts={artifacts}", f"--profile={profile}",
                      env=env, pythonpath=[tmp_path / "killer", ROOT], timeout=600)
    steps = [line.split(" ", 1)[1] for line in log.read_text().splitlines()] if log.exists() else []
    return artifacts, steps, done.returncode


def _verify(capsys: pytest.CaptureFixture[str], run_dir: Path, *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["verify", str(run_dir), *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.slow
def test_a_kill_at_any_finalisation_step_never_passes_for_a_finished_intact_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SE_REPORTS_TRUST", raising=False)
    lab_key, lab_pub = tmp_path / "lab.key", tmp_path / "lab.pub"
    keygen(lab_key, lab_pub)
    profile = _minimal_profile(tmp_path / "minimal-ihd.yaml")

    control, steps, code = _run(tmp_path, "control", 0, lab_key, profile)
    assert code == 0, f"the control run is not CONFORMANT (exit {code})"
    assert json.loads((control / "summary.json").read_text())["overall"]["verdict"] == "CONFORMANT"
    assert _verify(capsys, control, "--public-key", str(lab_pub))[0] == 0
    # The order that makes kills safe: JUnit final, then the sealed end record, then report and manifest.
    milestones = ["session finishing", "replace junit.xml", "journal end record", "replace summary.json",
                  "replace report.html", "replace MANIFEST.json", "replace MANIFEST.sig"]
    positions = [max(i for i, step in enumerate(steps) if step == m) if m == "replace junit.xml"
                 else steps.index(m) for m in milestones]
    assert positions == sorted(positions), steps
    sealed_at = steps.index("journal end record") + 1  # a kill at a later step comes after the seal

    for k, step in enumerate(steps, 1):
        run_dir, _, code = _run(tmp_path, f"kill-{k}", k, lab_key, profile)
        where = f"killed at step {k} ({step})"
        assert code == KILLED, where
        # As the kill left it, the directory never verifies: no manifest (exit 2), or no signature (exit 1).
        for pinned in (["--public-key", str(lab_pub)], []):
            verified, out = _verify(capsys, run_dir, *pinned)
            assert verified in (1, 2), f"{where}: verify {pinned} exit {verified}: {out}"
            assert f"{run_dir}: intact" not in out, where
        # Rebuilt, it is CONFORMANT only when the journal was sealed before the kill, and even then it is not
        # the lab's report unless the lab signs it again.
        assert main(["build", str(run_dir)]) == 0, where
        contents = read_journal(run_dir)
        verdict = json.loads((run_dir / "summary.json").read_text())["overall"]["verdict"]
        if k <= sealed_at:
            assert contents.chain.status == "unsealed" and not contents.complete, where
            assert verdict != "CONFORMANT", where
        else:
            assert contents.chain.intact and contents.chain.signer != "unsigned", where
            assert verdict == "CONFORMANT", where
        verified, out = _verify(capsys, run_dir, "--public-key", str(lab_pub))
        assert verified == 1 and "MANIFEST.sig missing" in out, where
