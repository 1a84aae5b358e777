"""The `company-exporter` command: the cyclic garbage collector is off before the exporter loads."""

import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.unit

# Notes whether the collector is on when the exporter's cli module is imported, then runs the
# command as its console script does, with no export in the environment (so it stops at once).
_PROBE = textwrap.dedent("""
    import gc, sys
    from company_exporter.entrypoint import main

    class NotesTheCollector:
        def find_spec(self, name, path, target=None):
            if name == "company_exporter.cli":
                print(f"collector on when cli was imported: {gc.isenabled()}", flush=True)
            return None

    sys.meta_path.insert(0, NotesTheCollector())
    sys.argv = ["company-exporter"]
    main()
""")


def test_the_command_imports_and_runs_the_exporter_with_the_collector_off() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE],
        env={"TERMINATION_MESSAGE_PATH": "/dev/null"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.stdout.splitlines() == ["collector on when cli was imported: False"]
    # The exporter itself ran: it refused the missing export, as a bad request (never retried).
    assert done.returncode == 64, done.stderr
    assert "EXPORT_ID" in done.stderr
